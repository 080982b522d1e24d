/**
 * Lookalike (seed expansion): the guest holds a list of seed ids and no
 * features; the host holds a pool of users with features. The model learns
 * which pool users look like the seeds; the audience stays with the host.
 *
 *   1. PSI in membership mode: the guest learns, for each of the host's
 *      (shuffled) pool positions, whether it is a seed; the host learns
 *      nothing about the seeds.
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
import { tandem } from '../../protocol/generated/tandem.js';
import { CkksEncryptor, CkksSuite } from '../../protocol/he/ckks.ts';
import { newScalar } from '../../protocol/psi/group.ts';
import { hostReceive, startHost } from '../../protocol/psi/psi-session.ts';
import { Random, stratifiedSplit } from '../../protocol/random.ts';
import { decodeBody } from '../../protocol/wire/envelope.ts';
import { DataError, JobError } from '../../protocol/errors.ts';
import { partialLogits } from '../../protocol/training/plan.ts';
import type { JobSpec, PartySpec } from '../../protocol/job-spec.ts';
import type { DatasetConfig } from '../config.ts';
import type { Logger } from '../../runtime/logger.ts';
import { transformRows } from '../data/preprocess.ts';
import { psiBody, readIndices, receivePsi, runGuestPsi, writeIndices } from './alignment.ts';
import { matchViaCoordinator, offerViaCoordinator } from './coordinator-psi.ts';
import { buildMatrix, type Dataset } from './features.ts';
import { trainGuest, trainHost } from './hetero-lr.ts';
import type { JobContext, JobOutcome } from './run-job.ts';
import { nodeSecretSeed } from './node-secret.ts';

/** Pool fractions at which recall and lift are reported. */
export const LOOKALIKE_FRACTIONS: readonly number[] = Object.freeze([0.01, 0.05, 0.1, 0.2]);

export type LookalikeInputs = {
  readonly ctx: JobContext;
  readonly spec: JobSpec;
  readonly me: PartySpec;
  readonly dataset: Dataset;
  readonly datasetConfig: DatasetConfig;
  readonly log: Logger;
  readonly progress: (phase: string, message: string) => void;
};

function domainKey(jobId: string, guest: string, host: string): Uint8Array {
  return createHmac('sha256', 'tandem/v1/psi-membership').update(`${jobId}|${guest}|${host}`).digest();
}

export async function runLookalike(inputs: LookalikeInputs): Promise<JobOutcome> {
  const { ctx, spec, me } = inputs;
  const suite = await CkksSuite.create(spec.ckks);
  const encryptor = new CkksEncryptor(suite, ctx.assignment.ckksPublicKey);
  try {
    return me.role === 'guest' ? await asGuest(inputs, suite, encryptor) : await asHost(inputs, suite, encryptor);
  } finally {
    encryptor.dispose();
    suite.dispose();
  }
}

type Event = tandem.v1.JobEvent.$Properties;
function event(ctx: JobContext, e: Event): void {
  ctx.channel.event(tandem.v1.JobEvent.encode(e).finish());
}

function trainContext(inputs: LookalikeInputs, suite: CkksSuite, encryptor: CkksEncryptor, X: Float64Array, columns: number, train: Uint32Array) {
  const { ctx, spec, log } = inputs;
  return {
    channel: ctx.channel, spec, suite, encryptor, X, columns, train,
    onEpoch: (epoch: number, loss: number | undefined) => {
      log.info({ epoch, loss }, 'epoch done');
      event(ctx, { phase: 'training', epoch, maxEpochs: spec.training.maxEpochs, loss: loss ?? 0, message: loss === undefined ? `epoch ${epoch}` : `epoch ${epoch}: loss ${loss.toFixed(5)}` });
    },
  };
}

