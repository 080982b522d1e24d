/**
 * One job at one party, from assignment to saved model: setup (sealing
 * keys), alignment (PSI), the train/validation split, preprocessing,
 * encrypted training, evaluation, and the model part on disk. Progress goes
 * to the coordinator as JobEvents (aggregate facts only).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { tandem } from '../../protocol/generated/tandem.js';
import { compileJobSpec, jobSpecSchema, type JobSpec } from '../../protocol/job-spec.ts';
import { CkksEncryptor, CkksSuite } from '../../protocol/he/ckks.ts';
import { decodeBody } from '../../protocol/wire/envelope.ts';
import { JobError, TandemError } from '../../protocol/errors.ts';
import { gaussianFromBytes, stratifiedSplit } from '../../protocol/random.ts';
import { binaryReport } from '../../protocol/evaluation/metrics.ts';
import { sigmoid } from '../../protocol/training/chebyshev-link.ts';
import { partialLogits } from '../../protocol/training/plan.ts';
import { clipRows, DpBudgetError, planDp, type DpOptions, type DpPlan } from '../../protocol/privacy/dp-plan.ts';
import { COORDINATOR } from '../../protocol/version.ts';
import type { NodeIdentity } from '../../runtime/certs.ts';
import type { Logger } from '../../runtime/logger.ts';
import type { DatasetConfig, PartyConfig } from '../config.ts';
import type { JobChannel } from './channel.ts';
import { exchangeSealingKeys } from './setup.ts';
import { alignAsGuest, alignAsHost, readIndices, writeIndices } from './alignment.ts';
import { buildMatrixAsync, loadJobDataset, type PartyMatrix } from './features.ts';
import type { TrainedPart } from './hetero-lr.ts';
import { agreeOutputs, classMajorWeights, evaluateMulticlassAsGuest, evaluateMulticlassAsHost, trainOutputs } from './cold-start.ts';
import { guestOnlyBaseline } from './baseline.ts';
import { runLookalike } from './lookalike.ts';
import { runReach } from './reach.ts';
import { loadWarmStart } from './warm-start.ts';
import { nodeSecretSeed } from './node-secret.ts';
import { addHostValidationScores } from './validation-scores.ts';
import { durableSealingKeys, keepIn, type JobCheckpoint } from './checkpoint.ts';

export type JobContext = {
  readonly channel: JobChannel;
  readonly assignment: tandem.v1.JobAssignment;
  readonly config: PartyConfig;
  readonly identity: NodeIdentity;
  readonly log: Logger;
  /** Durable state for resuming after a restart (party/job/checkpoint.ts); hetero-LR jobs only. @default none */
  readonly checkpoint?: JobCheckpoint | undefined;
};

export type JobOutcome = { readonly modelFile: string; readonly summary: Record<string, unknown> };

function event(ctx: JobContext, e: tandem.v1.JobEvent.$Properties): void {
  ctx.channel.event(tandem.v1.JobEvent.encode(e).finish());
}

