/**
 * Logistic regression in a supervised job (hetero-lr, cold-start): this
 * party's features are standardised (fitted on its training rows) or taken
 * from a warm-start model, rows are clipped under differential privacy, the
 * model is trained under CKKS (one model, or K one-vs-rest), evaluated
 * federatedly on the validation rows, and returned as the model part's LR
 * fields (weights on the standardised columns, preprocessing, link).
 */
import { randomBytes } from 'node:crypto';
import { CkksEncryptor, CkksSuite } from '../../protocol/he/ckks.ts';
import { JobError } from '../../protocol/errors.ts';
import { gaussianFromBytes } from '../../protocol/random.ts';
import { binaryReport } from '../../protocol/evaluation/metrics.ts';
import { sigmoid } from '../../protocol/training/chebyshev-link.ts';
import { partialLogits } from '../../protocol/training/plan.ts';
import { clipRows, DpBudgetError, planDp, type DpOptions, type DpPlan } from '../../protocol/privacy/dp-plan.ts';
import { COORDINATOR } from '../../protocol/version.ts';
import { lrModel, type JobSpec } from '../../protocol/job-spec.ts';
import { buildMatrixAsync, type PartyMatrix } from '../../jobs/common/features.ts';
import type { JobChannel } from '../../party/channel.ts';
import type { SupervisedRun, TrainedModel } from '../family.ts';
import type { TrainedPart } from './train.ts';
import { classMajorWeights, evaluateMulticlassAsGuest, evaluateMulticlassAsHost, trainOutputs } from './one-vs-rest.ts';
import { guestOnlyBaseline } from './baseline.ts';
import { bestOwn, ownTreesMetrics, pick } from '../own-best.ts';
import { loadWarmStart } from './warm-start.ts';
import { addHostValidationScores } from './validation-scores.ts';
import { DP_PLAN, VALIDATION_SCORES } from './messages.ts';
import {
  checkRegressionSpec,
  evaluateRegressionAsGuest,
  labelScale,
  standardised,
  type LabelScale,
} from './regression.ts';

export async function trainSupervisedLr(run: SupervisedRun): Promise<TrainedModel> {
  const { job, spec, role, log } = run;
  const { channel } = job;
  const regression = role === 'guest' && run.labelType === 'continuous';
  if (regression) checkRegressionSpec(spec);
  const scale = regression && run.labels !== undefined ? labelScale(run.labels, run.train) : undefined;
  const warm =
    spec.warmStartJob === undefined
      ? undefined
      : await loadWarmStart(job.config.node.dataDir, channel.me, spec, run.dataset, run.aligned);
  const matrix =
    warm?.matrix ??
    (await buildMatrixAsync(
      run.dataset,
      run.datasetConfig,
      run.aligned,
      Uint32Array.from(run.train, (p) => run.aligned[p] ?? 0),
      { bins: lrModel(spec).bins },
    ));
  const suite = await CkksSuite.create(spec.ckks);
  const encryptor = new CkksEncryptor(suite, job.assignment.ckksPublicKey);
  try {
    const dp = spec.dp === undefined ? undefined : planPrivacy(channel, spec, run.train.length, matrix, log);
    const models = run.outputs === 1 ? '' : ` (one-vs-rest: ${run.outputs} models)`;
    run.progress(
      'training',
      `training on ${run.train.length} rows, ${matrix.columns} features (${run.validation.length} held out)${models}`,
    );
    const maxEpochs = spec.training.maxEpochs;
    const trainCtx = {
      channel,
      spec,
      suite,
      encryptor,
      crypto: job.crypto,
      X: matrix.X,
      columns: matrix.columns,
      train: run.train,
      dp,
      initialWeights: warm?.initialWeights,
      checkpoint: job.checkpoint?.training,
      objective: regression ? ('squared' as const) : ('logistic' as const),
      onEpoch: (epoch: number, loss: number | undefined, model?: { index: number; of: number }) =>
        run.onEpoch({ epoch, maxEpochs, loss, model }),
    };
    const targets =
      role !== 'guest'
        ? undefined
        : scale === undefined
          ? run.labels
          : standardised(run.labels ?? new Float64Array(0), scale);
    const parts = await trainOutputs(trainCtx, role, run.outputs, spec.decorrelate, targets);
    const part = parts[0] as TrainedPart;

    run.progress('evaluation', `evaluating on ${run.validation.length} held-out rows`);
    const evaluation = { matrix, parts, validation: run.validation, train: run.train };
    const labels = run.labels ?? new Float64Array(run.aligned.length);
    const summary =
      run.outputs > 1
        ? role === 'guest'
          ? await evaluateMulticlassAsGuest(channel, spec, evaluation, labels, run.classes ?? [])
          : evaluateMulticlassAsHost(channel, spec, evaluation)
        : scale !== undefined
          ? await evaluateRegressionAsGuest(
              channel,
              spec,
              matrix,
              part,
              run.validation,
              labels,
              scale,
              run.aligned.length,
              run.train,
            )
          : role === 'guest'
            ? await evaluateAsGuest(channel, spec, matrix, part, run.validation, labels, run.aligned.length, run.train)
            : evaluateAsHost(channel, spec, matrix, part, run.validation, dp);
    if (warm !== undefined) summary['warmStartFrom'] = warm.fromJob;
    if (dp !== undefined) {
      summary['dp'] = {
        epsilon: dp.epsilonSpent,
        delta: dp.delta,
        budget: dp.epsilon,
        noiseMultiplier: dp.noiseMultiplier,
        evaluationNoiseMultiplier: dp.evaluationNoiseMultiplier,
        clip: dp.clip,
        steps: dp.steps,
        samplingRate: dp.q,
      };
    }
    return { summary, model: modelFields(spec, role, matrix, parts, dp, run.classes, scale) };
  } finally {
    encryptor.dispose();
    suite.dispose();
  }
}