async function asGuest(inputs: LookalikeInputs, suite: CkksSuite, encryptor: CkksEncryptor): Promise<JobOutcome> {
  const { ctx, spec, dataset, datasetConfig, progress } = inputs;
  const host = spec.hosts[0]?.name ?? '';
  const jobId = ctx.channel.jobId;

  // 1. Which pool positions are seeds.
  progress('psi', `matching ${dataset.ids.length} seeds against ${host}'s pool (membership PSI)`);
  const permutation = new Random(newScalar()).permutation(dataset.ids.length);
  const { isMember, hostCount } = spec.alignmentPsi === 'coordinator'
    ? await membershipViaCoordinator(ctx, dataset.ids, host)
    : await runGuestPsi(ctx.channel, host, { mode: 'membership', ids: dataset.ids, domainKey: domainKey(jobId, ctx.channel.me, host), scalar: newScalar(), permutation });
  const seeds: number[] = [];
  const others: number[] = [];
  isMember.forEach((member, position) => (member === 1 ? seeds : others).push(position));
  if (seeds.length < 10) {
    throw new DataError('PSI_EMPTY_INTERSECTION', { file: datasetConfig.file, problem: `only ${seeds.length} of the ${dataset.ids.length} seeds are in ${host}'s pool of ${hostCount}`, fix: 'check that both sides use the same id column and format; a lookalike model needs at least 10 matched seeds' });
  }
  progress('psi', `${seeds.length} of ${dataset.ids.length} seeds are in the pool of ${hostCount}`);

  // 2. Seeds plus decoys, in an order only the guest knows.
  const secret = new Random(await nodeSecretSeed(ctx.config.node.dataDir, 'lookalike-selection', spec.seed));
  const decoyCount = Math.min(others.length, Math.round(seeds.length * spec.lookalike.decoyRatio));
  const decoyOrder = secret.permutation(others.length);
  const decoys = Array.from({ length: decoyCount }, (_, k) => others[decoyOrder[k] ?? 0] ?? 0);
  const candidates = [...seeds.map((p) => [p, 1] as const), ...decoys.map((p) => [p, 0] as const)];
  const order = secret.permutation(candidates.length);
  const selected = Uint32Array.from(order, (k) => candidates[k]?.[0] ?? 0);
  const labels = Float64Array.from(order, (k) => candidates[k]?.[1] ?? 0);
  ctx.channel.send(host, 'lookalike-selection', 0, 'control', tandem.v1.RowSelection.encode({ indices: writeIndices(selected), count: selected.length, purpose: 'lookalike' }).finish());

  // 3. A secret stratified split; the host learns which selected rows are held out, not their labels.
  const { train, test } = stratifiedSplit(Int32Array.from(labels), spec.validationFraction, await nodeSecretSeed(ctx.config.node.dataDir, 'split', spec.seed));
  ctx.channel.send(host, 'split', 0, 'control', tandem.v1.RowSelection.encode({ indices: writeIndices(test), count: test.length, purpose: 'validation' }).finish());
  progress('training', `training on ${train.length} rows (${seeds.length} seeds, ${decoyCount} decoys; ${test.length} held out)`);
  const part = await trainGuest(trainContext(inputs, suite, encryptor, new Float64Array(0), 0, train), labels);

  // 4. Pool percentiles of the held-out rows: recall and lift on held-out seeds.
  progress('evaluation', `evaluating on ${test.length} held-out rows`);
  const body = decodeBody(tandem.v1.Scores, await ctx.channel.receive(host, 'pool-percentiles', 0), 'pool-percentiles');
  const percentiles = new Float64Array(body.values.buffer.slice(body.values.byteOffset, body.values.byteOffset + body.values.byteLength));
  if (percentiles.length !== test.length) throw new JobError('JOB_STATE_CONFLICT', `${host} sent ${percentiles.length} percentiles for ${test.length} rows`);
  const heldOutSeeds = Array.from(test, (p, k) => ((labels[p] ?? 0) === 1 ? (percentiles[k] ?? 1) : -1)).filter((v) => v >= 0);
  const recallAt = (fraction: number): number => heldOutSeeds.filter((q) => q < fraction).length / Math.max(1, heldOutSeeds.length);
  const recallAtK = LOOKALIKE_FRACTIONS.map((fraction) => ({ fraction, value: recallAt(fraction) }));
  const liftAtK = recallAtK.map(({ fraction, value }) => ({ fraction, value: value / fraction }));
  const recallCurve = Array.from({ length: 101 }, (_, k) => ({ fraction: k / 100, recall: recallAt(k / 100) }));
  const audiencePercent = spec.lookalike.audiencePercent;
  const audienceRecall = recallAt(audiencePercent / 100);
  const summary: Record<string, unknown> = {
    role: 'guest', kind: 'lookalike',
    seeds: { listed: dataset.ids.length, inPool: seeds.length, heldOut: heldOutSeeds.length },
    pool: hostCount, decoys: decoyCount,
    rows: { aligned: selected.length, train: train.length, validation: test.length },
    epochs: part.epochs, losses: part.losses,
    metrics: { recallAtK, liftAtK, recallCurve },
    audience: { percent: audiencePercent, size: Math.ceil((hostCount * audiencePercent) / 100), expectedRecall: audienceRecall, expectedLift: audienceRecall / (audiencePercent / 100) },
  };
  const modelFile = await savePart(ctx, spec, 'guest', { weights: [], intercept: part.intercept, summary, labels: [...labels], validation: [...test] });
  event(ctx, { phase: 'done', message: 'finished', summaryJson: JSON.stringify({ ...summary, metrics: { recallAtK, liftAtK } }), done: true });
  return { modelFile, summary };
}

