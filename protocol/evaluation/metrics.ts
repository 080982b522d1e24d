/**
 * Binary classification metrics on a held-out split. The guest holds the
 * labels, so it computes these; see PROTOCOL.md "Evaluation" for what the
 * hosts reveal to make that possible.
 *
 * Every rank-based metric comes from one table: the distinct scores in
 * descending order with the count of positives and negatives at each. It is
 * built by sorting the positive and negative scores separately with the
 * native numeric sort and merging them, which is O(n log n) and about
 * 0.2 s for a million rows; an index sort with a comparator is several times
 * slower.
 *
 * Ties are never broken arbitrarily. A group of rows sharing a score counts
 * as if its order were random, in expectation: AUC counts a tied
 * positive/negative pair as half correct (so AUC equals the trapezoidal area
 * under the ROC curve), and a top-k cut through a group takes that group's
 * positives pro rata. Results therefore do not depend on row order.
 *
 * Undefined values (AUC with one class only, anything on zero rows) are NaN.
 */

/** Labels are 0 or 1; scores are any real numbers (not NaN), larger meaning more likely positive. */
export type Values = ArrayLike<number>;

/** One top-k figure: the best-scored `rows` rows, a `fraction` of the population. */
export type TopK = { readonly fraction: number; readonly rows: number; readonly value: number };

/**
 * ROC points from (0, 0) to (1, 1); `thresholds[i]` is the score at or above
 * which a row is called positive (Infinity for the first point, null in JSON).
 */
export type RocCurve = { readonly fpr: number[]; readonly tpr: number[]; readonly thresholds: number[] };

/** Fraction of all positives found in the best-scored fraction `population[i]` of the rows. */
export type GainCurve = { readonly population: number[]; readonly captured: number[] };

/** @internal Distinct scores, descending, with their positive and negative counts. */
type RankTable = {
  readonly scores: Float64Array;
  readonly positives: Uint32Array;
  readonly negatives: Uint32Array;
  readonly totalPositives: number;
  readonly totalNegatives: number;
};

export const DEFAULT_FRACTIONS: readonly number[] = Object.freeze([0.01, 0.05, 0.1, 0.2]);

function checkLengths(scores: Values, labels: Values): void {
  if (scores.length !== labels.length) throw new RangeError(`got ${scores.length} scores for ${labels.length} labels`);
}

function labelAt(labels: Values, i: number): 0 | 1 {
  const label = labels[i];
  if (label !== 0 && label !== 1) throw new RangeError(`labels[${i}] is ${label}; binary metrics need 0 or 1`);
  return label;
}

function scoreAt(scores: Values, i: number): number {
  const score = scores[i] ?? Number.NaN;
  if (Number.isNaN(score)) throw new RangeError(`scores[${i}] is NaN`);
  return score;
}

function rankTable(scores: Values, labels: Values): RankTable {
  checkLengths(scores, labels);
  let totalPositives = 0;
  for (let i = 0; i < labels.length; i++) totalPositives += labelAt(labels, i);
  const pos = new Float64Array(totalPositives);
  const neg = new Float64Array(labels.length - totalPositives);
  for (let i = 0, p = 0, q = 0; i < labels.length; i++) {
    const s = scoreAt(scores, i);
    if (labels[i] === 1) pos[p++] = s;
    else neg[q++] = s;
  }
  pos.sort();
  neg.sort();
  const out = {
    scores: new Float64Array(labels.length),
    positives: new Uint32Array(labels.length),
    negatives: new Uint32Array(labels.length),
  };
  let groups = 0;
  // Merge from the top; === treats −0 and +0 as one score, as the metrics should.
  for (let i = pos.length - 1, j = neg.length - 1; i >= 0 || j >= 0; groups++) {
    const v = Math.max(i >= 0 ? (pos[i] ?? 0) : -Infinity, j >= 0 ? (neg[j] ?? 0) : -Infinity);
    let p = 0;
    let q = 0;
    for (; i >= 0 && pos[i] === v; i--) p++;
    for (; j >= 0 && neg[j] === v; j--) q++;
    out.scores[groups] = v;
    out.positives[groups] = p;
    out.negatives[groups] = q;
  }
  return {
    scores: out.scores.subarray(0, groups),
    positives: out.positives.subarray(0, groups),
    negatives: out.negatives.subarray(0, groups),
    totalPositives,
    totalNegatives: neg.length,
  };
}

function aucOf(t: RankTable): number {
  let above = 0;
  let correct = 0;
  for (let g = 0; g < t.scores.length; g++) {
    const p = t.positives[g] ?? 0;
    correct += (t.negatives[g] ?? 0) * (above + p / 2);
    above += p;
  }
  return correct / (t.totalPositives * t.totalNegatives);
}

