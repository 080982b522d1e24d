/**
 * What the guest could build alone, honestly: both exact logistic (or
 * least-squares / multinomial) regression and gradient-boosted trees on its
 * own columns, same training rows, judged on the same validation rows; the
 * report shows the better of the two ("your data alone") and both. Trees
 * use the tree family's booster (the plaintext twin on one party), with the
 * job's tree options when it trains trees and the defaults otherwise.
 * Local only: nothing here crosses a party boundary.
 */
import { binaryReport } from '../protocol/evaluation/metrics.ts';
import { multiclassSummary } from '../protocol/evaluation/multiclass-metrics.ts';
import { regressionReport } from '../protocol/evaluation/regression-metrics.ts';
import { trainTwin } from './trees/core/twin.ts';
import { fitEdges } from './trees/core/binning.ts';
import type { Boosted } from './trees/core/booster.ts';
import { predictionsOf, type Objective } from './trees/core/objective.ts';
import { treesOptions, type TreesOptions } from './trees/spec.ts';

export type OwnModel = { readonly features: number; readonly metrics: Record<string, unknown> };

/** Trees on the guest's columns alone: the model (and the bin edges its split records refer to) and its validation metrics. */
export type OwnTrees = {
  readonly metrics: Record<string, unknown>;
  readonly model: Boosted;
  readonly edges: readonly Float64Array[];
};

/** The validation metrics of trees on the guest's columns alone. */
export async function ownTreesMetrics(...args: Parameters<typeof ownTrees>): Promise<Record<string, unknown>> {
  return (await ownTrees(...args)).metrics;
}

/** Trains trees on the guest's columns alone (the twin on one party, seed `<seed>|own`). */
export async function ownTrees(
  X: Float64Array,
  columns: number,
  labels: Float64Array,
  train: Uint32Array,
  validation: Uint32Array,
  objective: Objective,
  outputs: number,
  seed: string,
  options: TreesOptions = treesOptions({ family: 'trees' }),
  classes: readonly string[] = [],
): Promise<OwnTrees> {
  const m = await trainTwin({
    parties: [{ X, columns }],
    train,
    labels,
    objective,
    outputs,
    params: options,
    seed: `${seed}|own`,
  });
  return {
    metrics: validationMetrics(objective, m.scores, outputs, labels, validation, classes),
    model: m,
    // The twin's own binning, redone: the same fit on the same rows.
    edges: fitEdges(X, columns, train, options.maxBins),
  };
}

/** Metrics of raw scores on the validation rows, as every family reports them. */
export function validationMetrics(
  objective: Objective,
  scores: Float64Array,
  outputs: number,
  labels: Float64Array,
  validation: Uint32Array,
  classes: readonly string[],
): Record<string, unknown> {
  if (objective === 'squared')
    return {
      ...regressionReport(
        Float64Array.from(validation, (r) => scores[r] ?? 0),
        Float64Array.from(validation, (r) => labels[r] ?? 0),
      ),
    };
  if (objective === 'logistic') {
    const p = Float64Array.from(validation, (r) => predictionsOf(objective, scores, 1, r)[0] ?? 0);
    return {
      ...binaryReport(
        p,
        Int32Array.from(validation, (r) => labels[r] ?? 0),
      ),
    };
  }
  const p = Float64Array.from(Array.from(validation).flatMap((r) => predictionsOf(objective, scores, outputs, r)));
  const y = Int32Array.from(validation, (r) => labels[r] ?? 0);
  return multiclassSummary(p, y, outputs, classes);
}

/** Which own model is better on validation: AUC (binary), accuracy (classes), R² (continuous). */
export function bestOwn(
  objective: Objective,
  lr: OwnModel,
  trees: OwnModel,
): OwnModel & {
  readonly model: 'lr' | 'trees';
  readonly byModel: { readonly lr: Record<string, unknown>; readonly trees: Record<string, unknown> };
} {
  const key = objective === 'squared' ? 'r2' : objective === 'logistic' ? 'auc' : 'accuracy';
  const score = (m: OwnModel): number => {
    const v = m.metrics[key];
    return typeof v === 'number' ? v : -Infinity;
  };
  const best = score(trees) > score(lr) ? { model: 'trees' as const, ...trees } : { model: 'lr' as const, ...lr };
  return { ...best, byModel: { lr: lr.metrics, trees: trees.metrics } };
}

/** Only the named metrics (a report keeps what both own models have). */
export function pick(metrics: Record<string, unknown>, keys: readonly string[]): Record<string, unknown> {
  return Object.fromEntries(keys.filter((k) => k in metrics).map((k) => [k, metrics[k]]));
}
