/**
 * Multi-class LR (cold start): a segment (class) per user from the guest's
 * label and every party's features, trained on the PSI intersection. With
 * K ≥ 3 classes the model is one-vs-rest: K encrypted binary trainings, one
 * after the other in the same job (rounds numbered on), and class
 * probabilities p_c = σ(z_c) / Σₖ σ(z_k). With 2 classes it is one binary
 * model.
 *
 * Why one-vs-rest and not softmax: the Chebyshev link evaluates σ around the
 * guest's own logit with one host variable per expansion; a softmax residual
 * couples K host logits per row, which needs a K-variate expansion (K·m
 * ciphertexts become m^K). One-vs-rest with an accurate link reaches the
 * centralised multinomial fit (docs in README "Cold start"; measured in
 * test/e2e/cold-start.e2e.test.ts on FATE's vehicle data).
 *
 * What crosses: the guest tells the hosts K (the number of classes, not their
 * names; jobs/supervised/outputs.ts); everything else is the binary protocol K times. At evaluation the
 * hosts send K partial scores per validation row, as in the binary job.
 */
import { sigmoid } from '../../protocol/training/chebyshev-link.ts';
import { partialLogits } from '../../protocol/training/plan.ts';
import { correlatedWeights, decorrelateRows, fitDecorrelation } from '../../protocol/training/decorrelate.ts';
import { fitMultinomialNewton, multinomialProbabilities } from '../../protocol/training/centralised-multinomial.ts';
import { bestOwn, ownTreesMetrics } from '../own-best.ts';
import { multiclassSummary } from '../../protocol/evaluation/multiclass-metrics.ts';
import type { JobSpec } from '../../protocol/job-spec.ts';
import type { JobChannel } from '../../party/channel.ts';
import type { PartyMatrix } from '../../jobs/common/features.ts';
import { trainGuest, trainHost, type TrainContext, type TrainedPart } from './train.ts';
import { addHostValidationScores } from './validation-scores.ts';
import { VALIDATION_SCORES } from './messages.ts';

/**
 * Trains `outputs` models in turn (one-vs-rest when more than one), on this
 * party's decorrelated columns if the spec asks for it; every returned part
 * has weights on the standardised columns.
 * @param labels the guest's class index per aligned row (undefined at a host)
 */
export async function trainOutputs(
  ctx: TrainContext,
  role: 'guest' | 'host',
  outputs: number,
  decorrelate: boolean,
  labels: Float64Array | undefined,
): Promise<TrainedPart[]> {
  const d = decorrelate ? fitDecorrelation(ctx.X, ctx.columns, ctx.train) : undefined;
  const X = d === undefined ? ctx.X : decorrelateRows(d, ctx.X);
  const parts: TrainedPart[] = [];
  let roundsBefore = ctx.roundsBefore ?? 0;
  for (let c = 0; c < outputs; c++) {
    const at = {
      ...ctx,
      X,
      roundsBefore,
      onEpoch:
        outputs === 1
          ? ctx.onEpoch
          : (epoch: number, loss: number | undefined) => ctx.onEpoch(epoch, loss, { index: c, of: outputs }),
    };
    const y =
      labels === undefined ? undefined : outputs === 1 ? labels : Float64Array.from(labels, (v) => (v === c ? 1 : 0));
    const part = role === 'guest' ? await trainGuest(at, y as Float64Array) : await trainHost(at);
    roundsBefore = part.lastRound;
    parts.push(d === undefined ? part : { ...part, weights: correlatedWeights(d, part.weights) });
  }
  return parts;
}

/** Class weights, flat and class-major (`weights[c·columns + j]`), as the model part stores them. */
export function classMajorWeights(parts: readonly TrainedPart[]): Float64Array {
  const columns = parts[0]?.weights.length ?? 0;
  const out = new Float64Array(parts.length * columns);
  parts.forEach((p, c) => out.set(p.weights, c * columns));
  return out;
}

/** One-vs-rest class probabilities from per-class logits (row-major rows × K): σ(z_c) normalised per row. */
export function oneVsRestProbabilities(z: Float64Array, classes: number): Float64Array {
  const p = Float64Array.from(z, sigmoid);
  for (let base = 0; base < p.length; base += classes) {
    let sum = 0;
    for (let c = 0; c < classes; c++) sum += p[base + c] ?? 0;
    for (let c = 0; c < classes; c++) p[base + c] = sum > 0 ? (p[base + c] ?? 0) / sum : 1 / classes;
  }
  return p;
}

