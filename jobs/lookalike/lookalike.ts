/**
 * Lookalike (seed expansion): the guest holds a list of seed ids and no
 * features; the host holds a pool of users with features. The model learns
 * which pool users look like the seeds; the audience stays with the host.
 *
 *   1. PSI in membership mode: the guest learns, for each of the host's
 *      (shuffled) pool positions, whether it is a seed; the host learns
 *      nothing about the seeds. With OPRF-PSI and more than one bucket the
 *      positions include padding (random values that match nothing); the
 *      host then tells the guest which positions are padding
 *      (`lookalike-padding`), so no decoy is drawn there. The guest learns
 *      how many pool ids fall in each bucket; the host learns nothing new.
 *   2. The guest picks the matched seeds (label 1) and `decoyRatio` random
 *      non-seed positions per seed (label 0), shuffles them with its secret
 *      randomness and tells the host which positions were selected. The
 *      host learns only the selection: each selected row is a seed with
 *      posterior 1/(1 + decoyRatio), and rows outside it are not seeds
 *      (documented in docs/threat-model.md).
 *   3. The guest draws a secret stratified split (held-out seeds and decoys)
 *      and encrypted vertical LR runs exactly as in hetero-LR, the guest
 *      contributing only the intercept.
 *   4. The host scores its whole pool locally, writes the top
 *      `audiencePercent` % to an audience file on its side, and sends the
 *      guest only the pool percentile of each validation row (a mix of seeds
 *      and decoys it cannot tell apart). The guest computes recall@top-p %
 *      and lift on its held-out seeds; it never receives audience ids.
 */
import { createHmac } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { newScalar } from '../../protocol/psi/group.ts';
import { hostReceive, startHost } from '../../protocol/psi/psi-session.ts';
import { PSI_GUEST_SET } from '../../protocol/messages.ts';
import { Random, stratifiedSplit } from '../../protocol/random.ts';
import { DataError, JobError } from '../../protocol/errors.ts';
import type { JobSpec, PartySpec } from '../../protocol/job-spec.ts';
import type { DatasetConfig } from '../../party/config.ts';
import { nodeSecretSeed } from '../../party/node-secret.ts';
import { modelFamily } from '../../models/registry.ts';
import type { EpochReport, ModelFamily } from '../../models/family.ts';
import { postPsi, readIndices, receivePsi, runGuestPsi, writeIndices } from '../common/alignment.ts';
import { matchViaCoordinator, offerViaCoordinator } from '../common/coordinator-psi.ts';
import { oprfAsGuest, oprfAsHost } from '../common/oprf-psi.ts';
import { loadJobDataset, type Dataset } from '../common/features.ts';
import { durableSealingKeys } from '../common/setup.ts';
import { writeModelPart } from '../../models/model-part.ts';
import { SPLIT } from '../../protocol/messages.ts';
import { progressReporter, reportDone, type JobContext, type JobOutcome, type Progress } from '../context.ts';
import { LOOKALIKE_PADDING, LOOKALIKE_SELECTION, POOL_PERCENTILES } from './messages.ts';

/** Pool fractions at which recall and lift are reported. */
export const LOOKALIKE_FRACTIONS: readonly number[] = Object.freeze([0.01, 0.05, 0.1, 0.2]);

type Inputs = {
  readonly ctx: JobContext;
  readonly spec: JobSpec;
  readonly dataset: Dataset;
  readonly datasetConfig: DatasetConfig;
  readonly family: ModelFamily;
  readonly log: JobContext['log'];
  readonly progress: Progress;
};

function domainKey(jobId: string, guest: string, host: string): Uint8Array {
  return createHmac('sha256', 'tandem/v1/psi-membership').update(`${jobId}|${guest}|${host}`).digest();
}

