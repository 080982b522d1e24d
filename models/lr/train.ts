/**
 * Encrypted vertical logistic regression, one function per role. Per
 * mini-batch (one round):
 *   host  → guest  [[Tⱼ(clip(uₕ)/c)]]      basis of its partial logits (fresh CKKS)
 *   guest → hosts  [[d]] = Σ βⱼ(a)⊙[[Tⱼ]] + const − y   residual, sealed
 *   every party → coordinator  masked Σᵢ dᵢ·xᵢⱼ per feature (+ Σ d for the intercept)
 *   coordinator → party        constant coefficients + flooding noise
 * and each party updates only its own weights. At the end of an epoch the
 * guest decrypts the epoch's loss the same masked way and tells the hosts
 * whether to go on. The arithmetic is exactly that of protocol/training/hetero-lr-plain.ts.
 */
import {
  hostBasis,
  lossTerms,
  residualTerms,
  type LinkTerms,
  type Objective,
} from '../../protocol/training/chebyshev-link.ts';
import { applyUpdate, initialState } from '../../protocol/training/optimizer.ts';
import { columnSlice, converged, epochBatches, partialLogits } from '../../protocol/training/plan.ts';
import type { CkksEncryptor, CkksSuite, MaskedSum } from '../../protocol/he/ckks.ts';
import { readDecryptValues } from '../../protocol/wire/decrypt-values.ts';
import { COORDINATOR } from '../../protocol/version.ts';
import type { JobSpec } from '../../protocol/job-spec.ts';
import type { CryptoPool } from '../../runtime/crypto-pool.ts';
import type { JobChannel } from '../../party/channel.ts';
import type { DpPlan } from '../../protocol/privacy/dp-plan.ts';
import type { TrainingCheckpoint, TrainingState } from '../../party/checkpoint.ts';
import { BASIS, DECRYPT, DECRYPT_RESULT, EPOCH_CONTROL, RESIDUAL } from './messages.ts';

export type TrainContext = {
  readonly channel: JobChannel;
  readonly spec: JobSpec;
  readonly suite: CkksSuite;
  readonly encryptor: CkksEncryptor;
  /** This node's crypto worker threads. */
  readonly crypto: CryptoPool;
  /** Preprocessed features of the aligned rows, row-major. */
  readonly X: Float64Array;
  readonly columns: number;
  /** Training rows: indices into the aligned rows. */
  readonly train: Uint32Array;
  /** After each epoch; `model` says which of several one-vs-rest models (cold start) it was. */
  readonly onEpoch: (
    epoch: number,
    loss: number | undefined,
    model?: { readonly index: number; readonly of: number },
  ) => void;
  /** Guest only: what the model fits (a continuous label: `squared`). @default 'logistic' */
  readonly objective?: Objective | undefined;
  /** Differential privacy: no loss is decrypted, so every planned epoch runs. */
  readonly dp?: DpPlan | undefined;
  /** Warm start: this party's weights from an earlier job (the guest's end with its intercept). */
  readonly initialWeights?: Float64Array | undefined;
  /**
   * Rounds already used in this job (e.g. by earlier one-vs-rest classes):
   * this training numbers its rounds from here on, so no message is mistaken
   * for another's. @default 0
   */
  readonly roundsBefore?: number | undefined;
  /** Durable rounds (party/checkpoint.ts), per training by its first round: resume after a restart, resend the same bytes. @default none */
  readonly checkpoint?: ((roundsBefore: number) => TrainingCheckpoint) | undefined;
};

export type TrainedPart = {
  readonly weights: Float64Array;
  readonly intercept: number;
  readonly losses: readonly number[];
  readonly epochs: number;
  /** The last round number this training used. */
  readonly lastRound: number;
};

function chunks(rows: number, slots: number): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (let from = 0; from < rows; from += slots) out.push([from, Math.min(rows, from + slots)]);
  return out;
}

/** Asks the coordinator to decrypt masked sums and returns the unmasked slot sums. */
async function decryptSums(ctx: TrainContext, round: number, masked: readonly MaskedSum[], seq = 0): Promise<number[]> {
  ctx.channel.post(COORDINATOR, DECRYPT, round, { ciphertexts: masked.map((m) => m.ciphertext) }, seq);
  const response = await ctx.channel.take(COORDINATOR, DECRYPT_RESULT, round, seq);
  const values = readDecryptValues(response.values, masked.length);
  return masked.map((m, k) => ctx.suite.unmask(values[k] ?? 0n, m));
}

/** Without a checkpoint, a round's results are just computed. */
async function prepare<T>(
  durable: TrainingCheckpoint | undefined,
  key: string,
  compute: () => T | Promise<T>,
): Promise<T> {
  return durable === undefined ? compute() : durable.prepare(key, compute);
}

/** Restores weights and optimizer state saved before a restart; returns the saved progress. */
function resume(
  durable: TrainingCheckpoint | undefined,
  w: Float64Array,
  state: TrainingState['optimizer'],
  losses: number[],
): TrainingState | undefined {
  const saved = durable?.resumed;
  if (saved === undefined) return undefined;
  w.set(saved.weights);
  Object.assign(state, structuredClone(saved.optimizer));
  losses.push(...saved.losses);
  return saved;
}

