/**
 * Per-party optimizers. Adam is coordinate-wise, so each party updating only
 * its own weights gives exactly the update a centralised Adam would make on
 * the joined parameter vector. State is plain data, so it can be checkpointed.
 */

export type OptimizerOptions = {
  /** @default 'adam' */
  readonly type?: 'adam' | 'sgd' | undefined;
  /** Step size at step 1. @default 0.05 */
  readonly learningRate?: number | undefined;
  /** How the step size falls with the step number t. @default 'none' */
  readonly decay?: 'none' | 'inverse-sqrt' | 'exponential' | undefined;
  /** For 'exponential': factor per epoch. @default 0.95 */
  readonly decayRate?: number | undefined;
  /** L2 penalty λ on weights (not the intercept): the loss gets λ/2·‖w‖². @default 1e-4 */
  readonly l2?: number | undefined;
  /** @default 0.9 */
  readonly beta1?: number | undefined;
  /** @default 0.999 */
  readonly beta2?: number | undefined;
  /** @default 1e-8 */
  readonly epsilon?: number | undefined;
};

export type Optimizer = { readonly [K in keyof OptimizerOptions]-?: Exclude<OptimizerOptions[K], undefined> };

export function compileOptimizer(options: OptimizerOptions = {}): Optimizer {
  const compiled: Optimizer = {
    type: options.type ?? 'adam',
    learningRate: options.learningRate ?? 0.05,
    decay: options.decay ?? 'none',
    decayRate: options.decayRate ?? 0.95,
    l2: options.l2 ?? 1e-4,
    beta1: options.beta1 ?? 0.9,
    beta2: options.beta2 ?? 0.999,
    epsilon: options.epsilon ?? 1e-8,
  };
  if (!(compiled.learningRate > 0)) throw new RangeError('learningRate must be positive');
  if (!(compiled.l2 >= 0)) throw new RangeError('l2 must be non-negative');
  return Object.freeze(compiled);
}

/** Plain-data optimizer state for one party's parameter vector. */
export type OptimizerState = { step: number; m: number[]; v: number[] };

export function initialState(size: number): OptimizerState {
  return { step: 0, m: new Array<number>(size).fill(0), v: new Array<number>(size).fill(0) };
}

export function learningRateAt(opt: Optimizer, step: number, epoch: number): number {
  switch (opt.decay) {
    case 'none':
      return opt.learningRate;
    case 'inverse-sqrt':
      return opt.learningRate / Math.sqrt(step);
    case 'exponential':
      return opt.learningRate * opt.decayRate ** epoch;
  }
}

/**
 * One update of `params` in place from the mean loss gradient `gradient`
 * (without the penalty). `penalised[k]` says whether L2 applies to params[k].
 */
export function applyUpdate(
  opt: Optimizer,
  state: OptimizerState,
  params: Float64Array,
  gradient: Float64Array,
  penalised: Uint8Array,
  epoch: number,
): void {
  state.step += 1;
  const lr = learningRateAt(opt, state.step, epoch);
  const c1 = 1 - opt.beta1 ** state.step;
  const c2 = 1 - opt.beta2 ** state.step;
  for (let k = 0; k < params.length; k++) {
    const g = (gradient[k] ?? 0) + (penalised[k] === 1 ? opt.l2 * (params[k] ?? 0) : 0);
    if (opt.type === 'sgd') {
      params[k] = (params[k] ?? 0) - lr * g;
      continue;
    }
    const m = opt.beta1 * (state.m[k] ?? 0) + (1 - opt.beta1) * g;
    const v = opt.beta2 * (state.v[k] ?? 0) + (1 - opt.beta2) * g * g;
    state.m[k] = m;
    state.v[k] = v;
    params[k] = (params[k] ?? 0) - (lr * (m / c1)) / (Math.sqrt(v / c2) + opt.epsilon);
  }
}
