/**
 * Histograms of a host's columns without the host seeing a gradient or the
 * guest seeing a row's bin: two-party secret sharing with the coordinator
 * as the dealer of correlated randomness (Beaver's trick for a matrix–vector
 * product; SecretFlow's SS-XGB runs XGBoost on the same kind of shares).
 *
 * The host's bins are a 0/1 matrix B (training rows × its bins, one 1 per
 * column per row). Once per job the host sends the guest B − V, where V is
 * drawn from a seed only the host and the coordinator know. For each node
 * vector x (a node's quantised g or h, zero outside the node) the guest
 * sends the host x − u, where u is drawn from a seed only the guest and the
 * coordinator know; the host answers Vᵀ(x − u) + z, the coordinator
 * Vᵀu − z (z again from the host's seed), and the guest adds
 * (B − V)ᵀx + (Vᵀu − z) + (Vᵀ(x − u) + z) = Bᵀx: the node's per-bin sums.
 * Everything is modulo 2^32 and every mask is fresh and uniform, so each
 * message alone is uniformly random to its recipient; only the guest's sum
 * means anything, and it is the histogram SecureBoost would reveal. The
 * coordinator sees seeds and sizes; it learns nothing if it does not
 * collude with a party (the same trust as its role as CKKS key holder).
 */
import { randomBytes } from 'node:crypto';
import { COORDINATOR } from '../../protocol/version.ts';
import { JobError } from '../../protocol/errors.ts';
import type { JobChannel } from '../../party/channel.ts';
import type { BinLayout } from './core/binning.ts';
import type { NodeVectors, SplitRequest, TreeParty } from './core/booster.ts';
import type { Histogram } from './core/histogram.ts';
import { splitBits } from './core/local-party.ts';
import { addWords } from './core/ring.ts';
import { prfWords } from './prf.ts';
import {
  blockCount,
  heldMatrix,
  rowsPerBlock,
  seededMatrix,
  transposeTimes,
  type ShareMatrix,
} from './share-matrix.ts';
import { nodeSecretSeed } from '../../party/node-secret.ts';
import type { JobContext } from '../../jobs/context.ts';
import {
  TREE_DEAL,
  TREE_DEALT,
  TREE_HOST_SHARES,
  TREE_LAYOUT,
  TREE_MASKED_BINS,
  TREE_SEED,
  TREE_SPLIT_BITS,
  TREE_SPLITS,
  TREE_STEP,
  TREE_VECTORS,
} from './messages.ts';

/**
 * The largest rows × bins matrix a job may need: the guest holds B − V in
 * memory (4 GiB; the host and the dealer redraw V from its seed instead
 * once it passes share-matrix.ts's HELD_MASK_WORDS).
 */
export const MAX_SHARE_WORDS = 2 ** 30;

/** Fails the job at once, before anything is sent, when a host's masked bins would not fit at the guest. */
export function refuseTooWide(host: string, rows: number, width: number, columns: number): void {
  if (rows * width <= MAX_SHARE_WORDS) return;
  const why = `${rows} training rows × ${width} bins over ${columns} columns is ${((rows * width * 4) / 2 ** 30).toFixed(1)} GiB of masked bins, more than the ${(MAX_SHARE_WORDS * 4) / 2 ** 30} GiB the guest holds`;
  throw new JobError('JOB_STATE_CONFLICT', `${host}: ${why}`, {
    publicMessage: `${host}'s tree histogram is too wide: ${why}. Fix: lower model.maxBins, use fewer of ${host}'s columns, or train on fewer rows`,
  });
}

const words = (a: Uint32Array | Int32Array): Uint8Array => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
function readWords(bytes: Uint8Array, count: number, what: string): Uint32Array {
  if (bytes.byteLength !== count * 4)
    throw new JobError('JOB_STATE_CONFLICT', `${what}: expected ${count} words, got ${bytes.byteLength} bytes`);
  const out = new Uint32Array(count);
  new Uint8Array(out.buffer).set(bytes);
  return out;
}

/** The per-column one-hot row of a training row's bins, as uint32 words of B. */
function oneHot(codes: Uint16Array, columns: number, layout: BinLayout, row: number, into: Uint32Array): void {
  into.fill(0);
  for (let c = 0; c < columns; c++) into[(layout.offsets[c] ?? 0) + (codes[row * columns + c] ?? 0)] = 1;
}

/** Labels of the masks: the guest's u per host and vector, the host's z per vector. */
export const maskLabels = {
  u: (host: string, vector: number): string => `u|${host}|${vector}`,
  z: (vector: number): string => `z|${vector}`,
  v: 'V',
};