/** This party's per-class partial logits of the given rows, row-major rows × K. */
function classLogits(
  matrix: PartyMatrix,
  parts: readonly TrainedPart[],
  rows: Uint32Array,
  withIntercept: boolean,
): Float64Array {
  const K = parts.length;
  const z = new Float64Array(rows.length * K);
  parts.forEach((p, c) => {
    const u = partialLogits(matrix.X, matrix.columns, rows, p.weights, withIntercept ? p.intercept : 0);
    for (let i = 0; i < rows.length; i++) z[i * K + c] = u[i] ?? 0;
  });
  return z;
}

function report(p: Float64Array, y: Int32Array, classes: readonly string[]): Record<string, unknown> {
  return multiclassSummary(p, y, classes.length, classes);
}

export type MulticlassEvaluation = {
  readonly matrix: PartyMatrix;
  readonly parts: readonly TrainedPart[];
  readonly validation: Uint32Array;
  readonly train: Uint32Array;
};

/**
 * The guest's evaluation: federated class probabilities of the validation
 * rows (its own partials plus the hosts'), and what it could do alone — an
 * exact multinomial fit on its own columns, same rows and L2.
 */
export async function evaluateMulticlassAsGuest(
  channel: JobChannel,
  spec: JobSpec,
  e: MulticlassEvaluation,
  labels: Float64Array,
  classes: readonly string[],
): Promise<Record<string, unknown>> {
  const K = e.parts.length;
  const z = classLogits(e.matrix, e.parts, e.validation, true);
  if (spec.shareValidationScores) await addHostValidationScores(channel, spec, z, K);
  const y = Int32Array.from(e.validation, (p) => labels[p] ?? 0);
  const metrics = report(oneVsRestProbabilities(z, K), y, classes);
  const alone = fitMultinomialNewton(e.matrix.X, e.matrix.columns, labels, K, e.train, {
    l2: spec.training.optimizer.l2,
  });
  const lr = {
    features: e.matrix.columns,
    metrics: report(multinomialProbabilities(alone, e.matrix.X, e.matrix.columns, e.validation), y, classes),
  };
  const trees =
    e.matrix.columns === 0
      ? {}
      : await ownTreesMetrics(
          e.matrix.X,
          e.matrix.columns,
          labels,
          e.train,
          e.validation,
          'softmax',
          K,
          String(spec.seed),
          undefined,
          classes,
        );
  const guestOnly = bestOwn('softmax', lr, { features: e.matrix.columns, metrics: trees });
  const epochs = e.parts.map((p) => p.epochs);
  return {
    role: 'guest',
    rows: { aligned: labels.length, train: e.train.length, validation: e.validation.length },
    model: 'one-vs-rest',
    classes: [...classes],
    epochs: epochs.reduce((a, b) => a + b, 0),
    epochsByClass: epochs,
    losses: meanLosses(e.parts),
    lossesByClass: e.parts.map((p) => p.losses),
    metrics,
    guestOnly,
    validationScoresShared: spec.shareValidationScores,
  };
}

/** The mean one-vs-rest training loss per epoch (a class that stopped early counts with its last loss). */
function meanLosses(parts: readonly TrainedPart[]): number[] {
  const epochs = Math.max(0, ...parts.map((p) => p.losses.length));
  return Array.from(
    { length: epochs },
    (_, t) => parts.reduce((s, p) => s + (p.losses[Math.min(t, p.losses.length - 1)] ?? 0), 0) / parts.length,
  );
}

/** A host sends its K partial logits per validation row to the guest, and reports only aggregates. */
export function evaluateMulticlassAsHost(
  channel: JobChannel,
  spec: JobSpec,
  e: MulticlassEvaluation,
): Record<string, unknown> {
  if (spec.shareValidationScores) {
    const u = classLogits(e.matrix, e.parts, e.validation, false);
    channel.post(spec.guest.name, VALIDATION_SCORES, 0, {
      values: new Uint8Array(u.buffer),
      rows: e.validation.length,
      outputs: e.parts.length,
    });
  }
  return {
    role: 'host',
    model: 'one-vs-rest',
    outputs: e.parts.length,
    epochs: e.parts.reduce((s, p) => s + p.epochs, 0),
    features: e.matrix.columns,
  };
}