export async function runJob(ctx: JobContext): Promise<JobOutcome> {
  const { channel, config } = ctx;
  const spec = compileJobSpec(jobSpecSchema.parse(JSON.parse(ctx.assignment.specJson)));
  const me = spec.parties.find((p) => p.name === channel.me);
  if (me === undefined) throw new JobError('JOB_NOT_PARTICIPANT', `job ${channel.jobId} does not name ${channel.me}`);
  const datasetConfig = config.datasets[me.dataset];
  if (datasetConfig === undefined) {
    throw new JobError('JOB_STATE_CONFLICT', `job ${channel.jobId} asks for dataset "${me.dataset}", which ${channel.me}'s config does not define (it has: ${Object.keys(config.datasets).join(', ')})`, {
      publicMessage: `${channel.me} has no dataset "${me.dataset}"`,
    });
  }
  const log = ctx.log.child({ job: channel.jobId });
  const durable = ctx.checkpoint;
  const finished = durable?.kept<JobOutcome>('outcome');
  if (finished !== undefined) {
    // Done before a restart, but the coordinator asked again: repeat the answer.
    event(ctx, { phase: 'done', message: 'finished', summaryJson: JSON.stringify(publicSummary(finished.summary)), done: true });
    return finished;
  }
  if (durable?.resuming === true && spec.kind !== 'hetero-lr' && spec.kind !== 'cold-start') {
    throw new JobError('JOB_FAILED', `${channel.me} restarted during job ${channel.jobId}; a ${spec.kind} job cannot resume (hetero-lr and cold-start jobs can), submit it again`, { publicMessage: `${channel.me} restarted; a ${spec.kind} job cannot resume` });
  }
  if (durable?.resuming === true) log.info({ incarnation: durable.incarnation }, 'resuming the job from its checkpoint');
  const progress = (phase: string, message: string): void => {
    channel.phase = phase;
    log.info({ phase }, message);
    event(ctx, { phase, message });
  };

  progress('setup', `loading dataset "${me.dataset}"`);
  if (spec.kind === 'reach' || spec.kind === 'lookalike') {
    const dataset = await loadJobDataset(datasetConfig);
    await exchangeSealingKeys(channel, ctx.identity, spec.parties.map((p) => p.name));
    return spec.kind === 'reach' ? runReach(ctx, spec, me, dataset, progress) : runLookalike({ ctx, spec, me, dataset, datasetConfig, log, progress });
  }
  const { aligned, train, validation, splitSeed, warm, matrix, labels, labelClasses } = await prepareData(ctx, spec, me, datasetConfig, log, progress);
  const suite = await CkksSuite.create(spec.ckks);
  const encryptor = new CkksEncryptor(suite, ctx.assignment.ckksPublicKey);
  try {
    const dp = spec.dp === undefined ? undefined : planPrivacy(ctx, spec, train.length, matrix, log);
    const outputs = await keepIn(durable, 'outputs', () => agreeOutputs(channel, spec, me.role, labelClasses));
    const models = outputs === 1 ? '' : ` (one-vs-rest: ${outputs} models)`;
    progress('training', `training on ${train.length} rows, ${matrix.columns} features (${validation.length} held out)${models}`);
    const maxEpochs = spec.training.maxEpochs;
    const trainCtx = {
      channel, spec, suite, encryptor, X: matrix.X, columns: matrix.columns, train, dp, initialWeights: warm?.initialWeights, checkpoint: durable?.training,
      onEpoch: (epoch: number, loss: number | undefined, model?: { index: number; of: number }) => {
        log.info({ epoch, loss, model: model?.index }, 'epoch done');
        const which = model === undefined ? '' : `class ${model.index + 1}/${model.of}, `;
        event(ctx, {
          phase: 'training', epoch: (model?.index ?? 0) * maxEpochs + epoch, maxEpochs: (model?.of ?? 1) * maxEpochs, loss: loss ?? 0,
          message: loss === undefined ? `${which}epoch ${epoch}` : `${which}epoch ${epoch}: loss ${loss.toFixed(5)}`,
        });
      },
    };
    const parts = await trainOutputs(trainCtx, me.role, outputs, spec.decorrelate, me.role === 'guest' ? labels : undefined);
    const part = parts[0] as TrainedPart;

    progress('evaluation', `evaluating on ${validation.length} held-out rows`);
    const evaluation = { matrix, parts, validation, train };
    const summary = outputs > 1
      ? me.role === 'guest'
        ? await evaluateMulticlassAsGuest(channel, spec, evaluation, labels, labelClasses ?? [])
        : evaluateMulticlassAsHost(channel, spec, evaluation)
      : me.role === 'guest'
        ? await evaluateAsGuest(ctx, spec, matrix, part, validation, labels, aligned.length, train)
        : evaluateAsHost(ctx, spec, matrix, part, validation, dp);
    if (warm !== undefined) summary['warmStartFrom'] = warm.fromJob;
    if (dp !== undefined) {
      summary['dp'] = { epsilon: dp.epsilonSpent, delta: dp.delta, budget: dp.epsilon, noiseMultiplier: dp.noiseMultiplier, evaluationNoiseMultiplier: dp.evaluationNoiseMultiplier, clip: dp.clip, steps: dp.steps, samplingRate: dp.q };
    }
    const scoringKey = await agreeScoringKey(ctx, spec, me.role);
    const modelFile = await saveModelPart(ctx, spec, me.role, matrix, parts, summary, dp, splitSeed, scoringKey, labelClasses);
    await durable?.keep('outcome', () => ({ modelFile, summary }));
    event(ctx, { phase: 'done', message: 'finished', summaryJson: JSON.stringify(publicSummary(summary)), done: true });
    return { modelFile, summary };
  } finally {
    encryptor.dispose();
    suite.dispose();
  }
}