// ——— The arithmetic of each role (pure; the functions below only add messages) ———

/** Block `index` of B − V: the host's training rows of V's block `index` (row-major, width words a row). */
export function maskedBins(t: HostTables, V: ShareMatrix, index: number): Uint32Array {
  const columns = t.layout.offsets.length;
  const width = t.layout.total;
  const first = index * V.rowsPerBlock;
  const count = Math.min(V.rowsPerBlock, V.rows - first);
  const v = V.block(index);
  const row = new Uint32Array(width);
  const masked = new Uint32Array(count * width);
  for (let p = 0; p < count; p++) {
    oneHot(t.codes, columns, t.layout, t.train[first + p] ?? 0, row);
    for (let k = 0; k < width; k++) masked[p * width + k] = ((row[k] ?? 0) - (v[p * width + k] ?? 0)) >>> 0;
  }
  return masked;
}

/** The host's share of each masked vector's histogram: Vᵀ(x − u) + z, vector after vector. */
export function hostShares(
  V: ShareMatrix,
  hostSeed: Uint8Array,
  masked: readonly Int32Array[],
  first: number,
): Int32Array {
  const width = V.width;
  const out = new Int32Array(masked.length * width);
  transposeTimes(V, masked).forEach((s, v) =>
    out.set(addWords(s, prfWords(hostSeed, maskLabels.z(first + v), width)), v * width),
  );
  return out;
}

/** The guest's share of each node's g and h histograms: (B − V)ᵀx over the node's rows only. */
export function guestShares(masked: ShareMatrix, nodes: readonly NodeVectors[]): Int32Array[] {
  return nodes.flatMap((n) => transposeTimes(masked, [n.g, n.h], n.positions));
}

/** x − u for each vector: what the guest sends the host. */
export function maskVectors(
  guestSeed: Uint8Array,
  host: string,
  xs: readonly Int32Array[],
  first: number,
  trainRows: number,
): Uint32Array {
  const out = new Uint32Array(xs.length * trainRows);
  xs.forEach((x, v) => {
    const u = prfWords(guestSeed, maskLabels.u(host, first + v), trainRows);
    for (let p = 0; p < trainRows; p++) out[v * trainRows + p] = ((x[p] ?? 0) - (u[p] ?? 0)) >>> 0;
  });
  return out;
}

/** Per node, its histogram: the three shares added (exact: true sums are below 2^31). */
export function combineShares(
  own: readonly Int32Array[],
  dealt: Uint32Array | Int32Array,
  host: Uint32Array | Int32Array,
  width: number,
): Histogram[] {
  return Array.from({ length: own.length / 2 }, (_, j) => {
    const hist = new Float64Array(2 * width);
    for (const half of [0, 1]) {
      const v = 2 * j + half;
      hist.set(
        addWords(
          own[v] as Int32Array,
          dealt.subarray(v * width, (v + 1) * width),
          host.subarray(v * width, (v + 1) * width),
        ),
        half * width,
      );
    }
    return hist;
  });
}

/**
 * This node's mask seed for a job, from its node secret: a party restarted
 * mid-job draws the same masks and resends the same bytes, so envelopes the
 * coordinator already holds stay consistent with what the party does next.
 */
export async function maskSeed(job: JobContext): Promise<Uint8Array> {
  return new Uint8Array(
    Buffer.from(await nodeSecretSeed(job.config.node.dataDir, 'tree-masks', job.channel.jobId), 'hex'),
  );
}

// ——— The host ———

export type HostTables = {
  readonly codes: Uint16Array;
  readonly layout: BinLayout;
  readonly train: Uint32Array;
  readonly rows: number;
};

/**
 * The host's side for a whole job: gives the dealer its seed, sends the
 * masked bins, then answers the guest's steps until it says stop. Returns
 * the splits the guest chose on its columns, by record.
 */