export async function runLookalike(
  ctx: JobContext,
  spec: JobSpec,
  me: PartySpec,
  datasetConfig: DatasetConfig,
): Promise<JobOutcome> {
  const log = ctx.log.child({ job: ctx.channel.jobId });
  const progress = progressReporter(ctx, log);
  progress('setup', `loading dataset "${me.dataset}"`);
  const dataset = await loadJobDataset(datasetConfig, {
    spec,
    role: me.role,
    node: ctx.channel.me,
    configFile: ctx.config.file,
    log: ctx.log.child({ job: ctx.channel.jobId }),
  });
  await durableSealingKeys(
    undefined,
    ctx.channel,
    ctx.identity,
    spec.parties.map((p) => p.name),
  );
  const inputs: Inputs = { ctx, spec, dataset, datasetConfig, family: modelFamily(spec.family), log, progress };
  return me.role === 'guest' ? asGuest(inputs) : asHost(inputs);
}

function epochEvent(inputs: Inputs, r: EpochReport): void {
  inputs.log.info({ epoch: r.epoch, loss: r.loss }, 'epoch done');
  inputs.ctx.channel.event({
    phase: 'training',
    epoch: r.epoch,
    maxEpochs: r.maxEpochs,
    unit: r.unit ?? 'epochs',
    loss: r.loss ?? 0,
    message: r.loss === undefined ? `epoch ${r.epoch}` : `epoch ${r.epoch}: loss ${r.loss.toFixed(5)}`,
  });
}

async function asGuest(inputs: Inputs): Promise<JobOutcome> {
  const { ctx, spec, dataset, datasetConfig, progress } = inputs;
  const host = spec.hosts[0]?.name ?? '';
  const jobId = ctx.channel.jobId;

  // 1. Which pool positions are seeds.
  progress('psi', `matching ${dataset.ids.length} seeds against ${host}'s pool (membership PSI)`);
  const permutation = new Random(newScalar()).permutation(dataset.ids.length);
  const { isMember, hostCount } =
    spec.alignmentPsi === 'coordinator'
      ? await membershipViaCoordinator(ctx, dataset.ids, host)
      : spec.alignmentPsi === 'oprf'
        ? await membershipOprf(inputs, host)
        : await runGuestPsi(ctx.channel, ctx.crypto, host, {
            mode: 'membership',
            ids: dataset.ids,
            domainKey: domainKey(jobId, ctx.channel.me, host),
            scalar: newScalar(),
            permutation,
          });
  const seeds: number[] = [];
  isMember.forEach((member, position) => {
    if (member === 1) seeds.push(position);
  });
  if (seeds.length < 10) {
    throw new DataError('PSI_EMPTY_INTERSECTION', {
      file: datasetConfig.file,
      problem: `only ${seeds.length} of the ${dataset.ids.length} seeds are in ${host}'s pool of ${hostCount}`,
      fix: 'check that both sides use the same id column and format; a lookalike model needs at least 10 matched seeds',
    });
  }
  progress('psi', `${seeds.length} of ${dataset.ids.length} seeds are in the pool of ${hostCount}`);

  // 2. Seeds plus decoys, in an order only the guest knows.
  const secret = new Random(await nodeSecretSeed(ctx.config.node.dataDir, 'lookalike-selection', spec.seed));
  // At most the pool's non-seeds (OPRF's padding positions are not rows and are never drawn).
  const decoyCount = Math.min(hostCount - seeds.length, Math.round(seeds.length * spec.lookalike.decoyRatio));
  const decoys = drawDecoys(isMember, decoyCount, secret);
  const candidates = [...seeds.map((p) => [p, 1] as const), ...decoys.map((p) => [p, 0] as const)];
  const order = secret.permutation(candidates.length);
  const selected = Uint32Array.from(order, (k) => candidates[k]?.[0] ?? 0);
  const labels = Float64Array.from(order, (k) => candidates[k]?.[1] ?? 0);
  ctx.channel.post(host, LOOKALIKE_SELECTION, 0, {
    indices: writeIndices(selected),
    count: selected.length,
    purpose: 'lookalike',
  });

  // 3. A secret stratified split; the host learns which selected rows are held out, not their labels.
  const { train, test } = stratifiedSplit(
    Int32Array.from(labels),
    spec.validationFraction,
    await nodeSecretSeed(ctx.config.node.dataDir, 'split', spec.seed),
  );
  ctx.channel.post(host, SPLIT, 0, { indices: writeIndices(test), count: test.length, purpose: 'validation' });
  progress(
    'training',
    `training on ${train.length} rows (${seeds.length} seeds, ${decoyCount} decoys; ${test.length} held out)`,
  );
  const trained = await inputs.family.lookalike({
    job: ctx,
    spec,
    role: 'guest',
    log: inputs.log,
    dataset: undefined,
    datasetConfig: undefined,
    rows: selected,
    train,
    labels,
    onEpoch: (r) => epochEvent(inputs, r),
  });

  // 4. Pool percentiles of the held-out rows: recall and lift on held-out seeds.
  progress('evaluation', `evaluating on ${test.length} held-out rows`);
  const body = await ctx.channel.take(host, POOL_PERCENTILES, 0);
  const percentiles = new Float64Array(
    body.values.buffer.slice(body.values.byteOffset, body.values.byteOffset + body.values.byteLength),
  );
  if (percentiles.length !== test.length)
    throw new JobError('JOB_STATE_CONFLICT', `${host} sent ${percentiles.length} percentiles for ${test.length} rows`);
  const heldOutSeeds = Array.from(test, (p, k) => ((labels[p] ?? 0) === 1 ? (percentiles[k] ?? 1) : -1)).filter(
    (v) => v >= 0,
  );
  const recallAt = (fraction: number): number =>
    heldOutSeeds.filter((q) => q < fraction).length / Math.max(1, heldOutSeeds.length);
  const recallAtK = LOOKALIKE_FRACTIONS.map((fraction) => ({ fraction, value: recallAt(fraction) }));
  const liftAtK = recallAtK.map(({ fraction, value }) => ({ fraction, value: value / fraction }));
  const recallCurve = Array.from({ length: 101 }, (_, k) => ({ fraction: k / 100, recall: recallAt(k / 100) }));
  const audiencePercent = spec.lookalike.audiencePercent;
  const audienceRecall = recallAt(audiencePercent / 100);
  const summary: Record<string, unknown> = {
    role: 'guest',
    kind: 'lookalike',
    seeds: { listed: dataset.ids.length, inPool: seeds.length, heldOut: heldOutSeeds.length },
    pool: hostCount,
    decoys: decoyCount,
    rows: { aligned: selected.length, train: train.length, validation: test.length },
    ...trained.summary,
    metrics: { recallAtK, liftAtK, recallCurve },
    audience: {
      percent: audiencePercent,
      size: Math.ceil((hostCount * audiencePercent) / 100),
      expectedRecall: audienceRecall,
      expectedLift: audienceRecall / (audiencePercent / 100),
    },
  };
  const modelFile = await writeModelPart(ctx, spec, 'guest', {
    family: inputs.family.name,
    model: { ...trained.model, labels: [...labels], validation: [...test] },
    summary,
  });
  reportDone(ctx, { ...summary, metrics: { recallAtK, liftAtK } });
  return { modelFile, summary };
}