/** The LR fields of model-part.json (read by serving/model-part.ts and models/lr/warm-start.ts). */
function modelFields(
  spec: JobSpec,
  role: 'guest' | 'host',
  matrix: PartyMatrix,
  parts: readonly TrainedPart[],
  dp: DpPlan | undefined,
  classes: readonly string[] | undefined,
  scale: LabelScale | undefined,
): Record<string, unknown> {
  const part = parts[0] as TrainedPart;
  // One-vs-rest (cold start, K ≥ 3 classes): K weight vectors, class-major, and K intercepts.
  const weights =
    parts.length === 1
      ? { weights: [...part.weights], intercept: part.intercept }
      : {
          outputs: parts.length,
          multiclass: 'one-vs-rest',
          weights: [...classMajorWeights(parts)],
          intercepts: parts.map((p) => p.intercept),
          ...(role === 'guest' ? { classes: [...(classes ?? [])] } : {}),
        };
  return {
    featureNames: matrix.columnNames,
    ...weights,
    preprocess: matrix.spec,
    link: spec.training.link,
    // Rows were clipped to this L2 norm after preprocessing (DP jobs); scoring must do the same.
    rowClip: dp?.partyClip ?? null,
    // A regression (guest): predictions are (guest partial + host partials)·std + mean.
    ...(scale === undefined ? {} : { objective: 'squared', labelScale: scale }),
  };
}

/**
 * Plans differential privacy (every node derives the same plan), clips this
 * party's feature rows, and — at the guest — tells the coordinator the
 * training size so it can add the planned noise to every decryption.
 */
function planPrivacy(
  channel: JobChannel,
  spec: JobSpec,
  trainRows: number,
  matrix: PartyMatrix,
  log: SupervisedRun['log'],
): DpPlan {
  let plan: DpPlan;
  try {
    plan = planDp(
      spec.dp as DpOptions,
      trainRows,
      spec.training.batchSize,
      spec.training.maxEpochs,
      spec.parties.length,
    );
  } catch (error) {
    if (!(error instanceof DpBudgetError)) throw error;
    throw new JobError('JOB_STATE_CONFLICT', error.message, { publicMessage: error.message });
  }
  const clipped = clipRows(matrix.X, matrix.columns, plan.partyClip);
  log.info(
    { noiseMultiplier: plan.noiseMultiplier, epsilon: plan.epsilonSpent, clippedRows: clipped },
    'differential privacy planned',
  );
  if (channel.me === spec.guest.name) channel.post(COORDINATOR, DP_PLAN, 0, { trainRows });
  return plan;
}

async function evaluateAsGuest(
  channel: JobChannel,
  spec: JobSpec,
  matrix: PartyMatrix,
  part: TrainedPart,
  validation: Uint32Array,
  labels: Float64Array,
  aligned: number,
  train: Uint32Array,
): Promise<Record<string, unknown>> {
  const z = partialLogits(matrix.X, matrix.columns, validation, part.weights, part.intercept);
  if (spec.shareValidationScores) await addHostValidationScores(channel, spec, z, 1);
  const y = Int32Array.from(validation, (p) => labels[p] ?? 0);
  const probabilities = Float64Array.from(z, sigmoid);
  const metrics = binaryReport(probabilities, y);
  // The guest's own features alone, same rows: what federation added. (Row-clipped under DP like the federated model.)
  const alone = guestOnlyBaseline(matrix.X, matrix.columns, labels, train, validation, spec.training.optimizer.l2);
  const { auc, ks, logLoss, accuracy, liftAtK, recallAtK } = alone.metrics;
  // Compared with the better of the guest's own LR and trees, not the weaker.
  const trees =
    matrix.columns === 0
      ? {}
      : await ownTreesMetrics(matrix.X, matrix.columns, labels, train, validation, 'logistic', 1, String(spec.seed));
  const guestOnly = bestOwn(
    'logistic',
    { features: alone.features, metrics: { auc, ks, logLoss, accuracy, liftAtK, recallAtK } },
    { features: alone.features, metrics: pick(trees, ['auc', 'ks', 'logLoss', 'accuracy', 'liftAtK', 'recallAtK']) },
  );
  return {
    role: 'guest',
    rows: { aligned, train: train.length, validation: validation.length },
    epochs: part.epochs,
    losses: part.losses,
    metrics,
    guestOnly,
    validationScoresShared: spec.shareValidationScores,
  };
}

function evaluateAsHost(
  channel: JobChannel,
  spec: JobSpec,
  matrix: PartyMatrix,
  part: TrainedPart,
  validation: Uint32Array,
  dp: DpPlan | undefined,
): Record<string, unknown> {
  if (spec.shareValidationScores) {
    const u = partialLogits(matrix.X, matrix.columns, validation, part.weights);
    if (dp !== undefined) {
      // One row's score moves by at most 2·clip·‖w‖ when its features change within the clip.
      const sigma = dp.evaluationNoiseMultiplier * 2 * dp.partyClip * Math.hypot(...part.weights);
      // From the OS's generator: DP noise must not be predictable.
      for (let i = 0; i < u.length; i++) u[i] = (u[i] ?? 0) + sigma * gaussianFromBytes(randomBytes(16));
    }
    channel.post(spec.guest.name, VALIDATION_SCORES, 0, {
      values: new Uint8Array(u.buffer),
      rows: u.length,
      outputs: 1,
    });
  }
  return { role: 'host', epochs: part.epochs, features: matrix.columns };
}
