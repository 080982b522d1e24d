/**
 * One bucket of OPRF-PSI at the sender, as a pure state machine (KKRT16's
 * OPRF sender).
 *
 *   awaiting-corrections  each `senderBucketReceive` takes one chunk of the receiver's corrections
 *   sending-values        each `senderBucketNext` emits the values of one chunk of positions
 *   done                  which local row sits at each position (-1: padding)
 *
 * With s its 512 base-OT choice bits and gⱼ the j-th bits of its column
 * streams (seeds kᵢ^sᵢ), the sender holds qⱼ = gⱼ ⊕ (uⱼ ∧ s) = t⁰ⱼ ⊕ (C(xⱼ) ∧ s)
 * for every bin j, and for each of its ids y, under each hash function i,
 * sends F = H(q_b ⊕ (C(y‖i) ∧ s)) with b = hᵢ(y): equal to the receiver's
 * H(t⁰_b) when y‖i = x_b‖i, and pseudorandom to the receiver otherwise
 * (codewords of different inputs differ in ≥ 128 bits, each hidden by s).
 *
 * Positions: the bucket's ids in a shuffle drawn from the sender's secret,
 * padded with random values to the public bucket size, so neither the
 * order nor the bucket's true size shows. Memory: 64 bytes per cuckoo bin
 * (the q rows) plus 28 bytes per id.
 */
import { ProtocolError, ProtocolStageError } from '../../errors.ts';
import { CodeCipher, ColumnStreams, RowHasher } from './aes.ts';
import { columnStride, columnsToRows } from './bit-matrix.ts';
import { dedupe, digestWords, type BucketItems } from './bucket-items.ts';
import { cuckooBinsOf, tweakWord } from './digest.ts';
import type { OprfMessage, OprfValues } from './messages.ts';
import { CHUNK_ROWS, CODE_BITS, HASHES, ROW_WORDS } from './params.ts';
import { Scratch } from './scratch.ts';
import { expand, streamFor } from './secrets.ts';
import { VALUE_CHUNK_POSITIONS, type OprfParams, type SenderSession } from './session.ts';

export type SenderBucketResult = {
  readonly bucket: number;
  /** The local row at each position of the bucket (its global position is bucket · senderCapacity + position), -1 for padding. */
  readonly rows: Int32Array;
};

type Evaluation = {
  readonly items: BucketItems;
  readonly words: Int32Array;
  readonly binsOf: Uint32Array;
  /** Id at each position, -1 for padding. */
  readonly slots: Int32Array;
  readonly choices: Int32Array;
  readonly streams: ColumnStreams;
  readonly code: CodeCipher;
  readonly hasher: RowHasher;
  /** q rows, 16 words per bin. */
  readonly q: Int32Array;
  readonly secret: Uint8Array;
  readonly scratch: Scratch;
};

export type SenderBucketState =
  | {
      readonly stage: 'awaiting-corrections';
      readonly params: OprfParams;
      readonly bucket: number;
      readonly chunk: number;
      readonly ev: Evaluation;
    }
  | {
      readonly stage: 'sending-values';
      readonly params: OprfParams;
      readonly bucket: number;
      readonly chunk: number;
      readonly ev: Evaluation;
    }
  | { readonly stage: 'done'; readonly result: SenderBucketResult };

export type SenderBucketTransition = { readonly state: SenderBucketState; readonly outbound: readonly OprfMessage[] };

/** Starts bucket `bucket` with this party's ids of that bucket; it waits for the receiver's corrections. */
export function startSenderBucket(session: SenderSession, bucket: number, bucketItems: BucketItems): SenderBucketState {
  const { params } = session;
  const items = dedupe(bucketItems);
  const count = items.rows.length;
  if (count > params.senderCapacity) {
    throw new ProtocolError(
      'PSI_INPUT_INVALID',
      `OPRF-PSI bucket ${bucket} holds ${count} ids, above its padded size ${params.senderCapacity} (probability below 2^-40: rerun the job)`,
    );
  }
  const words = digestWords(items.digests);
  const binsOf = new Uint32Array(HASHES * count);
  cuckooBinsOf(words, count, params.cuckooSeed, params.bins, binsOf);
  const order = streamFor(session.secret, `slots|${bucket}`).permutation(params.senderCapacity);
  const slots = new Int32Array(order.buffer, order.byteOffset, order.length);
  for (let p = 0; p < slots.length; p++) if (slots[p]! >= count) slots[p] = -1;
  const ev: Evaluation = {
    items,
    words,
    binsOf,
    slots,
    choices: new Int32Array(new Uint8Array(session.choices).buffer),
    streams: new ColumnStreams(session.seeds, bucket),
    code: new CodeCipher(params.codeKeys),
    hasher: new RowHasher(params.hashKey),
    q: new Int32Array(params.bins * ROW_WORDS),
    secret: session.secret,
    scratch: new Scratch(),
  };
  const state: SenderBucketState = { stage: 'awaiting-corrections', params, bucket, chunk: 0, ev };
  return params.correctionChunks === 0 ? sendValues(state) : state;
}

function sendValues(state: Extract<SenderBucketState, { stage: 'awaiting-corrections' }>): SenderBucketState {
  if (state.params.valueChunks === 0)
    return { stage: 'done', result: { bucket: state.bucket, rows: rowsOf(state.ev) } };
  return { stage: 'sending-values', params: state.params, bucket: state.bucket, chunk: 0, ev: state.ev };
}