function ksOf(t: RankTable): number {
  if (t.totalPositives === 0 || t.totalNegatives === 0) return Number.NaN;
  let tp = 0;
  let fp = 0;
  let best = 0;
  for (let g = 0; g < t.scores.length; g++) {
    tp += t.positives[g] ?? 0;
    fp += t.negatives[g] ?? 0;
    best = Math.max(best, Math.abs(tp / t.totalPositives - fp / t.totalNegatives));
  }
  return best;
}

/** Positives among the best `rows[i]` rows (ascending), cutting tied groups pro rata. */
function capturedAt(t: RankTable, rows: readonly number[]): number[] {
  const out: number[] = [];
  let g = 0;
  let seen = 0;
  let found = 0;
  for (const k of rows) {
    for (; g < t.scores.length; g++) {
      const size = (t.positives[g] ?? 0) + (t.negatives[g] ?? 0);
      if (seen + size > k) break;
      seen += size;
      found += t.positives[g] ?? 0;
    }
    const size = (t.positives[g] ?? 0) + (t.negatives[g] ?? 0);
    out.push(size === 0 ? found : found + ((t.positives[g] ?? 0) * (k - seen)) / size);
  }
  return out;
}

/** k for a top-fraction cut: round(fraction·n), at least one row, at most n. */
function topRows(fraction: number, n: number): number {
  if (!(fraction > 0 && fraction <= 1)) throw new RangeError(`a top-k fraction must be in (0, 1], got ${fraction}`);
  return Math.min(n, Math.max(1, Math.round(fraction * n)));
}

function topK(t: RankTable, fractions: readonly number[], value: (captured: number, rows: number) => number): TopK[] {
  const n = t.totalPositives + t.totalNegatives;
  const rows = fractions.map((f) => topRows(f, n));
  const order = rows.map((_, i) => i).sort((a, b) => (rows[a] ?? 0) - (rows[b] ?? 0));
  const captured = capturedAt(
    t,
    order.map((i) => rows[i] ?? 0),
  );
  const byInput = new Array<number>(rows.length);
  order.forEach((i, r) => (byInput[i] = captured[r] ?? 0));
  return fractions.map((fraction, i) => ({
    fraction,
    rows: rows[i] ?? 0,
    value: value(byInput[i] ?? 0, rows[i] ?? 0),
  }));
}

function liftOf(t: RankTable, fractions: readonly number[]): TopK[] {
  const baseRate = t.totalPositives / (t.totalPositives + t.totalNegatives);
  return topK(t, fractions, (captured, rows) => captured / rows / baseRate);
}

function recallOf(t: RankTable, fractions: readonly number[]): TopK[] {
  return topK(t, fractions, (captured) => captured / t.totalPositives);
}

function gainOf(t: RankTable, points: number): GainCurve {
  if (!Number.isInteger(points) || points < 1)
    throw new RangeError(`gain curve points must be a positive integer, got ${points}`);
  const n = t.totalPositives + t.totalNegatives;
  const population = Array.from({ length: points + 1 }, (_, i) => i / points);
  const captured = capturedAt(
    t,
    population.map((x) => Math.round(x * n)),
  ).map((c) => c / t.totalPositives);
  return { population, captured };
}

function rocOf(t: RankTable, maxPoints: number): RocCurve {
  if (!Number.isInteger(maxPoints) || maxPoints < 2)
    throw new RangeError(`ROC maxPoints must be an integer of at least 2, got ${maxPoints}`);
  const count = t.scores.length + 1;
  // Evenly spaced groups, always keeping (0, 0) and (1, 1); with distinct scores a group is one row.
  const keep =
    count <= maxPoints
      ? Array.from({ length: count }, (_, i) => i)
      : Array.from({ length: maxPoints }, (_, j) => Math.round((j * (count - 1)) / (maxPoints - 1)));
  const roc = { fpr: [] as number[], tpr: [] as number[], thresholds: [] as number[] };
  let tp = 0;
  let fp = 0;
  for (let point = 0, g = 0; point < keep.length; point++) {
    const upTo = keep[point] ?? 0;
    for (; g < upTo; g++) {
      tp += t.positives[g] ?? 0;
      fp += t.negatives[g] ?? 0;
    }
    roc.fpr.push(fp / t.totalNegatives);
    roc.tpr.push(tp / t.totalPositives);
    roc.thresholds.push(upTo === 0 ? Infinity : (t.scores[upTo - 1] ?? 0));
  }
  return roc;
}

