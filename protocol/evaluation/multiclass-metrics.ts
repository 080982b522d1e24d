/**
 * Multi-class metrics from per-class scores or probabilities: the predicted
 * class is the arg-max of each row. One pass over the rows builds the
 * confusion matrix; everything else is read off it.
 */

/** Per-class figures. A class never predicted has precision 0; one never present has recall 0 (as scikit-learn's `zero_division=0`). */
export type ClassMetrics = {
  readonly precision: number;
  readonly recall: number;
  readonly f1: number;
  /** Rows whose true class this is. */
  readonly support: number;
};

export type MulticlassReport = {
  readonly rows: number;
  readonly classes: number;
  readonly accuracy: number;
  /** Unweighted mean of the per-class F1 over all `classes`, so rare classes count as much as common ones. */
  readonly macroF1: number;
  readonly perClass: ClassMetrics[];
  /** `confusion[t][p]`: rows of true class t predicted as class p. */
  readonly confusion: number[][];
};

/** n×k scores: row-major flat (`scores[i·k + c]`) or one array per row. */
export type ScoreMatrix = ArrayLike<number> | readonly ArrayLike<number>[];

function isRows(scores: ScoreMatrix): scores is readonly ArrayLike<number>[] {
  return scores.length > 0 && typeof scores[0] === 'object';
}

/**
 * The predicted class of each row: the arg-max of its k scores. Ties go to
 * the lowest class index, so the result never depends on anything but the scores.
 */
export function predictClasses(scores: ScoreMatrix, rows: number, k: number): Int32Array {
  const byRow = isRows(scores);
  if (!byRow && scores.length !== rows * k)
    throw new RangeError(
      `a flat score matrix for ${rows} rows and ${k} classes needs ${rows * k} values, got ${scores.length}`,
    );
  if (byRow && scores.length !== rows) throw new RangeError(`got ${scores.length} score rows for ${rows} labels`);
  const predicted = new Int32Array(rows);
  for (let i = 0; i < rows; i++) {
    const row = byRow ? scores[i] : undefined;
    if (row !== undefined && row.length !== k)
      throw new RangeError(`score row ${i} has ${row.length} values; expected ${k}`);
    let best = 0;
    let bestScore = -Infinity;
    for (let c = 0; c < k; c++) {
      const s = (row === undefined ? (scores as ArrayLike<number>)[i * k + c] : row[c]) ?? Number.NaN;
      if (Number.isNaN(s)) throw new RangeError(`the score of row ${i}, class ${c} is NaN`);
      if (s > bestScore || c === 0) {
        best = c;
        bestScore = s;
      }
    }
    predicted[i] = best;
  }
  return predicted;
}

/** Confusion matrix from true and predicted class indices in [0, k). */
export function confusionMatrix(labels: ArrayLike<number>, predicted: ArrayLike<number>, k: number): number[][] {
  if (labels.length !== predicted.length)
    throw new RangeError(`got ${predicted.length} predictions for ${labels.length} labels`);
  const confusion = Array.from({ length: k }, () => new Array<number>(k).fill(0));
  for (let i = 0; i < labels.length; i++) {
    const t = labels[i];
    if (t === undefined || !Number.isInteger(t) || t < 0 || t >= k)
      throw new RangeError(`labels[${i}] is ${t}; expected a class index in [0, ${k})`);
    const row = confusion[t] as number[];
    const p = predicted[i] ?? 0;
    row[p] = (row[p] ?? 0) + 1;
  }
  return confusion;
}

/**
 * Accuracy, macro-F1, per-class precision / recall / F1 and the confusion
 * matrix for `labels` (class indices in [0, k)) against `scores`.
 */
export function multiclassReport(scores: ScoreMatrix, labels: ArrayLike<number>, k: number): MulticlassReport {
  if (!Number.isInteger(k) || k < 2) throw new RangeError(`a multi-class report needs k ≥ 2 classes, got ${k}`);
  const rows = labels.length;
  const confusion = confusionMatrix(labels, predictClasses(scores, rows, k), k);
  let correct = 0;
  const perClass: ClassMetrics[] = [];
  for (let c = 0; c < k; c++) {
    const tp = confusion[c]?.[c] ?? 0;
    correct += tp;
    let support = 0;
    let predictedAs = 0;
    for (let o = 0; o < k; o++) {
      support += confusion[c]?.[o] ?? 0;
      predictedAs += confusion[o]?.[c] ?? 0;
    }
    const precision = predictedAs === 0 ? 0 : tp / predictedAs;
    const recall = support === 0 ? 0 : tp / support;
    const f1 = precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall);
    perClass.push({ precision, recall, f1, support });
  }
  return {
    rows,
    classes: k,
    accuracy: correct / rows,
    macroF1: perClass.reduce((sum, m) => sum + m.f1, 0) / k,
    perClass,
    confusion,
  };
}

/** Multi-class log-loss: mean −log p(true class), with p floored at 1e-15. */
export function multiclassLogLoss(p: Float64Array, y: Int32Array, classes: number): number {
  let sum = 0;
  for (let i = 0; i < y.length; i++) sum -= Math.log(Math.max(p[i * classes + (y[i] ?? 0)] ?? 0, 1e-15));
  return y.length === 0 ? Number.NaN : sum / y.length;
}

/** A multi-class job's validation figures as every family reports them: the report, log-loss and class names. */
export function multiclassSummary(
  p: Float64Array,
  y: Int32Array,
  k: number,
  classes: readonly string[],
): Record<string, unknown> {
  const r = multiclassReport(p, y, k);
  return {
    rows: r.rows,
    accuracy: r.accuracy,
    macroF1: r.macroF1,
    logLoss: multiclassLogLoss(p, y, k),
    perClass: r.perClass,
    confusion: r.confusion,
    classes: [...classes],
  };
}
