/**
 * Losses the trees fit, as first and second derivatives of the loss in the
 * raw score: logistic (binary), softmax (K classes, one tree per class per
 * round), squared (a continuous label). Also each loss's starting score and
 * its value on held-out rows for early stopping.
 */
export type Objective = 'logistic' | 'softmax' | 'squared';

const sigmoid = (z: number): number => 1 / (1 + Math.exp(-z));

/** The score every row starts from: the log-odds, log class priors or mean of the training labels. */
export function baseScores(
  objective: Objective,
  labels: Float64Array,
  rows: Uint32Array,
  outputs: number,
): Float64Array {
  const base = new Float64Array(outputs);
  if (rows.length === 0) return base;
  if (objective === 'squared') {
    let sum = 0;
    for (const r of rows) sum += labels[r] ?? 0;
    base[0] = sum / rows.length;
    return base;
  }
  const counts = new Float64Array(Math.max(outputs, 2));
  for (const r of rows) counts[labels[r] ?? 0] = (counts[labels[r] ?? 0] ?? 0) + 1;
  const p = (k: number): number => Math.min(1 - 1e-6, Math.max(1e-6, (counts[k] ?? 0) / rows.length));
  if (objective === 'logistic') base[0] = Math.log(p(1) / (1 - p(1)));
  else for (let k = 0; k < outputs; k++) base[k] = Math.log(p(k));
  return base;
}

/**
 * g and h of output k at each of `rows` (row indices into F, which is
 * rows × outputs), written at the same indices of g and h.
 */
export function gradients(
  objective: Objective,
  F: Float64Array,
  outputs: number,
  k: number,
  labels: Float64Array,
  rows: Uint32Array,
  g: Float64Array,
  h: Float64Array,
): void {
  for (const r of rows) {
    const y = labels[r] ?? 0;
    if (objective === 'squared') {
      g[r] = (F[r] ?? 0) - y;
      h[r] = 1;
    } else if (objective === 'logistic') {
      const p = sigmoid(F[r] ?? 0);
      g[r] = p - y;
      h[r] = Math.max(p * (1 - p), 1e-16);
    } else {
      const p = softmaxAt(F, r, outputs, k);
      g[r] = p - (y === k ? 1 : 0);
      h[r] = Math.max(p * (1 - p), 1e-16);
    }
  }
}

function softmaxAt(F: Float64Array, r: number, outputs: number, k: number): number {
  let max = -Infinity;
  for (let j = 0; j < outputs; j++) max = Math.max(max, F[r * outputs + j] ?? 0);
  let sum = 0;
  for (let j = 0; j < outputs; j++) sum += Math.exp((F[r * outputs + j] ?? 0) - max);
  return Math.exp((F[r * outputs + k] ?? 0) - max) / sum;
}

/** Mean loss over `rows`: log-loss, cross-entropy or squared error. */
export function meanLoss(
  objective: Objective,
  F: Float64Array,
  outputs: number,
  labels: Float64Array,
  rows: Uint32Array,
): number {
  if (rows.length === 0) return 0;
  let sum = 0;
  for (const r of rows) {
    const y = labels[r] ?? 0;
    if (objective === 'squared') sum += ((F[r] ?? 0) - y) ** 2;
    else if (objective === 'logistic') {
      const z = F[r] ?? 0;
      // log(1 + e^z) − y·z, stable for large |z|.
      sum += Math.max(z, 0) + Math.log1p(Math.exp(-Math.abs(z))) - y * z;
    } else sum -= Math.log(Math.max(softmaxAt(F, r, outputs, y), 1e-15));
  }
  return sum / rows.length;
}

/** Probabilities (or the prediction, for squared) of row r: `outputs` values. */
export function predictionsOf(objective: Objective, F: Float64Array, outputs: number, r: number): number[] {
  if (objective === 'squared') return [F[r] ?? 0];
  if (objective === 'logistic') return [sigmoid(F[r] ?? 0)];
  return Array.from({ length: outputs }, (_, k) => softmaxAt(F, r, outputs, k));
}
