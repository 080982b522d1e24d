/**
 * The `model:` block of a tree job (`family: trees`): the parameters users
 * know from XGBoost and LightGBM, with their defaults, and what a tree job
 * cannot combine with.
 */
import { z } from 'zod';
import type { JobSpecInput } from '../../protocol/job-spec.ts';

export const treesModelSchema = z.strictObject({
  family: z.literal('trees'),
  /** Boosting rounds (one tree per round, or one per class with several classes). @default 100 */
  rounds: z.number().int().min(1).max(2000).optional(),
  /** Depth of each tree. @default 4 */
  maxDepth: z.number().int().min(1).max(10).optional(),
  /** Shrinkage of each tree's leaf values. @default 0.1 */
  learningRate: z.number().positive().max(1).optional(),
  /** Quantile bins per numeric column, fitted by each party on its own training rows. @default 32 */
  maxBins: z.number().int().min(2).max(255).optional(),
  /** Minimum sum of second derivatives (hessian) in a child. @default 1 */
  minChildWeight: z.number().min(0).optional(),
  /** L2 regularisation of leaf values (XGBoost's λ). @default 1 */
  lambda: z.number().min(0).optional(),
  /** Minimum gain for a split (XGBoost's γ). @default 0 */
  gamma: z.number().min(0).optional(),
  /** Fraction of training rows each round grows on. @default 1 */
  subsample: z.number().positive().max(1).optional(),
  /** Stop after this many rounds without improvement on the early-stopping rows (0: never). @default 10 */
  earlyStoppingRounds: z.number().int().min(0).optional(),
  /** Fraction of the training rows the label holder sets aside to decide early stopping. @default 0.1 */
  validationFraction: z.number().min(0).max(0.5).optional(),
});

export type TreesOptions = {
  readonly rounds: number;
  readonly maxDepth: number;
  readonly learningRate: number;
  readonly maxBins: number;
  readonly minChildWeight: number;
  readonly lambda: number;
  readonly gamma: number;
  readonly subsample: number;
  readonly earlyStoppingRounds: number;
  readonly validationFraction: number;
};

export function treesOptions(model: unknown): TreesOptions {
  const m = treesModelSchema.partial().parse(model ?? {});
  return {
    rounds: m.rounds ?? 100,
    maxDepth: m.maxDepth ?? 4,
    learningRate: m.learningRate ?? 0.1,
    maxBins: m.maxBins ?? 32,
    minChildWeight: m.minChildWeight ?? 1,
    lambda: m.lambda ?? 1,
    gamma: m.gamma ?? 0,
    subsample: m.subsample ?? 1,
    earlyStoppingRounds: m.earlyStoppingRounds ?? 10,
    validationFraction: m.validationFraction ?? 0.1,
  };
}

/** Cross-field rules: what a tree job cannot be combined with (field, problem, fix). */
export function treesSpecProblem(input: JobSpecInput): readonly [string, string, string] | undefined {
  if (input.privacy?.dp !== undefined)
    return [
      'privacy.dp',
      'is set, but trees are not trained under differential privacy in this version',
      'remove privacy.dp, or use model: { family: lr } for a differentially private model',
    ];
  if (input.training?.warmStart !== undefined)
    return ['training.warmStart', 'is set, but a tree model does not warm-start', 'remove training.warmStart'];
  return undefined;
}