/** Area under the ROC curve: P(score of a random positive > score of a random negative) + ½·P(tie). */
export function auc(scores: Values, labels: Values): number {
  return aucOf(rankTable(scores, labels));
}

/** Kolmogorov–Smirnov statistic: the largest gap between the score CDFs of positives and negatives. */
export function ks(scores: Values, labels: Values): number {
  return ksOf(rankTable(scores, labels));
}

/** Mean binary cross-entropy, with probabilities clipped to [1e−15, 1 − 1e−15] so one confident miss stays finite. */
export function logLoss(probabilities: Values, labels: Values): number {
  checkLengths(probabilities, labels);
  const eps = 1e-15;
  let sum = 0;
  for (let i = 0; i < labels.length; i++) {
    const p = Math.min(1 - eps, Math.max(eps, scoreAt(probabilities, i)));
    sum -= labelAt(labels, i) === 1 ? Math.log(p) : Math.log(1 - p);
  }
  return sum / labels.length;
}

/** Share of rows classified correctly when `probability >= threshold` means positive. */
export function accuracy(probabilities: Values, labels: Values, threshold = 0.5): number {
  checkLengths(probabilities, labels);
  let correct = 0;
  for (let i = 0; i < labels.length; i++)
    if ((scoreAt(probabilities, i) >= threshold ? 1 : 0) === labelAt(labels, i)) correct++;
  return correct / labels.length;
}

/**
 * Lift in the best-scored `fraction` of rows (k = round(fraction·n), at least
 * 1): the positive rate there over the overall positive rate. A tied group cut
 * by the boundary contributes its positives pro rata.
 */
export function liftAtK(scores: Values, labels: Values, fractions: readonly number[] = DEFAULT_FRACTIONS): TopK[] {
  return liftOf(rankTable(scores, labels), fractions);
}

/** Share of all positives found in the best-scored `fraction` of rows; k and ties as in {@link liftAtK}. */
export function recallAtK(scores: Values, labels: Values, fractions: readonly number[] = DEFAULT_FRACTIONS): TopK[] {
  return recallOf(rankTable(scores, labels), fractions);
}

/** Cumulative gain at `points + 1` evenly spaced population fractions 0, 1/points, …, 1 (k = round(x·n)). */
export function gainCurve(scores: Values, labels: Values, points = 100): GainCurve {
  return gainOf(rankTable(scores, labels), points);
}

/** The ROC curve, one point per distinct score, thinned to at most `maxPoints` evenly spaced points for charts. */
export function rocCurve(scores: Values, labels: Values, maxPoints = 200): RocCurve {
  return rocOf(rankTable(scores, labels), maxPoints);
}

export type BinaryReportOptions = {
  /** Probability at or above which a row is called positive, for accuracy. @default 0.5 */
  readonly threshold?: number;
  /** Population fractions for lift@k and recall@k. @default [0.01, 0.05, 0.1, 0.2] */
  readonly fractions?: readonly number[];
  /** Intervals of the gain curve. @default 100 */
  readonly gainPoints?: number;
  /** Most points kept on the ROC curve. @default 200 */
  readonly rocPoints?: number;
};

/** Every binary metric for one set of predictions; plain numbers and arrays, so it serialises as JSON. */
export type BinaryReport = {
  readonly rows: number;
  readonly positives: number;
  readonly auc: number;
  readonly ks: number;
  readonly logLoss: number;
  readonly accuracy: number;
  readonly threshold: number;
  readonly liftAtK: TopK[];
  readonly recallAtK: TopK[];
  readonly gain: GainCurve;
  readonly roc: RocCurve;
};

/** All binary metrics from predicted probabilities, sorting once. */
export function binaryReport(probabilities: Values, labels: Values, options: BinaryReportOptions = {}): BinaryReport {
  const threshold = options.threshold ?? 0.5;
  const fractions = options.fractions ?? DEFAULT_FRACTIONS;
  const table = rankTable(probabilities, labels);
  return {
    rows: labels.length,
    positives: table.totalPositives,
    auc: aucOf(table),
    ks: ksOf(table),
    logLoss: logLoss(probabilities, labels),
    accuracy: accuracy(probabilities, labels, threshold),
    threshold,
    liftAtK: liftOf(table, fractions),
    recallAtK: recallOf(table, fractions),
    gain: gainOf(table, options.gainPoints ?? 100),
    roc: rocOf(table, options.rocPoints ?? 200),
  };
}

export {
  confusionMatrix,
  multiclassReport,
  predictClasses,
  type ClassMetrics,
  type MulticlassReport,
  type ScoreMatrix,
} from './multiclass-metrics.ts';