/** Guest, coordinator-aided: which of the host's (shuffled) pool positions hold one of its seeds. */
async function membershipViaCoordinator(
  ctx: JobContext,
  ids: readonly string[],
  host: string,
): Promise<{ isMember: Uint8Array; hostCount: number }> {
  const [answer] = await matchViaCoordinator(ctx.channel, ids, [host], () => undefined, undefined);
  const isMember = new Uint8Array(answer?.hostCount ?? 0);
  for (const m of answer?.matches ?? []) isMember[m.hostPosition] = 1;
  return { isMember, hostCount: isMember.length };
}

/** Guest, OPRF-PSI: which of the host's padded pool positions hold a seed; PSI steps as events (a session, each bucket, the result). */
async function membershipOprf(inputs: Inputs, host: string): Promise<{ isMember: Uint8Array; hostCount: number }> {
  const { ctx, dataset, spec } = inputs;
  const [result] = await oprfAsGuest({
    channel: ctx.channel,
    ids: dataset.ids,
    hosts: [host],
    mode: 'membership',
    seedFor: undefined,
    options: spec.alignmentOprf,
    onStep: (message, done, total) => {
      inputs.log.info({ phase: 'psi' }, message);
      ctx.channel.event({ phase: 'psi', message, epoch: done, maxEpochs: total, unit: 'PSI steps' });
    },
  });
  if (result === undefined) throw new RangeError(`no OPRF-PSI result for ${host}`);
  // Padding positions hold no pool row: marked 2, so they are neither seeds nor decoys.
  const padding = await ctx.channel.take(host, LOOKALIKE_PADDING, 0);
  const isMember = result.isMember;
  for (const p of readIndices(padding.indices, padding.count)) {
    if (p >= isMember.length || isMember[p] === 1)
      throw new JobError(
        'JOB_STATE_CONFLICT',
        `${host} named pool position ${p} as padding, which ${p >= isMember.length ? 'does not exist' : 'matched a seed'}`,
      );
    isMember[p] = 2;
  }
  return { isMember, hostCount: result.senderCount };
}