type JobData = {
  readonly aligned: Uint32Array;
  readonly train: Uint32Array;
  readonly validation: Uint32Array;
  readonly splitSeed: string | undefined;
  readonly warm: Awaited<ReturnType<typeof loadWarmStart>> | undefined;
  readonly matrix: PartyMatrix;
  /** Per aligned row (0 at a host). */
  readonly labels: Float64Array;
  readonly labelClasses: readonly string[] | undefined;
};

/**
 * Loads the dataset, aligns it by PSI, splits it and builds the feature
 * matrix. Only what training needs leaves: the raw dataset (at 1M rows × 100
 * columns, 800 MB of values and a million id strings) becomes garbage before
 * the first round instead of staying reachable from the job until it ends.
 */
async function prepareData(ctx: JobContext, spec: JobSpec, me: JobSpec['parties'][number], datasetConfig: DatasetConfig, log: Logger, progress: (phase: string, message: string) => void): Promise<JobData> {
  const { channel, config } = ctx;
  const durable = ctx.checkpoint;
  const dataset = await loadJobDataset(datasetConfig);
  if (me.role === 'guest' && dataset.labels === undefined) {
    throw new JobError('JOB_STATE_CONFLICT', `${channel.me} is the guest but dataset "${me.dataset}" has no label column; add \`label:\` to it in the node config`, { publicMessage: 'the guest dataset has no label' });
  }
  await durableSealingKeys(durable, channel, ctx.identity, spec.parties.map((p) => p.name));
  progress('psi', `aligning ${dataset.ids.length} ids by private set intersection`);
  // The guest reports PSI as steps (two per host) so followers can draw a bar.
  let psiSteps = 0;
  const psiStep = (message: string): void => {
    psiSteps += 1;
    log.info({ phase: 'psi' }, message);
    event(ctx, { phase: 'psi', message, epoch: psiSteps, maxEpochs: 2 * spec.hosts.length });
  };
  const hosts = spec.hosts.map((h) => h.name);
  // Secret to this node, per job and peer: a restarted PSI blinds exactly as before.
  const psiSeed = async (peer: string): Promise<Uint8Array> => Buffer.from(await nodeSecretSeed(config.node.dataDir, 'psi', `${channel.jobId}|${peer}`), 'hex');
  const align = (): Promise<Uint32Array> => me.role === 'guest'
    ? alignAsGuest(channel, dataset.ids, hosts, spec.seed, datasetConfig.file, (m) => psiStep(m), psiSeed, spec.alignmentPsi)
    : alignAsHost(channel, dataset.ids, spec.guest.name, datasetConfig.file, (m) => progress('psi', m), psiSeed, spec.alignmentPsi);
  const aligned = await keepIn(durable, 'psi', align);

  const { train, validation, splitSeed } = await keepIn(durable, 'split', () => split(ctx, spec, me.role, aligned, dataset.labels));
  const warm = spec.warmStartJob === undefined ? undefined : await loadWarmStart(config.node.dataDir, channel.me, spec, dataset, aligned);
  const matrix = warm?.matrix ?? await buildMatrixAsync(dataset, datasetConfig, aligned, Uint32Array.from(train, (p) => aligned[p] ?? 0));
  const labels = Float64Array.from(aligned, (row) => dataset.labels?.[row] ?? 0);
  return { aligned, train, validation, splitSeed, warm, matrix, labels, labelClasses: dataset.labelClasses };
}

/**
 * Plans differential privacy (every node derives the same plan), clips this
 * party's feature rows, and — at the guest — tells the coordinator the
 * training size so it can add the planned noise to every decryption.
 */
