/**
 * Exact centralised logistic regression on pooled data: Newton's method
 * (IRLS) with an L2 penalty on the weights, solved by Cholesky. The accuracy
 * bar for every federated model: tests and benchmarks fit it on the same
 * joined columns and the same split, in process, and compare AUC.
 */

export type NewtonOptions = {
  /** L2 penalty λ on weights (not the intercept); the loss is mean log-loss + λ/2·‖w‖². @default 1e-4 */
  readonly l2?: number | undefined;
  /** @default 50 */
  readonly maxIterations?: number | undefined;
  /** Stop when the largest Newton step is below this. @default 1e-10 */
  readonly tolerance?: number | undefined;
};

export type CentralisedModel = {
  readonly weights: Float64Array;
  readonly intercept: number;
  readonly iterations: number;
};

/**
 * Fits on the given rows of a row-major matrix.
 * @param X row-major, `columns` per row
 * @param labels 0/1 per row of X
 */
export function fitLogisticNewton(
  X: Float64Array,
  columns: number,
  labels: ArrayLike<number>,
  rows: ArrayLike<number>,
  options: NewtonOptions = {},
): CentralisedModel {
  const l2 = options.l2 ?? 1e-4;
  const maxIterations = options.maxIterations ?? 50;
  const tolerance = options.tolerance ?? 1e-10;
  const p = columns + 1; // last parameter: intercept
  const beta = new Float64Array(p);
  const n = rows.length;
  const x = new Float64Array(p);
  let iterations = 0;
  for (; iterations < maxIterations; iterations++) {
    const gradient = new Float64Array(p);
    const hessian = new Float64Array(p * p);
    for (let r = 0; r < n; r++) {
      const row = rows[r] ?? 0;
      for (let j = 0; j < columns; j++) x[j] = X[row * columns + j] ?? 0;
      x[columns] = 1;
      let z = 0;
      for (let j = 0; j < p; j++) z += (x[j] ?? 0) * (beta[j] ?? 0);
      const mu = 1 / (1 + Math.exp(-z));
      const residual = mu - (labels[row] ?? 0);
      const weight = mu * (1 - mu);
      for (let j = 0; j < p; j++) {
        const xj = x[j] ?? 0;
        gradient[j] = (gradient[j] ?? 0) + residual * xj;
        const wx = weight * xj;
        for (let k = 0; k <= j; k++) hessian[j * p + k] = (hessian[j * p + k] ?? 0) + wx * (x[k] ?? 0);
      }
    }
    for (let j = 0; j < p; j++) {
      gradient[j] = (gradient[j] ?? 0) / n + (j < columns ? l2 * (beta[j] ?? 0) : 0);
      for (let k = 0; k <= j; k++) {
        const h = (hessian[j * p + k] ?? 0) / n + (j === k && j < columns ? l2 : 0);
        hessian[j * p + k] = h;
        hessian[k * p + j] = h;
      }
      // A tiny ridge keeps the intercept (and any constant column) solvable.
      hessian[j * p + j] = (hessian[j * p + j] ?? 0) + 1e-12;
    }
    const step = choleskySolve(hessian, gradient, p);
    const objective = (b: Float64Array): number => {
      let loss = 0;
      for (let r = 0; r < n; r++) {
        const row = rows[r] ?? 0;
        let z = b[columns] ?? 0;
        for (let j = 0; j < columns; j++) z += (X[row * columns + j] ?? 0) * (b[j] ?? 0);
        loss += (z > 0 ? z + Math.log1p(Math.exp(-z)) : Math.log1p(Math.exp(z))) - (labels[row] ?? 0) * z;
      }
      let penalty = 0;
      for (let j = 0; j < columns; j++) penalty += (b[j] ?? 0) ** 2;
      return loss / n + (l2 / 2) * penalty;
    };
    const largest = dampedStep(beta, step, gradient, objective);
    if (largest < tolerance) {
      iterations += 1;
      break;
    }
  }
  return { weights: beta.slice(0, columns), intercept: beta[columns] ?? 0, iterations };
}

/**
 * Newton's step with backtracking: `beta -= t·step` for the largest t in
 * 1, ½, ¼, … that lowers the objective enough (Armijo). A full step is
 * taken whenever it helps, which is every step on well-conditioned data;
 * on nearly separable data (a many-class label with tiny classes) the full
 * step overshoots and the undamped fit diverged (log-loss 33).
 * Returns the largest change of a parameter.
 */
export function dampedStep(
  beta: Float64Array,
  step: Float64Array,
  gradient: Float64Array,
  objective: (b: Float64Array) => number,
): number {
  const before = objective(beta);
  let slope = 0;
  for (let j = 0; j < beta.length; j++) slope += (gradient[j] ?? 0) * (step[j] ?? 0);
  const trial = new Float64Array(beta.length);
  let t = 1;
  for (let halvings = 0; halvings < 30; halvings++, t /= 2) {
    for (let j = 0; j < beta.length; j++) trial[j] = (beta[j] ?? 0) - t * (step[j] ?? 0);
    const after = objective(trial);
    if (Number.isFinite(after) && after <= before - 1e-4 * t * slope) break;
  }
  let largest = 0;
  for (let j = 0; j < beta.length; j++) {
    largest = Math.max(largest, Math.abs((beta[j] ?? 0) - (trial[j] ?? 0)));
    beta[j] = trial[j] ?? 0;
  }
  return largest;
}

/** Logits of a centralised model for the given rows. */
export function logits(
  model: CentralisedModel,
  X: Float64Array,
  columns: number,
  rows: ArrayLike<number>,
): Float64Array {
  const out = new Float64Array(rows.length);
  for (let r = 0; r < rows.length; r++) {
    const row = rows[r] ?? 0;
    let z = model.intercept;
    for (let j = 0; j < columns; j++) z += (X[row * columns + j] ?? 0) * (model.weights[j] ?? 0);
    out[r] = z;
  }
  return out;
}

/** Solves A·x = b for a symmetric positive-definite A (row-major p×p). */
export function choleskySolve(A: Float64Array, b: Float64Array, p: number): Float64Array {
  const L = new Float64Array(p * p);
  for (let i = 0; i < p; i++) {
    for (let j = 0; j <= i; j++) {
      let s = A[i * p + j] ?? 0;
      for (let k = 0; k < j; k++) s -= (L[i * p + k] ?? 0) * (L[j * p + k] ?? 0);
      if (i === j) {
        if (!(s > 0)) throw new RangeError('the matrix is not positive definite');
        L[i * p + i] = Math.sqrt(s);
      } else {
        L[i * p + j] = s / (L[j * p + j] ?? 1);
      }
    }
  }
  const y = new Float64Array(p);
  for (let i = 0; i < p; i++) {
    let s = b[i] ?? 0;
    for (let k = 0; k < i; k++) s -= (L[i * p + k] ?? 0) * (y[k] ?? 0);
    y[i] = s / (L[i * p + i] ?? 1);
  }
  const x = new Float64Array(p);
  for (let i = p - 1; i >= 0; i--) {
    let s = y[i] ?? 0;
    for (let k = i + 1; k < p; k++) s -= (L[k * p + i] ?? 0) * (x[k] ?? 0);
    x[i] = s / (L[i * p + i] ?? 1);
  }
  return x;
}