/**
 * `count` distinct positions that hold no seed, uniformly at random: by
 * rejection while they are few next to the non-seed positions (a pool of
 * 10^8 is not listed), else by listing those positions and shuffling.
 */
function drawDecoys(isMember: Uint8Array, count: number, random: Random): number[] {
  const nonSeeds = isMember.reduce((n, m) => n + (m === 0 ? 1 : 0), 0);
  if (count * 2 > nonSeeds) {
    const others = new Uint32Array(nonSeeds);
    let k = 0;
    isMember.forEach((member, position) => {
      if (member === 0) others[k++] = position;
    });
    const order = random.permutation(nonSeeds);
    return Array.from({ length: count }, (_, j) => others[order[j] ?? 0] ?? 0);
  }
  const chosen = new Set<number>();
  while (chosen.size < count) {
    const position = random.nextInt(isMember.length);
    if (isMember[position] === 0) chosen.add(position);
  }
  return [...chosen];
}

/** Host: its rows at the selected pool positions (`rowAt`: position → row, -1 at OPRF padding, which the guest was told). */
function selectedRows(rowAt: Int32Array | Uint32Array, positions: Uint32Array): Uint32Array {
  return Uint32Array.from(positions, (p) => {
    const row = p < rowAt.length ? (rowAt[p] ?? -1) : -1;
    if (row < 0)
      throw new JobError(
        'JOB_STATE_CONFLICT',
        `the guest selected pool position ${p}, which ${p < rowAt.length ? 'is padding' : `is outside the ${rowAt.length} positions`}`,
      );
    return row;
  });
}

/** Host, OPRF: offers its pool in membership mode, then names the padding positions (no row) so the guest draws no decoy there. */
async function offerPoolOprf(
  ctx: JobContext,
  ids: readonly string[],
  guest: string,
  spec: JobSpec,
  progress: (message: string) => void,
): Promise<Int32Array> {
  const { positionRows } = await oprfAsHost(
    ctx.channel,
    ids,
    guest,
    'membership',
    undefined,
    spec.alignmentOprf,
    progress,
  );
  const padding = Uint32Array.from(positionRows.keys()).filter((p) => (positionRows[p] ?? -1) < 0);
  ctx.channel.post(guest, LOOKALIKE_PADDING, 0, {
    indices: writeIndices(padding),
    count: padding.length,
    purpose: 'padding',
  });
  return positionRows;
}

/** Host, ECDH: offers its pool in membership mode; returns its secret order of the pool. */
async function offerPoolEcdh(ctx: JobContext, ids: readonly string[], guest: string): Promise<Uint32Array> {
  const permutation = new Random(newScalar()).permutation(ids.length);
  let t = startHost({
    mode: 'membership',
    ids,
    domainKey: domainKey(ctx.channel.jobId, guest, ctx.channel.me),
    scalar: newScalar(),
    permutation,
  });
  for (const m of t.outbound) postPsi(ctx.channel, guest, m);
  t = hostReceive(t.state, await receivePsi(ctx.channel, guest, PSI_GUEST_SET));
  for (const m of t.outbound) postPsi(ctx.channel, guest, m);
  if (t.state.stage !== 'done' || t.state.result.mode !== 'membership')
    throw new RangeError('membership PSI did not finish');
  return permutation;
}