function planPrivacy(ctx: JobContext, spec: JobSpec, trainRows: number, matrix: PartyMatrix, log: Logger): DpPlan {
  let plan: DpPlan;
  try {
    plan = planDp(spec.dp as DpOptions, trainRows, spec.training.batchSize, spec.training.maxEpochs, spec.parties.length);
  } catch (error) {
    if (!(error instanceof DpBudgetError)) throw error;
    throw new JobError('JOB_STATE_CONFLICT', error.message, { publicMessage: error.message });
  }
  const clipped = clipRows(matrix.X, matrix.columns, plan.partyClip);
  log.info({ noiseMultiplier: plan.noiseMultiplier, epsilon: plan.epsilonSpent, clippedRows: clipped }, 'differential privacy planned');
  if (ctx.channel.me === spec.guest.name) ctx.channel.send(COORDINATOR, 'dp-plan', 0, 'control', new TextEncoder().encode(JSON.stringify({ trainRows })));
  return plan;
}

/** The guest draws a stratified split and tells the hosts which aligned rows are held out. */
async function split(ctx: JobContext, spec: JobSpec, role: 'guest' | 'host', aligned: Uint32Array, labels: Int32Array | undefined): Promise<{ train: Uint32Array; validation: Uint32Array; splitSeed: string | undefined }> {
  const n = aligned.length;
  if (role === 'guest') {
    // A stratified split drawn from a seed the hosts know would let them replay
    // it and infer labels from which rows are held out; so the seed is keyed by
    // a secret only this node holds (same job seed → same split, at this node).
    const splitSeed = await nodeSecretSeed(ctx.config.node.dataDir, 'split', spec.seed);
    const y = spec.stratified ? Int32Array.from(aligned, (row) => labels?.[row] ?? 0) : new Int32Array(n);
    const { train, test } = stratifiedSplit(y, spec.validationFraction, splitSeed);
    const body = tandem.v1.RowSelection.encode({ indices: writeIndices(test), count: test.length, purpose: 'validation' }).finish();
    for (const h of spec.hosts) ctx.channel.send(h.name, 'split', 0, 'control', body);
    return { train, validation: test, splitSeed };
  }
  const selection = decodeBody(tandem.v1.RowSelection, await ctx.channel.receive(spec.guest.name, 'split', 0), 'split');
  const validation = readIndices(selection.indices, selection.count);
  const held = new Uint8Array(n);
  for (const p of validation) {
    if (p >= n) throw new JobError('JOB_STATE_CONFLICT', `the guest's split names row ${p} of ${n}`);
    held[p] = 1;
  }
  return { train: Uint32Array.from({ length: n }, (_, i) => i).filter((i) => held[i] === 0), validation, splitSeed: undefined };
}

async function evaluateAsGuest(ctx: JobContext, spec: JobSpec, matrix: PartyMatrix, part: TrainedPart, validation: Uint32Array, labels: Float64Array, aligned: number, train: Uint32Array): Promise<Record<string, unknown>> {
  const z = partialLogits(matrix.X, matrix.columns, validation, part.weights, part.intercept);
  if (spec.shareValidationScores) await addHostValidationScores(ctx.channel, spec, z, 1);
  const y = Int32Array.from(validation, (p) => labels[p] ?? 0);
  const probabilities = Float64Array.from(z, sigmoid);
  const metrics = binaryReport(probabilities, y);
  // The guest's own features alone, same rows: what federation added. (Row-clipped under DP like the federated model.)
  const alone = guestOnlyBaseline(matrix.X, matrix.columns, labels, train, validation, spec.training.optimizer.l2);
  const { auc, ks, logLoss, accuracy, liftAtK, recallAtK } = alone.metrics;
  const guestOnly = { features: alone.features, metrics: { auc, ks, logLoss, accuracy, liftAtK, recallAtK } };
  return { role: 'guest', rows: { aligned, train: train.length, validation: validation.length }, epochs: part.epochs, losses: part.losses, metrics, guestOnly, validationScoresShared: spec.shareValidationScores };
}

function evaluateAsHost(ctx: JobContext, spec: JobSpec, matrix: PartyMatrix, part: TrainedPart, validation: Uint32Array, dp: DpPlan | undefined): Record<string, unknown> {
  if (spec.shareValidationScores) {
    const u = partialLogits(matrix.X, matrix.columns, validation, part.weights);
    if (dp !== undefined) {
      // One row's score moves by at most 2·clip·‖w‖ when its features change within the clip.
      const sigma = dp.evaluationNoiseMultiplier * 2 * dp.partyClip * Math.hypot(...part.weights);
      // From the OS's generator: DP noise must not be predictable.
      for (let i = 0; i < u.length; i++) u[i] = (u[i] ?? 0) + sigma * gaussianFromBytes(randomBytes(16));
    }
    ctx.channel.send(spec.guest.name, 'validation-scores', 0, 'partial-score', tandem.v1.Scores.encode({ values: new Uint8Array(u.buffer), rows: u.length, outputs: 1 }).finish());
  }
  return { role: 'host', epochs: part.epochs, features: matrix.columns };
}

