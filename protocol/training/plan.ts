/**
 * The training schedule every party derives identically from the job spec:
 * epochs, mini-batches in a seeded order, early stopping.
 */
import { compileLink, type Link, type LinkOptions } from './chebyshev-link.ts';
import { compileOptimizer, type Optimizer, type OptimizerOptions } from './optimizer.ts';
import { Random, seedFrom } from '../random.ts';

export type TrainingOptions = {
  /** Most passes over the training rows. @default 30 */
  readonly maxEpochs?: number | undefined;
  /** Rows per mini-batch (rounded to whole ciphertexts is not required). @default 4096 */
  readonly batchSize?: number | undefined;
  readonly optimizer?: OptimizerOptions | undefined;
  readonly link?: LinkOptions | undefined;
  /** Stop when the mean training loss improves by less than this fraction... @default 1e-4 */
  readonly tolerance?: number | undefined;
  /** ...for this many epochs in a row. @default 2 */
  readonly patience?: number | undefined;
};

export type TrainingPlan = {
  readonly maxEpochs: number;
  readonly batchSize: number;
  readonly optimizer: Optimizer;
  readonly link: Link;
  readonly tolerance: number;
  readonly patience: number;
};

export function compileTraining(options: TrainingOptions = {}): TrainingPlan {
  const plan = {
    maxEpochs: options.maxEpochs ?? 30,
    batchSize: options.batchSize ?? 4096,
    optimizer: compileOptimizer(options.optimizer),
    link: compileLink(options.link),
    tolerance: options.tolerance ?? 1e-4,
    patience: options.patience ?? 2,
  };
  if (!Number.isInteger(plan.maxEpochs) || plan.maxEpochs < 1)
    throw new RangeError('maxEpochs must be a positive integer');
  if (!Number.isInteger(plan.batchSize) || plan.batchSize < 1)
    throw new RangeError('batchSize must be a positive integer');
  return Object.freeze(plan);
}

/**
 * The mini-batches of one epoch: positions into the training rows, in an
 * order every party derives from the job seed alone.
 */
export function epochBatches(trainCount: number, batchSize: number, seed: string, epoch: number): Uint32Array[] {
  const order = new Random(seedFrom(seed, 'batches', String(epoch))).permutation(trainCount);
  const batches: Uint32Array[] = [];
  for (let start = 0; start < trainCount; start += batchSize)
    batches.push(order.slice(start, Math.min(trainCount, start + batchSize)));
  return batches;
}

/** True when the last `patience` epochs each improved the loss by less than `tolerance` (relative). */
export function converged(losses: readonly number[], tolerance: number, patience: number): boolean {
  if (losses.length <= patience) return false;
  for (let k = losses.length - patience; k < losses.length; k++) {
    const previous = losses[k - 1] ?? 0;
    const current = losses[k] ?? 0;
    if ((previous - current) / Math.max(Math.abs(previous), 1e-12) >= tolerance) return false;
  }
  return true;
}

/** Row-major dot products: out[r] = X[rows[r]] · w (+ bias). */
export function partialLogits(
  X: Float64Array,
  columns: number,
  rows: ArrayLike<number>,
  w: Float64Array,
  bias = 0,
): Float64Array {
  const out = new Float64Array(rows.length);
  for (let r = 0; r < rows.length; r++) {
    const base = (rows[r] ?? 0) * columns;
    let s = bias;
    for (let j = 0; j < columns; j++) s += (X[base + j] ?? 0) * (w[j] ?? 0);
    out[r] = s;
  }
  return out;
}

/** Column j of X restricted to `rows[from..to)`. */
export function columnSlice(
  X: Float64Array,
  columns: number,
  rows: ArrayLike<number>,
  j: number,
  from: number,
  to: number,
): Float64Array {
  const out = new Float64Array(to - from);
  for (let r = from; r < to; r++) out[r - from] = X[(rows[r] ?? 0) * columns + j] ?? 0;
  return out;
}
