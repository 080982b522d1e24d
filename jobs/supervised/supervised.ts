/**
 * Supervised jobs (`hetero-lr`: a binary label; `cold-start`: a binary or
 * multi-class segment): the guest holds labels, every party features. At
 * each party: setup (sealing keys), alignment by PSI, the guest's secret
 * split, the number of outputs, then the job's model family trains and
 * evaluates, the guest gives the hosts the scoring key, and the model part
 * is saved. Resumable after a restart of any node (docs/durability.md).
 */
import { JobError } from '../../protocol/errors.ts';
import type { JobSpec, PartySpec } from '../../protocol/job-spec.ts';
import { keepIn } from '../../party/checkpoint.ts';
import { nodeSecretSeed } from '../../party/node-secret.ts';
import type { DatasetConfig } from '../../party/config.ts';
import { modelFamily } from '../../models/registry.ts';
import type { EpochReport } from '../../models/family.ts';
import { progressReporter, reportDone, type JobContext, type JobOutcome } from '../context.ts';
import { alignAsGuest, alignAsHost, type PsiStepCount } from '../common/alignment.ts';
import { loadJobDataset, type Dataset } from '../common/features.ts';
import { durableSealingKeys } from '../common/setup.ts';
import { splitRows } from '../common/split.ts';
import { agreeScoringKey } from '../common/scoring-key.ts';
import { writeModelPart } from '../../models/model-part.ts';
import { publicSummary } from '../common/summary.ts';
import { agreeOutputs, checkClassSizes, checkLabelVaries } from './outputs.ts';

export async function runSupervised(
  ctx: JobContext,
  spec: JobSpec,
  me: PartySpec,
  datasetConfig: DatasetConfig,
): Promise<JobOutcome> {
  const { channel } = ctx;
  const log = ctx.log.child({ job: channel.jobId });
  const progress = progressReporter(ctx, log);
  const family = modelFamily(spec.family);
  progress('setup', `loading dataset "${me.dataset}"`);
  const dataset = await loadJobDataset(datasetConfig, {
    spec,
    role: me.role,
    node: ctx.channel.me,
    configFile: ctx.config.file,
    log: ctx.log.child({ job: ctx.channel.jobId }),
  });
  if (me.role === 'guest' && dataset.labels === undefined && dataset.targets === undefined) {
    throw new JobError(
      'JOB_STATE_CONFLICT',
      `${channel.me} is the guest but dataset "${me.dataset}" has no label column; add \`label:\` to it in the node config`,
      { publicMessage: 'the guest dataset has no label' },
    );
  }
  await durableSealingKeys(
    ctx.checkpoint,
    channel,
    ctx.identity,
    spec.parties.map((p) => p.name),
  );
  const aligned = await keepIn(ctx.checkpoint, 'psi', () => align(ctx, spec, me, dataset, datasetConfig, progress));
  const { train, validation, splitSeed } = await keepIn(ctx.checkpoint, 'split', () =>
    splitRows(ctx, spec, me.role, aligned, dataset.labels),
  );
  if (me.role === 'guest') {
    const values = dataset.targets ?? dataset.labels;
    if (values !== undefined)
      checkLabelVaries(
        values,
        train,
        aligned,
        (v) => (dataset.targets === undefined ? JSON.stringify(dataset.labelClasses?.[v] ?? String(v)) : String(v)),
        datasetConfig.file,
        datasetConfig.label?.column ?? 'label',
      );
  }
  if (me.role === 'guest' && spec.kind === 'cold-start' && dataset.labels !== undefined) {
    checkClassSizes(
      dataset.labels,
      train,
      aligned,
      dataset.labelClasses ?? [],
      datasetConfig.file,
      datasetConfig.label?.column ?? 'label',
    );
  }
  const outputs = await keepIn(ctx.checkpoint, 'outputs', () =>
    agreeOutputs(channel, spec, me.role, dataset.labelClasses),
  );
  if (outputs > 8)
    progress(
      'training',
      `${outputs} classes: one encrypted one-vs-rest training each, so about ${outputs} times as long as a binary job`,
    );
  // Class indices, or a continuous label's values.
  const labels =
    me.role === 'guest'
      ? Float64Array.from(aligned, (row) => (dataset.targets ?? dataset.labels)?.[row] ?? 0)
      : undefined;
  const trained = await family.supervised({
    job: ctx,
    spec,
    role: me.role,
    log,
    dataset,
    datasetConfig,
    aligned,
    train,
    validation,
    labelType: labelTypeOf(datasetConfig),
    labels,
    classes: dataset.labelClasses,
    outputs,
    progress,
    onEpoch: epochCounter(ctx, log),
  });
  const scoringKey = await agreeScoringKey(ctx, spec, me.role);
  const modelFile = await writeModelPart(ctx, spec, me.role, {
    family: family.name,
    model: trained.model,
    summary: trained.summary,
    scoringKey,
    splitSeed,
  });
  await ctx.checkpoint?.keep('outcome', () => ({ modelFile, summary: trained.summary }));
  reportDone(ctx, publicSummary(trained.summary));
  return { modelFile, summary: trained.summary };
}