/** Guest, coordinator-aided: which of the host's (shuffled) pool positions hold one of its seeds. */
async function membershipViaCoordinator(ctx: JobContext, ids: readonly string[], host: string): Promise<{ isMember: Uint8Array; hostCount: number }> {
  const [answer] = await matchViaCoordinator(ctx.channel, ids, [host], () => undefined, undefined);
  const isMember = new Uint8Array(answer?.hostCount ?? 0);
  for (const m of answer?.matches ?? []) isMember[m.hostPosition] = 1;
  return { isMember, hostCount: isMember.length };
}

/** Host, ECDH: offers its pool in membership mode; returns its secret order of the pool. */
async function offerPoolEcdh(ctx: JobContext, ids: readonly string[], guest: string): Promise<Uint32Array> {
  const permutation = new Random(newScalar()).permutation(ids.length);
  let t = startHost({ mode: 'membership', ids, domainKey: domainKey(ctx.channel.jobId, guest, ctx.channel.me), scalar: newScalar(), permutation });
  for (const m of t.outbound) ctx.channel.send(guest, m.step, 0, 'psi-blinded', psiBody(m));
  t = hostReceive(t.state, await receivePsi(ctx.channel, guest, 'psi-guest-set'));
  for (const m of t.outbound) ctx.channel.send(guest, m.step, 0, 'psi-blinded', psiBody(m));
  if (t.state.stage !== 'done' || t.state.result.mode !== 'membership') throw new RangeError('membership PSI did not finish');
  return permutation;
}