/**
 * A host's next mini-batch's feature columns, encoded while it waits for the
 * coordinator, the guest and its own next basis: encoding is a third of a
 * masked weighted sum's CPU, and the rows of every batch of an epoch are
 * known in advance (the weights are not, so the basis cannot be). A failure
 * here is left for the round that uses it to report.
 */
function encodeAhead(
  crypto: CryptoPool,
  suite: CkksSuite,
  encryptor: CkksEncryptor,
  rows: Uint32Array,
  columns: number,
  column: (c: number, j: number) => Float64Array,
): Promise<Uint8Array[][]> {
  const work = crypto.encodeColumnsAll(suite, encryptor, Math.ceil(rows.length / suite.slots), columns, column);
  work.catch(() => undefined); // awaited by the next round; not an unhandled rejection meanwhile
  return work;
}

function batch(
  ciphertexts: readonly Uint8Array[],
  rows: number,
  perChunk: number,
): { ciphertexts: Uint8Array[]; rows: number; perChunk: number } {
  return { ciphertexts: [...ciphertexts], rows, perChunk };
}

function slice(
  terms: LinkTerms,
  from: number,
  to: number,
  hosts: number,
): { coefficients: Float64Array[]; constant: Float64Array } {
  const own = terms.coefficients.map((c) => c.subarray(from, to));
  return { coefficients: Array.from({ length: hosts }, () => own).flat(), constant: terms.constant.subarray(from, to) };
}

export async function trainGuest(ctx: TrainContext, labels: Float64Array): Promise<TrainedPart> {
  const { spec, suite, X, columns, channel } = ctx;
  const plan = spec.training;
  const hosts = spec.hosts.map((h) => h.name);
  const m = plan.link.degree;
  const w = new Float64Array(columns + 1); // the last entry is the intercept
  if (ctx.initialWeights !== undefined) w.set(ctx.initialWeights.subarray(0, w.length));
  const state = initialState(w.length);
  const penalised = Uint8Array.from({ length: w.length }, (_, k) => (k < columns ? 1 : 0));
  const losses: number[] = [];
  let round = ctx.roundsBefore ?? 0;
  const durable = ctx.checkpoint?.(round);
  const resumed = resume(durable, w, state, losses);
  let epochs = resumed?.epochs ?? 0;
  for (let epoch = 0; epoch < plan.maxEpochs && resumed?.stopped !== true; epoch++) {
    let lossCt = epoch === resumed?.epochs ? resumed.lossCt : undefined;
    for (const positions of epochBatches(ctx.train.length, plan.batchSize, spec.seed, epoch)) {
      round += 1;
      if (round <= (resumed?.round ?? -1)) continue; // done before a restart
      const rows = Uint32Array.from(positions, (p) => ctx.train[p] ?? 0);
      const y = Float64Array.from(rows, (r) => labels[r] ?? 0);
      const a = partialLogits(X, columns, rows, w, w[columns]);
      const bases = await Promise.all(hosts.map(async (h) => (await channel.take(h, BASIS, round)).ciphertexts));
      const prepared = await prepare(durable, `guest round ${round}`, () => {
        const residual = residualTerms(plan.link, a, y, hosts.length, ctx.objective);
        const loss = lossTerms(plan.link, a, y, hosts.length, ctx.objective);
        const residuals: Uint8Array[] = [];
        let lossSum = lossCt;
        chunks(rows.length, suite.slots).forEach(([from, to], c) => {
          const basis = bases.flatMap((b) => b.slice(c * m, (c + 1) * m));
          const r = slice(residual, from, to, hosts.length);
          residuals.push(suite.combine(basis, r.coefficients, r.constant, ctx.encryptor));
          if (ctx.dp !== undefined) return;
          const l = slice(loss, from, to, hosts.length);
          const lossChunk = suite.combine(basis, l.coefficients, l.constant, ctx.encryptor);
          lossSum = lossSum === undefined ? lossChunk : suite.sum([lossSum, lossChunk], 'residual');
        });
        return { residuals, lossCt: lossSum };
      });
      lossCt = prepared.lossCt;
      // The hosts start on the residual while this party computes its own (fewer) masked sums.
      for (const h of hosts) channel.post(h, RESIDUAL, round, batch(prepared.residuals, rows.length, 1));
      const masked = await prepare(durable, `guest masked ${round}`, async () => {
        const sums = await ctx.crypto.maskedWeightedSumsAll(suite, ctx.encryptor, prepared.residuals, columns, (c, j) =>
          columnSlice(X, columns, rows, j, c * suite.slots, Math.min(rows.length, (c + 1) * suite.slots)),
        );
        sums.push(suite.maskedSum(prepared.residuals, 'residual'));
        return sums;
      });
      const sums = await decryptSums(ctx, round, masked);
      applyUpdate(
        plan.optimizer,
        state,
        w,
        Float64Array.from(sums, (s) => s / rows.length),
        penalised,
        epoch,
      );
      await durable?.completed({ round, epochs, stopped: false, weights: w, optimizer: state, losses, lossCt });
    }
    if (epoch < epochs) continue; // this epoch's end was done before a restart
    if (ctx.dp === undefined) {
      const masked = await prepare(durable, `guest loss ${round}`, () => [
        suite.maskedSum([lossCt as Uint8Array], 'residual'),
      ]);
      const [lossSum] = await decryptSums(ctx, round, masked, 1);
      losses.push((lossSum ?? 0) / ctx.train.length);
    }
    epochs = epoch + 1;
    const stop =
      (ctx.dp === undefined && converged(losses, plan.tolerance, plan.patience)) || epochs === plan.maxEpochs;
    ctx.onEpoch(epochs, losses.at(-1));
    for (const h of hosts) channel.post(h, EPOCH_CONTROL, round, { action: stop ? 'stop' : 'continue', epoch: epochs });
    await durable?.completed({ round, epochs, stopped: stop, weights: w, optimizer: state, losses });
    if (stop) break;
  }
  return {
    weights: w.slice(0, columns),
    intercept: w[columns] ?? 0,
    losses,
    epochs,
    lastRound: Math.max(round, resumed?.round ?? 0),
  };
}