async function asHost(inputs: Inputs): Promise<JobOutcome> {
  const { ctx, spec, dataset, datasetConfig, progress } = inputs;
  const guest = spec.guest.name;
  const jobId = ctx.channel.jobId;

  progress('psi', `offering a pool of ${dataset.ids.length} to ${guest} (membership PSI)`);
  // Position → row: the host's secret order of its pool (OPRF: -1 at padding positions).
  const rowAt =
    spec.alignmentPsi === 'coordinator'
      ? await offerViaCoordinator(ctx.channel, dataset.ids, guest, undefined)
      : spec.alignmentPsi === 'oprf'
        ? await offerPoolOprf(ctx, dataset.ids, guest, spec, (m) => progress('psi', m))
        : await offerPoolEcdh(ctx, dataset.ids, guest);

  const selection = await ctx.channel.take(guest, LOOKALIKE_SELECTION, 0);
  const rows = selectedRows(rowAt, readIndices(selection.indices, selection.count));
  const split = await ctx.channel.take(guest, SPLIT, 0);
  const test = readIndices(split.indices, split.count);
  const held = new Uint8Array(rows.length);
  for (const p of test) held[p] = 1;
  const train = Uint32Array.from({ length: rows.length }, (_, i) => i).filter((i) => held[i] === 0);
  progress('training', `training on ${train.length} selected rows`);
  const trained = await inputs.family.lookalike({
    job: ctx,
    spec,
    role: 'host',
    log: inputs.log,
    dataset,
    datasetConfig,
    rows,
    train,
    labels: undefined,
    onEpoch: (r) => epochEvent(inputs, r),
  });
  const scores = trained.poolScores;
  if (scores === undefined) throw new RangeError(`model family ${inputs.family.name} did not score the pool`);

  // Only percentiles of the held-out rows leave.
  progress('evaluation', `scoring the pool of ${dataset.rowCount}`);
  const all = Uint32Array.from({ length: dataset.rowCount }, (_, k) => k);
  const ranked = Uint32Array.from(all).sort((a, b) => (scores[b] ?? 0) - (scores[a] ?? 0) || a - b);
  const percentileOf = new Float64Array(dataset.rowCount);
  ranked.forEach((row, rank) => (percentileOf[row] = rank / dataset.rowCount));
  const percentiles = Float64Array.from(test, (p) => percentileOf[rows[p] ?? 0] ?? 1);
  ctx.channel.post(guest, POOL_PERCENTILES, 0, {
    values: new Uint8Array(percentiles.buffer),
    rows: percentiles.length,
    outputs: 1,
  });

  const size = Math.ceil((dataset.rowCount * spec.lookalike.audiencePercent) / 100);
  const dir = join(ctx.config.node.dataDir, 'jobs', jobId);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const audienceFile = join(dir, 'audience.csv');
  // The format and order `tandem model score-pool` writes, so a re-scored pool can be compared line by line.
  const lines = [
    'rank,id,score',
    ...Array.from(
      ranked.subarray(0, size),
      (row, rank) => `${rank + 1},${csvField(dataset.ids[row] ?? '')},${scores[row] ?? 0}`,
    ),
  ];
  await writeFile(audienceFile, `${lines.join('\n')}\n`, { mode: 0o600 });
  const summary: Record<string, unknown> = {
    role: 'host',
    kind: 'lookalike',
    ...trained.summary,
    pool: dataset.rowCount,
    audience: { percent: spec.lookalike.audiencePercent, size, file: audienceFile },
  };
  // No scoring key: the audience is scored at the host alone, so nobody may look its users up by pseudonym.
  const modelFile = await writeModelPart(ctx, spec, 'host', {
    family: inputs.family.name,
    model: { ...trained.model, selectedRows: [...rows] },
    summary,
  });
  reportDone(ctx, {
    role: 'host',
    kind: 'lookalike',
    ...trained.summary,
    audience: { percent: spec.lookalike.audiencePercent, size },
  });
  return { modelFile, summary };
}

function csvField(s: string): string {
  return /[",\n\r]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}