export async function serveTreeHost(
  channel: JobChannel,
  guest: string,
  t: HostTables,
  seed: Uint8Array = new Uint8Array(randomBytes(32)),
): Promise<SplitRequest[]> {
  const columns = t.layout.offsets.length;
  const width = t.layout.total;
  refuseTooWide(channel.me, t.train.length, width, columns);
  channel.post(COORDINATOR, TREE_SEED, 0, { seed, rows: t.train.length, bins: width });
  channel.post(guest, TREE_LAYOUT, 0, { words: words(t.layout.counts), count: 1, first: 0, width: columns });
  const V = seededMatrix(seed, maskLabels.v, t.train.length, width);
  for (let chunk = 0; chunk < blockCount(V); chunk++) {
    const masked = maskedBins(t, V, chunk);
    const first = chunk * V.rowsPerBlock;
    channel.post(
      guest,
      TREE_MASKED_BINS,
      0,
      { words: words(masked), count: masked.length / width, first, width },
      chunk,
    );
    await channel.drained();
  }
  const records: SplitRequest[] = [];
  for (let op = 0; ; op++) {
    const { action } = await channel.take(guest, TREE_STEP, 0, op);
    if (action === 'stop') return records;
    if (action === 'histograms') {
      const m = await channel.take(guest, TREE_VECTORS, 0, op);
      if (m.width !== t.train.length)
        throw new JobError(
          'JOB_STATE_CONFLICT',
          `tree-vectors of ${m.width} rows, but the host trains on ${t.train.length}`,
        );
      const all = readWords(m.words, m.count * m.width, 'tree-vectors');
      const xs = Array.from({ length: m.count }, (_, v) => new Int32Array(all.buffer, v * m.width * 4, m.width));
      const out = hostShares(V, seed, xs, m.first);
      channel.post(guest, TREE_HOST_SHARES, 0, { words: words(out), count: m.count, first: m.first, width }, op);
    } else if (action === 'splits') {
      const s = await channel.take(guest, TREE_SPLITS, 0, op);
      const w = readWords(s.splits, s.count * 4, 'tree-splits');
      const requests = Array.from({ length: s.count }, (_, j) => ({
        record: w[4 * j] ?? 0,
        column: w[4 * j + 1] ?? 0,
        bin: w[4 * j + 2] ?? 0,
        missingLeft: w[4 * j + 3] === 1,
      }));
      for (const r of requests) {
        if (r.column >= columns || r.bin >= (t.layout.counts[r.column] ?? 0) - 2 || r.record !== records.length)
          throw new JobError(
            'JOB_STATE_CONFLICT',
            `the guest asked for split ${JSON.stringify(r)}, which is not a split of this host's ${columns} columns`,
          );
        records.push(r);
      }
      const bits = requests.map((r) => packBits(splitBits(t.codes, t.rows, columns, t.layout, r)));
      const packed = new Uint8Array(bits.reduce((n, b) => n + b.length, 0));
      let at = 0;
      for (const b of bits) {
        packed.set(b, at);
        at += b.length;
      }
      channel.post(guest, TREE_SPLIT_BITS, 0, { bits: packed, rows: t.rows, count: requests.length }, op);
    } else {
      throw new JobError('JOB_STATE_CONFLICT', `unknown tree step "${action}" from ${guest}`);
    }
  }
}

function packBits(bits: Uint8Array): Uint8Array {
  const out = new Uint8Array(Math.ceil(bits.length / 8));
  bits.forEach((b, r) => {
    if (b === 1) out[r >> 3] = (out[r >> 3] ?? 0) | (1 << (r & 7));
  });
  return out;
}

function unpackBits(packed: Uint8Array, rows: number): Uint8Array {
  return Uint8Array.from({ length: rows }, (_, r) => ((packed[r >> 3] ?? 0) >> (r & 7)) & 1);
}

// ——— The guest ———

/** The guest's seed for the dealer, sent once per job (every host's u is drawn from it). */
export function sendGuestSeed(channel: JobChannel, seed: Uint8Array = new Uint8Array(randomBytes(32))): Uint8Array {
  channel.post(COORDINATOR, TREE_SEED, 0, { seed, rows: 0, bins: 0 });
  return seed;
}

/** A host's columns as the booster sees them at the guest; `stop()` ends the host's loop. */
export type RemoteHost = TreeParty & { stop(): void };

