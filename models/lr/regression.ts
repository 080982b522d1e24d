/**
 * Linear regression (a continuous label: spend, value, a grade) with the LR
 * family's machinery: the guest standardises its label on the training rows
 * and fits the squared loss through the same Chebyshev link (exact for a
 * quadratic), so hosts encrypt the same basis and train exactly as for a
 * binary label — they never learn which loss the guest fits. Evaluation
 * reports RMSE, MAE and R² on the label's own scale, beside the guest's own
 * columns alone (exact least squares on the same rows).
 */
import { JobError } from '../../protocol/errors.ts';
import { bestOwn, ownTreesMetrics } from '../own-best.ts';
import { regressionReport } from '../../protocol/evaluation/regression-metrics.ts';
import { fitLeastSquares } from '../../protocol/training/least-squares.ts';
import { logits } from '../../protocol/training/centralised.ts';
import { partialLogits } from '../../protocol/training/plan.ts';
import type { JobSpec } from '../../protocol/job-spec.ts';
import type { PartyMatrix } from '../../jobs/common/features.ts';
import type { JobChannel } from '../../party/channel.ts';
import type { TrainedPart } from './train.ts';
import { addHostValidationScores } from './validation-scores.ts';

/** Mean and standard deviation of the label on the training rows; the model predicts (y − mean) / std. */
export type LabelScale = { readonly mean: number; readonly std: number };

export function labelScale(labels: Float64Array, train: Uint32Array): LabelScale {
  let mean = 0;
  for (const p of train) mean += labels[p] ?? 0;
  mean /= Math.max(1, train.length);
  let variance = 0;
  for (const p of train) variance += ((labels[p] ?? 0) - mean) ** 2;
  const std = Math.sqrt(variance / Math.max(1, train.length));
  return { mean, std: std > 0 ? std : 1 };
}

export function standardised(labels: Float64Array, scale: LabelScale): Float64Array {
  return Float64Array.from(labels, (y) => (y - scale.mean) / scale.std);
}

/** Refuses what a continuous label cannot be used with yet. */
export function checkRegressionSpec(spec: JobSpec): void {
  if (spec.kind !== 'hetero-lr')
    throw new JobError(
      'JOB_STATE_CONFLICT',
      `a continuous label trains a regression in a hetero-lr job, not in a ${spec.kind} job. Fix: set kind: hetero-lr, or give the guest a binary or multiclass label`,
      { publicMessage: `a continuous label needs kind: hetero-lr` },
    );
  // The DP plan bounds each example's gradient through a residual in [−1, 1]; a squared loss has no such bound.
  if (spec.dp !== undefined)
    throw new JobError(
      'JOB_STATE_CONFLICT',
      'privacy.dp is not supported with a continuous label (the residual of a squared loss is unbounded, so no noise scale bounds one example). Fix: remove privacy.dp',
      { publicMessage: 'privacy.dp is not supported with a continuous label' },
    );
}

/** The guest's evaluation of a regression: federated predictions of the validation rows on the label's scale, and its own columns alone. */
export async function evaluateRegressionAsGuest(
  channel: JobChannel,
  spec: JobSpec,
  matrix: PartyMatrix,
  part: TrainedPart,
  validation: Uint32Array,
  labels: Float64Array,
  scale: LabelScale,
  aligned: number,
  train: Uint32Array,
): Promise<Record<string, unknown>> {
  const z = partialLogits(matrix.X, matrix.columns, validation, part.weights, part.intercept);
  if (spec.shareValidationScores) await addHostValidationScores(channel, spec, z, 1);
  const y = Float64Array.from(validation, (p) => labels[p] ?? 0);
  const metrics = regressionReport(
    Float64Array.from(z, (v) => v * scale.std + scale.mean),
    y,
  );
  const alone = fitLeastSquares(
    matrix.X,
    matrix.columns,
    standardised(labels, scale),
    train,
    spec.training.optimizer.l2,
  );
  const own = logits(alone, matrix.X, matrix.columns, validation);
  const lr = {
    features: matrix.columns,
    metrics: {
      ...regressionReport(
        Float64Array.from(own, (v) => v * scale.std + scale.mean),
        y,
      ),
    },
  };
  const trees =
    matrix.columns === 0
      ? {}
      : await ownTreesMetrics(matrix.X, matrix.columns, labels, train, validation, 'squared', 1, String(spec.seed));
  const guestOnly = bestOwn('squared', lr, { features: matrix.columns, metrics: trees });
  return {
    role: 'guest',
    objective: 'squared',
    rows: { aligned, train: train.length, validation: validation.length },
    epochs: part.epochs,
    losses: part.losses,
    metrics,
    guestOnly,
    labelScale: scale,
    validationScoresShared: spec.shareValidationScores,
  };
}