/** This party's aligned rows in the shared order (PSI with every host, or with the guest). */
async function align(
  ctx: JobContext,
  spec: JobSpec,
  me: PartySpec,
  dataset: Dataset,
  datasetConfig: DatasetConfig,
  progress: ReturnType<typeof progressReporter>,
): Promise<Uint32Array> {
  const { channel, config } = ctx;
  progress('psi', `aligning ${dataset.ids.length} ids by private set intersection`);
  // The guest reports PSI as steps (two per host; OPRF: a session, each bucket and the result per host) so followers can draw a bar.
  let psiSteps = 0;
  const psiStep = (message: string, step?: PsiStepCount): void => {
    psiSteps = step?.done ?? psiSteps + 1;
    ctx.log.info({ job: channel.jobId, phase: 'psi' }, message);
    channel.event({
      phase: 'psi',
      message,
      epoch: psiSteps,
      maxEpochs: step?.total ?? 2 * spec.hosts.length,
      unit: 'PSI steps',
    });
  };
  // Secret to this node, per job and peer: a restarted PSI blinds exactly as before.
  const psiSeed = async (peer: string): Promise<Uint8Array> =>
    Buffer.from(await nodeSecretSeed(config.node.dataDir, 'psi', `${channel.jobId}|${peer}`), 'hex');
  return me.role === 'guest'
    ? alignAsGuest(
        channel,
        ctx.crypto,
        dataset.ids,
        spec.hosts.map((h) => h.name),
        spec.seed,
        datasetConfig.file,
        psiStep,
        psiSeed,
        spec.alignmentPsi,
        spec.alignmentOprf,
      )
    : alignAsHost(
        channel,
        ctx.crypto,
        dataset.ids,
        spec.guest.name,
        datasetConfig.file,
        (m) => progress('psi', m),
        psiSeed,
        spec.alignmentPsi,
        spec.alignmentOprf,
      );
}

/**
 * Epoch events with one count for the whole job: epochs actually trained so
 * far (across one-vs-rest classes, each of which may stop early) out of the
 * most the job can train, so the bar, `job list` and the summary agree.
 */
function epochCounter(ctx: JobContext, log: JobContext['log']): (r: EpochReport) => void {
  let earlier = 0;
  let current = 0;
  let model = -1;
  return (r) => {
    const index = r.model?.index ?? 0;
    if (index !== model) {
      earlier += current;
      model = index;
    }
    current = r.epoch;
    log.info({ epoch: r.epoch, loss: r.loss, model: r.model?.index }, 'epoch done');
    const unit = r.unit ?? 'epochs';
    const which = r.model === undefined ? '' : `class ${r.model.index + 1}/${r.model.of}, `;
    const noun = unit === 'trees' ? 'round' : 'epoch';
    ctx.channel.event({
      phase: 'training',
      epoch: earlier + current,
      maxEpochs: (r.model?.of ?? 1) * r.maxEpochs,
      loss: r.loss ?? 0,
      unit,
      message:
        r.loss === undefined ? `${which}${noun} ${r.epoch}` : `${which}${noun} ${r.epoch}: loss ${r.loss.toFixed(5)}`,
    });
  };
}

/** What the guest's label is, from its dataset config (a host's answer is never used). */
function labelTypeOf(config: DatasetConfig): 'binary' | 'multiclass' | 'continuous' {
  const type: string = config.label?.type ?? 'binary';
  return type === 'multiclass' || type === 'continuous' ? type : 'binary';
}