/** Receives a host's layout and masked bins; then histograms and splits go through the protocol above. */
export async function remoteHost(
  channel: JobChannel,
  host: string,
  hostIndex: number,
  seed: Uint8Array,
  trainRows: number,
  rows: number,
): Promise<RemoteHost> {
  const layoutMsg = await channel.take(host, TREE_LAYOUT, 0);
  const counts = readWords(layoutMsg.words, layoutMsg.width, 'tree-layout');
  const offsets = new Uint32Array(counts.length);
  let total = 0;
  counts.forEach((c, k) => {
    offsets[k] = total;
    total += c;
  });
  // The guest never sees the host's edges: only how many bins each column has.
  const layout: BinLayout = {
    edges: Array.from(counts, (c) => new Float64Array(Math.max(0, c - 2))),
    offsets,
    counts,
    total,
  };
  // The host refuses first; a layout that still comes through too wide fails here the same way, before any block is held.
  refuseTooWide(host, trainRows, total, counts.length);
  const per = rowsPerBlock(total);
  const blocks: Uint32Array[] = [];
  for (let received = 0, chunk = 0; received < trainRows; chunk++) {
    const m = await channel.take(host, TREE_MASKED_BINS, 0, chunk);
    const count = Math.min(per, trainRows - received);
    if (m.width !== total || m.first !== received || m.count !== count)
      throw new JobError(
        'JOB_STATE_CONFLICT',
        `${host} sent masked bins for rows ${m.first}…${m.first + m.count} of width ${m.width}; expected rows ${received}…${received + count} of ${trainRows}, width ${total}`,
      );
    blocks.push(readWords(m.words, m.count * total, 'tree-masked-bins'));
    received += m.count;
  }
  const masked = heldMatrix(trainRows, total, blocks);
  let op = 0;
  let vector = 0;
  return {
    layout,
    async histograms(nodes: readonly NodeVectors[]): Promise<Histogram[]> {
      const at = op++;
      const first = vector;
      vector += 2 * nodes.length;
      const xs = nodes.flatMap((n) => [n.g, n.h]);
      const out = maskVectors(seed, host, xs, first, trainRows);
      channel.post(host, TREE_STEP, 0, { action: 'histograms', epoch: at }, at);
      channel.post(host, TREE_VECTORS, 0, { words: words(out), count: xs.length, first, width: trainRows }, at);
      channel.post(COORDINATOR, TREE_DEAL, hostIndex, { host, first, count: xs.length }, at);
      // The guest's own share while the others compute: only the node's rows are non-zero.
      const own = guestShares(masked, nodes);
      const [dealt, shares] = await Promise.all([
        channel.take(COORDINATOR, TREE_DEALT, hostIndex, at),
        channel.take(host, TREE_HOST_SHARES, 0, at),
      ]);
      for (const [what, m] of [
        ['tree-dealt', dealt],
        ['tree-host-shares', shares],
      ] as const) {
        if (m.first !== first || m.count !== xs.length || m.width !== total)
          throw new JobError(
            'JOB_STATE_CONFLICT',
            `${what} for vectors ${m.first}+${m.count} of width ${m.width}; expected ${first}+${xs.length} of width ${total}`,
          );
      }
      const d = readWords(dealt.words, xs.length * total, 'tree-dealt');
      const s = readWords(shares.words, xs.length * total, 'tree-host-shares');
      return combineShares(own, d, s, total);
    },
    async split(requests: readonly SplitRequest[]): Promise<Uint8Array[]> {
      const at = op++;
      const w = new Uint32Array(requests.length * 4);
      requests.forEach((r, j) => w.set([r.record, r.column, r.bin, r.missingLeft ? 1 : 0], 4 * j));
      channel.post(host, TREE_STEP, 0, { action: 'splits', epoch: at }, at);
      channel.post(host, TREE_SPLITS, 0, { splits: words(w), count: requests.length }, at);
      const m = await channel.take(host, TREE_SPLIT_BITS, 0, at);
      const bytes = Math.ceil(rows / 8);
      if (m.rows !== rows || m.count !== requests.length || m.bits.byteLength !== bytes * requests.length)
        throw new JobError(
          'JOB_STATE_CONFLICT',
          `${host} answered ${m.count} splits over ${m.rows} rows; expected ${requests.length} over ${rows}`,
        );
      return requests.map((_, j) => unpackBits(m.bits.subarray(j * bytes, (j + 1) * bytes), rows));
    },
    stop(): void {
      channel.post(host, TREE_STEP, 0, { action: 'stop', epoch: op }, op);
    },
  };
}

// ——— The dealer (the coordinator) ———

/** The coordinator's share of each requested vector's histogram: Vᵀu − z. */
export function dealShares(
  guestSeed: Uint8Array,
  host: string,
  hostSeed: Uint8Array,
  V: ShareMatrix,
  first: number,
  count: number,
): Int32Array {
  const width = V.width;
  const us = Array.from(
    { length: count },
    (_, v) => new Int32Array(prfWords(guestSeed, maskLabels.u(host, first + v), V.rows).buffer),
  );
  // One pass over V for every vector: a V drawn block by block is drawn once per request.
  const out = new Int32Array(count * width);
  transposeTimes(V, us).forEach((vu, v) => {
    const z = prfWords(hostSeed, maskLabels.z(first + v), width);
    for (let k = 0; k < width; k++) out[v * width + k] = ((vu[k] ?? 0) - (z[k] ?? 0)) | 0;
  });
  return out;
}