/**
 * The pseudonymous key for online scoring: the guest draws 32 random bytes
 * and sends them sealed to each host. At serving time the guest sends a host
 * HMAC-SHA256(key, id) instead of the id, and the host finds its row by
 * hashing its own ids (serving/pseudonym.ts). The coordinator relays the
 * sealed key without being able to read it.
 */
async function agreeScoringKey(ctx: JobContext, spec: JobSpec, role: 'guest' | 'host'): Promise<Uint8Array> {
  if (role === 'host') return ctx.channel.receive(spec.guest.name, 'scoring-key', 0);
  // Kept: hosts that already stored it must get the same key from a restarted guest.
  const key = await keepIn(ctx.checkpoint, 'scoring-key', () => new Uint8Array(randomBytes(32)));
  for (const h of spec.hosts) ctx.channel.send(h.name, 'scoring-key', 0, 'key', key);
  return key;
}

async function saveModelPart(ctx: JobContext, spec: JobSpec, role: 'guest' | 'host', matrix: PartyMatrix, parts: readonly TrainedPart[], summary: Record<string, unknown>, dp: DpPlan | undefined, splitSeed: string | undefined, scoringKey: Uint8Array, labelClasses: readonly string[] | undefined): Promise<string> {
  const dir = join(ctx.config.node.dataDir, 'jobs', ctx.channel.jobId);
  await mkdir(dir, { recursive: true });
  const file = join(dir, 'model-part.json');
  const part = parts[0] as TrainedPart;
  // One-vs-rest (cold start, K ≥ 3 classes): K weight vectors, class-major, and K intercepts.
  const weights = parts.length === 1
    ? { weights: [...part.weights], intercept: part.intercept }
    : { outputs: parts.length, multiclass: 'one-vs-rest', weights: [...classMajorWeights(parts)], intercepts: parts.map((p) => p.intercept), ...(role === 'guest' ? { classes: [...(labelClasses ?? [])] } : {}) };
  const model = {
    format: 'tandem-model-part/1', jobId: ctx.channel.jobId, jobName: spec.name, kind: spec.kind, party: ctx.channel.me, role,
    parties: spec.parties, featureNames: matrix.columnNames, ...weights,
    preprocess: matrix.spec, link: spec.training.link,
    // Rows were clipped to this L2 norm after preprocessing (DP jobs); scoring must do the same.
    rowClip: dp?.partyClip ?? null,
    // Guest only: reproduces the validation split (secret from the hosts).
    ...(splitSeed === undefined ? {} : { splitSeed }),
    // Secret shared by the guest and every host of this job: pseudonyms for online scoring.
    scoringKey: Buffer.from(scoringKey).toString('hex'),
    summary, createdAt: new Date().toISOString(),
  };
  // The file holds the scoring key, so only this node's user may read it.
  await writeFile(file, `${JSON.stringify(model, null, 2)}\n`, { mode: 0o600 });
  return file;
}

/**
 * What the coordinator (and through it the job's submitter) may see: aggregates
 * only. ROC thresholds are individual rows' scores, so they stay in the local
 * model part.
 */
export function publicSummary(summary: Record<string, unknown>): Record<string, unknown> {
  const metrics = summary['metrics'] as { roc?: { thresholds?: unknown } } | undefined;
  if (metrics?.roc === undefined) return summary;
  const { thresholds: _rowScores, ...roc } = metrics.roc;
  return { ...summary, metrics: { ...metrics, roc } };
}

/** Turns any failure into the event the coordinator needs (public text only). */
export function failureEvent(error: unknown, phase: string): tandem.v1.JobEvent.$Properties {
  const e = error instanceof TandemError ? error : new TandemError('INTERNAL', String(error));
  return { phase, failed: true, errorCode: e.code, message: e.publicMessage };
}