export async function trainHost(ctx: TrainContext): Promise<TrainedPart> {
  const { spec, suite, X, columns, channel, encryptor } = ctx;
  const plan = spec.training;
  const guest = spec.guest.name;
  const w = new Float64Array(columns);
  if (ctx.initialWeights !== undefined) w.set(ctx.initialWeights.subarray(0, w.length));
  const state = initialState(w.length);
  const penalised = new Uint8Array(columns).fill(1);
  let round = ctx.roundsBefore ?? 0;
  const durable = ctx.checkpoint?.(round);
  const resumed = resume(durable, w, state, []);
  let epochs = resumed?.epochs ?? 0;
  const columnOf =
    (rows: Uint32Array) =>
    (c: number, j: number): Float64Array =>
      columnSlice(X, columns, rows, j, c * suite.slots, Math.min(rows.length, (c + 1) * suite.slots));
  for (let epoch = 0; epoch < plan.maxEpochs && resumed?.stopped !== true; epoch++) {
    const batches = [...epochBatches(ctx.train.length, plan.batchSize, spec.seed, epoch)].map((positions) =>
      Uint32Array.from(positions, (p) => ctx.train[p] ?? 0),
    );
    // The next mini-batch's columns, encoded on the workers while this one waits on its peers (see encodeAhead).
    let ahead: Promise<Uint8Array[][]> | undefined;
    for (const [b, rows] of batches.entries()) {
      round += 1;
      if (round <= (resumed?.round ?? -1)) continue; // done before a restart
      const encoded = ahead;
      ahead = undefined;
      const basis = hostBasis(plan.link, partialLogits(X, columns, rows, w));
      // Saved before it is sent: a re-run after a crash must send the guest the same bytes (encryption is randomised).
      const cts = await prepare(durable, `host basis ${round}`, () =>
        ctx.crypto.encryptAll(
          suite,
          encryptor,
          chunks(rows.length, suite.slots).flatMap(([from, to]) => basis.map((values) => values.subarray(from, to))),
        ),
      );
      channel.post(guest, BASIS, round, batch(cts, rows.length, plan.link.degree));
      const residuals = (await channel.take(guest, RESIDUAL, round)).ciphertexts;
      const plaintexts = await encoded;
      const column =
        plaintexts === undefined
          ? columnOf(rows)
          : (c: number, j: number): Uint8Array => plaintexts[j]?.[c] as Uint8Array;
      const masked = await prepare(durable, `host round ${round}`, () =>
        ctx.crypto.maskedWeightedSumsAll(suite, ctx.encryptor, residuals, columns, column),
      );
      const next = batches[b + 1];
      if (next !== undefined) ahead = encodeAhead(ctx.crypto, suite, encryptor, next, columns, columnOf(next));
      const sums = await decryptSums(ctx, round, masked);
      applyUpdate(
        plan.optimizer,
        state,
        w,
        Float64Array.from(sums, (s) => s / rows.length),
        penalised,
        epoch,
      );
      await durable?.completed({ round, epochs, stopped: false, weights: w, optimizer: state, losses: [] });
    }
    if (epoch < epochs) continue; // this epoch's end was done before a restart
    const control = await channel.take(guest, EPOCH_CONTROL, round);
    epochs = epoch + 1;
    ctx.onEpoch(epochs, undefined);
    await durable?.completed({
      round,
      epochs,
      stopped: control.action === 'stop',
      weights: w,
      optimizer: state,
      losses: [],
    });
    if (control.action === 'stop') break;
  }
  return { weights: w, intercept: 0, losses: [], epochs, lastRound: Math.max(round, resumed?.round ?? 0) };
}