async function asHost(inputs: LookalikeInputs, suite: CkksSuite, encryptor: CkksEncryptor): Promise<JobOutcome> {
  const { ctx, spec, dataset, datasetConfig, progress } = inputs;
  const guest = spec.guest.name;
  const jobId = ctx.channel.jobId;

  progress('psi', `offering a pool of ${dataset.ids.length} to ${guest} (membership PSI)`);
  const permutation = spec.alignmentPsi === 'coordinator' ? await offerViaCoordinator(ctx.channel, dataset.ids, guest, undefined) : await offerPoolEcdh(ctx, dataset.ids, guest);

  const selection = decodeBody(tandem.v1.RowSelection, await ctx.channel.receive(guest, 'lookalike-selection', 0), 'lookalike-selection');
  const positions = readIndices(selection.indices, selection.count);
  const rows = Uint32Array.from(positions, (p) => {
    if (p >= permutation.length) throw new JobError('JOB_STATE_CONFLICT', `the guest selected pool position ${p} of ${permutation.length}`);
    return permutation[p] ?? 0;
  });
  const split = decodeBody(tandem.v1.RowSelection, await ctx.channel.receive(guest, 'split', 0), 'split');
  const test = readIndices(split.indices, split.count);
  const held = new Uint8Array(rows.length);
  for (const p of test) held[p] = 1;
  const train = Uint32Array.from({ length: rows.length }, (_, i) => i).filter((i) => held[i] === 0);
  const matrix = buildMatrix(dataset, datasetConfig, rows, Uint32Array.from(train, (p) => rows[p] ?? 0));
  progress('training', `training on ${train.length} selected rows, ${matrix.columns} features`);
  const part = await trainHost(trainContext(inputs, suite, encryptor, matrix.X, matrix.columns, train));

  // Score the whole pool here; only percentiles of the held-out rows leave.
  progress('evaluation', `scoring the pool of ${dataset.rowCount}`);
  const all = Uint32Array.from({ length: dataset.rowCount }, (_, k) => k);
  const pool = transformRows(matrix.spec, dataset, all);
  const scores = partialLogits(pool.matrix, pool.columns.length, all, part.weights);
  const ranked = Uint32Array.from(all).sort((a, b) => (scores[b] ?? 0) - (scores[a] ?? 0) || a - b);
  const percentileOf = new Float64Array(dataset.rowCount);
  ranked.forEach((row, rank) => (percentileOf[row] = rank / dataset.rowCount));
  const percentiles = Float64Array.from(test, (p) => percentileOf[rows[p] ?? 0] ?? 1);
  ctx.channel.send(guest, 'pool-percentiles', 0, 'partial-score', tandem.v1.Scores.encode({ values: new Uint8Array(percentiles.buffer), rows: percentiles.length, outputs: 1 }).finish());

  const size = Math.ceil((dataset.rowCount * spec.lookalike.audiencePercent) / 100);
  const dir = join(ctx.config.node.dataDir, 'jobs', jobId);
  await mkdir(dir, { recursive: true });
  const audienceFile = join(dir, 'audience.csv');
  const lines = ['id,score,rank', ...Array.from(ranked.subarray(0, size), (row, rank) => `${dataset.ids[row] ?? ''},${(scores[row] ?? 0).toFixed(6)},${rank + 1}`)];
  await writeFile(audienceFile, `${lines.join('\n')}\n`, { mode: 0o600 });
  const summary: Record<string, unknown> = { role: 'host', kind: 'lookalike', epochs: part.epochs, features: matrix.columns, pool: dataset.rowCount, audience: { percent: spec.lookalike.audiencePercent, size, file: audienceFile } };
  const modelFile = await savePart(ctx, spec, 'host', { weights: [...part.weights], intercept: 0, summary, preprocess: matrix.spec, featureNames: matrix.columnNames, selectedRows: [...rows] });
  event(ctx, { phase: 'done', message: 'finished', summaryJson: JSON.stringify({ role: 'host', kind: 'lookalike', epochs: part.epochs, features: matrix.columns, audience: { percent: spec.lookalike.audiencePercent, size } }), done: true });
  return { modelFile, summary };
}

async function savePart(ctx: JobContext, spec: JobSpec, role: 'guest' | 'host', part: Record<string, unknown>): Promise<string> {
  const dir = join(ctx.config.node.dataDir, 'jobs', ctx.channel.jobId);
  await mkdir(dir, { recursive: true });
  const file = join(dir, 'model-part.json');
  const model = { format: 'tandem-model-part/1', kind: 'lookalike', jobId: ctx.channel.jobId, jobName: spec.name, party: ctx.channel.me, role, parties: spec.parties, link: spec.training.link, rowClip: null, ...part, createdAt: new Date().toISOString() };
  await writeFile(file, `${JSON.stringify(model, null, 2)}\n`);
  return file;
}