/** Takes the next chunk of corrections: q = g ⊕ (u ∧ s) for its bins. */
export function senderBucketReceive(state: SenderBucketState, message: OprfMessage): SenderBucketTransition {
  if (state.stage !== 'awaiting-corrections' || message.step !== 'psi-oprf-correction') {
    throw new ProtocolStageError(
      'psi-oprf-sender',
      state.stage === 'awaiting-corrections' ? 'psi-oprf-correction' : state.stage,
      message.step,
    );
  }
  const { params, bucket, chunk, ev } = state;
  if (message.bucket !== bucket || message.chunk !== chunk) {
    throw new ProtocolStageError(
      'psi-oprf-sender',
      `psi-oprf-correction bucket ${bucket} chunk ${chunk}`,
      `psi-oprf-correction bucket ${message.bucket} chunk ${message.chunk}`,
    );
  }
  const first = chunk * CHUNK_ROWS;
  const rows = Math.min(CHUNK_ROWS, params.bins - first);
  if (message.rows.byteLength !== rows * ROW_WORDS * 4) {
    throw new ProtocolError(
      'MESSAGE_CORRUPT',
      `OPRF-PSI corrections chunk ${chunk} of bucket ${bucket}: expected ${rows * ROW_WORDS * 4} bytes, got ${message.rows.byteLength}`,
    );
  }
  const u =
    message.rows.byteOffset % 4 === 0
      ? new Int32Array(message.rows.buffer, message.rows.byteOffset, rows * ROW_WORDS)
      : new Int32Array(new Uint8Array(message.rows).buffer); // protobuf hands out Buffer views at any offset
  const stride = columnStride(rows);
  const g = ev.scratch.words('g', CODE_BITS * stride);
  ev.streams.next(rows, g, stride);
  const q = ev.q.subarray(first * ROW_WORDS, (first + rows) * ROW_WORDS);
  columnsToRows(g, rows, q, stride);
  const s = ev.choices;
  for (let j = 0; j < rows * ROW_WORDS; j += ROW_WORDS) {
    for (let w = 0; w < ROW_WORDS; w++) q[j + w] = q[j + w]! ^ (u[j + w]! & s[w]!);
  }
  const next = { ...state, chunk: chunk + 1 };
  return { state: next.chunk === params.correctionChunks ? sendValues(next) : next, outbound: [] };
}

/** Emits the values of the next chunk of positions: 3 per position, ℓ bytes each. */
export function senderBucketNext(state: SenderBucketState): SenderBucketTransition {
  if (state.stage !== 'sending-values') throw new ProtocolStageError('psi-oprf-sender', 'sending-values', state.stage);
  const { params, bucket, chunk, ev } = state;
  const first = chunk * VALUE_CHUNK_POSITIONS;
  const positions = Math.min(VALUE_CHUNK_POSITIONS, params.senderCapacity - first);
  const count = positions * HASHES;
  const inputs = ev.scratch.words('inputs', count * 4);
  const { slots, words, binsOf, q, choices: s } = ev;
  for (let p = 0; p < positions; p++) {
    const y = slots[first + p]!;
    if (y < 0) continue;
    for (let i = 0; i < HASHES; i++) {
      const e = 4 * (HASHES * p + i);
      inputs[e] = words[4 * y]! ^ tweakWord(i);
      inputs[e + 1] = words[4 * y + 1]!;
      inputs[e + 2] = words[4 * y + 2]!;
      inputs[e + 3] = words[4 * y + 3]!;
    }
  }
  const rows = ev.scratch.words('rows', count * ROW_WORDS);
  ev.code.encode(inputs, count, rows);
  // F = H(q_b ⊕ (C(y‖i) ∧ s)), the row written in place of the codeword.
  for (let p = 0; p < positions; p++) {
    const y = slots[first + p]!;
    if (y < 0) continue;
    for (let i = 0; i < HASHES; i++) {
      const r = ROW_WORDS * (HASHES * p + i);
      const b = ROW_WORDS * binsOf[HASHES * y + i]!;
      for (let w = 0; w < ROW_WORDS; w++) rows[r + w] = q[b + w]! ^ (rows[r + w]! & s[w]!);
    }
  }
  const hashed = ev.scratch.words('hashed', count * 4);
  ev.hasher.hash(rows, count, hashed);
  const message: OprfValues = {
    step: 'psi-oprf-values',
    bucket,
    chunk,
    values: packValues(state, hashed, first, positions),
  };
  const next =
    chunk + 1 < params.valueChunks
      ? { ...state, chunk: chunk + 1 }
      : ({ stage: 'done', result: { bucket, rows: rowsOf(ev) } } as const);
  return { state: next, outbound: [message] };
}

/** The first ℓ bytes of each hashed row; padding positions get random bytes from the secret. */
function packValues(
  state: Extract<SenderBucketState, { stage: 'sending-values' }>,
  hashed: Int32Array,
  first: number,
  positions: number,
): Uint8Array {
  const { params, bucket, chunk, ev } = state;
  const l = params.valueBytes;
  const bytes = new Uint8Array(hashed.buffer, hashed.byteOffset, hashed.byteLength);
  const out = new Uint8Array(positions * HASHES * l);
  const padding = expand(ev.secret, `padding|${bucket}|${chunk}`, out.byteLength);
  for (let p = 0; p < positions; p++) {
    const real = ev.slots[first + p]! >= 0;
    for (let e = HASHES * p; e < HASHES * (p + 1); e++) {
      if (real) for (let b = 0; b < l; b++) out[e * l + b] = bytes[16 * e + b]!;
      else for (let b = 0; b < l; b++) out[e * l + b] = padding[e * l + b]!;
    }
  }
  return out;
}

function rowsOf(ev: Evaluation): Int32Array {
  const rows = new Int32Array(ev.slots.length);
  for (let p = 0; p < rows.length; p++) {
    const k = ev.slots[p]!;
    rows[p] = k < 0 ? -1 : ev.items.rows[k]!;
  }
  return rows;
}
