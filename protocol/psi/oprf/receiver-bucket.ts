/**
 * One bucket of OPRF-PSI at the receiver, as a pure state machine (KKRT16's
 * OPRF receiver with IKNP-style extension, then the comparison).
 *
 *   correcting       each `receiverBucketNext` emits one chunk of corrections
 *   awaiting-values  each `receiverBucketReceive` takes one chunk of the sender's values
 *   done             the matches: receiver row, sender position in the bucket, value
 *
 * Per cuckoo bin j holding id x under hash function i, with t⁰ⱼ, t¹ⱼ the
 * j-th bits of the 512 column streams (base-OT seeds kᵢ⁰, kᵢ¹):
 *   uⱼ = t⁰ⱼ ⊕ t¹ⱼ ⊕ C(x‖i)   sent to the sender (t¹ⱼ makes it uniformly random)
 *   F(x) = H(t⁰ⱼ)              x's OPRF value, which only an equal id at the sender reproduces
 * An empty bin's codeword is zero: its row is as random to the sender as any.
 * Memory is one chunk of matrices (≈ 20 MiB) plus 16 + ℓ bytes per id.
 * A state is consumed by its transition (buffers move on to the next state).
 */
import { ProtocolError, ProtocolStageError } from '../../errors.ts';
import { CodeCipher, ColumnStreams, RowHasher } from './aes.ts';
import { columnStride, columnsToRows } from './bit-matrix.ts';
import { dedupe, digestWords, type BucketItems } from './bucket-items.ts';
import { placeCuckoo, type CuckooTable } from './cuckoo.ts';
import { cuckooBinsOf, tweakWord } from './digest.ts';
import type { OprfCorrection, OprfMessage, OprfValues } from './messages.ts';
import { CHUNK_ROWS, CODE_BITS, HASHES, ROW_WORDS } from './params.ts';
import { VALUE_CHUNK_POSITIONS, type OprfParams, type ReceiverSession } from './session.ts';
import { Scratch } from './scratch.ts';
import { ValueTable } from './value-table.ts';

export type ReceiverBucketResult = {
  readonly bucket: number;
  /** The receiver's local row of each match. */
  readonly rows: Uint32Array;
  /** The sender's position of each match inside this bucket (its global position is bucket · senderCapacity + position). */
  readonly positions: Uint32Array;
  /** The matched OPRF values, ℓ bytes each: both sides know them, and they are pseudorandom. */
  readonly keys: Uint8Array;
};

type Extension = {
  readonly items: BucketItems;
  readonly words: Int32Array;
  readonly table: CuckooTable;
  readonly zero: ColumnStreams;
  readonly one: ColumnStreams;
  readonly code: CodeCipher;
  readonly hasher: RowHasher;
  /** The receiver's own values, ℓ bytes per id. */
  readonly own: Uint8Array;
  readonly scratch: Scratch;
};

/** Matches so far, in typed arrays that double when full (an object per match costs more in GC than the match itself). */
type Matches = { count: number; rows: Uint32Array; positions: Uint32Array; keys: Uint8Array };

function addMatch(
  matches: Matches,
  row: number,
  position: number,
  values: Uint8Array,
  at: number,
  length: number,
): void {
  if (matches.count === matches.rows.length) {
    const grow = <T extends Uint32Array | Uint8Array>(old: T, size: number): T => {
      const bigger = new (old.constructor as new (n: number) => T)(size);
      bigger.set(old);
      return bigger;
    };
    const size = Math.max(64, 2 * matches.count);
    matches.rows = grow(matches.rows, size);
    matches.positions = grow(matches.positions, size);
    matches.keys = grow(matches.keys, size * length);
  }
  matches.rows[matches.count] = row;
  matches.positions[matches.count] = position;
  matches.keys.set(values.subarray(at, at + length), matches.count * length);
  matches.count++;
}

export type ReceiverBucketState =
  | {
      readonly stage: 'correcting';
      readonly params: OprfParams;
      readonly bucket: number;
      readonly chunk: number;
      readonly ext: Extension;
    }
  | {
      readonly stage: 'awaiting-values';
      readonly params: OprfParams;
      readonly bucket: number;
      readonly chunk: number;
      readonly items: BucketItems;
      readonly table: ValueTable;
      readonly matches: Matches;
    }
  | { readonly stage: 'done'; readonly result: ReceiverBucketResult };

export type ReceiverBucketTransition = {
  readonly state: ReceiverBucketState;
  readonly outbound: readonly OprfMessage[];
};

/** Starts bucket `bucket` with this party's ids of that bucket; nothing is sent until {@link receiverBucketNext}. */
export function startReceiverBucket(
  session: ReceiverSession,
  bucket: number,
  bucketItems: BucketItems,
): ReceiverBucketState {
  const { params } = session;
  const items = dedupe(bucketItems);
  const count = items.rows.length;
  if (count > params.receiverCapacity) {
    throw new ProtocolError(
      'PSI_INPUT_INVALID',
      `OPRF-PSI bucket ${bucket} holds ${count} ids, above its padded size ${params.receiverCapacity} (probability below 2^-40: rerun the job)`,
    );
  }
  const words = digestWords(items.digests);
  const binsOf = new Uint32Array(HASHES * count);
  cuckooBinsOf(words, count, params.cuckooSeed, params.bins, binsOf);
  const table = placeCuckoo(binsOf, count, params.bins);
  if (table === undefined)
    throw new ProtocolError(
      'PSI_INPUT_INVALID',
      `OPRF-PSI bucket ${bucket}: cuckoo hashing found no placement (probability below 2^-40: rerun the job)`,
    );
  const ext: Extension = {
    items,
    words,
    table,
    zero: new ColumnStreams(session.seeds.zero, bucket),
    one: new ColumnStreams(session.seeds.one, bucket),
    code: new CodeCipher(params.codeKeys),
    hasher: new RowHasher(params.hashKey),
    own: new Uint8Array(count * params.valueBytes),
    scratch: new Scratch(),
  };
  if (params.correctionChunks === 0) return awaitValues(params, bucket, ext);
  return { stage: 'correcting', params, bucket, chunk: 0, ext };
}

/** Emits the next chunk of corrections; after the last, the bucket waits for the sender's values. */
export function receiverBucketNext(state: ReceiverBucketState): ReceiverBucketTransition {
  if (state.stage !== 'correcting') throw new ProtocolStageError('psi-oprf-receiver', 'correcting', state.stage);
  const { params, bucket, chunk, ext } = state;
  const first = chunk * CHUNK_ROWS;
  const rows = Math.min(CHUNK_ROWS, params.bins - first);
  const stride = columnStride(rows);
  const t0 = ext.scratch.words('t0', CODE_BITS * stride);
  const t01 = ext.scratch.words('t01', CODE_BITS * stride);
  ext.zero.next(rows, t0, stride);
  ext.one.next(rows, t01, stride);
  for (let w = 0; w < t01.length; w++) t01[w] = t01[w]! ^ t0[w]!;
  const t0Rows = ext.scratch.words('t0-rows', rows * ROW_WORDS);
  const u = new Int32Array(rows * ROW_WORDS); // leaves in the message
  columnsToRows(t0, rows, t0Rows, stride);
  columnsToRows(t01, rows, u, stride);

  // The occupied bins of the chunk, their code inputs x‖i, codewords and H(t⁰).
  const occupied: number[] = [];
  for (let j = 0; j < rows; j++) if (ext.table.item[first + j]! >= 0) occupied.push(j);
  const inputs = ext.scratch.words('inputs', occupied.length * 4);
  occupied.forEach((j, q) => {
    const x = ext.table.item[first + j]!;
    inputs[4 * q] = ext.words[4 * x]! ^ tweakWord(ext.table.hash[first + j]!);
    inputs[4 * q + 1] = ext.words[4 * x + 1]!;
    inputs[4 * q + 2] = ext.words[4 * x + 2]!;
    inputs[4 * q + 3] = ext.words[4 * x + 3]!;
  });
  const codes = ext.scratch.words('codes', occupied.length * ROW_WORDS);
  ext.code.encode(inputs, occupied.length, codes);
  const own = ext.scratch.words('own', occupied.length * ROW_WORDS);
  occupied.forEach((j, q) => {
    for (let w = 0; w < ROW_WORDS; w++) {
      u[ROW_WORDS * j + w] = u[ROW_WORDS * j + w]! ^ codes[ROW_WORDS * q + w]!;
      own[ROW_WORDS * q + w] = t0Rows[ROW_WORDS * j + w]!;
    }
  });
  const hashed = ext.scratch.words('hashed', occupied.length * 4);
  ext.hasher.hash(own, occupied.length, hashed);
  const hashedBytes = new Uint8Array(hashed.buffer, hashed.byteOffset, hashed.byteLength);
  const l = params.valueBytes;
  occupied.forEach((j, q) => ext.own.set(hashedBytes.subarray(16 * q, 16 * q + l), ext.table.item[first + j]! * l));

  const message: OprfCorrection = { step: 'psi-oprf-correction', bucket, chunk, rows: new Uint8Array(u.buffer) };
  const next = chunk + 1 < params.correctionChunks ? { ...state, chunk: chunk + 1 } : awaitValues(params, bucket, ext);
  return { state: next, outbound: [message] };
}

function awaitValues(params: OprfParams, bucket: number, ext: Extension): ReceiverBucketState {
  const table = new ValueTable(ext.own, ext.items.rows.length, params.valueBytes);
  const matches: Matches = {
    count: 0,
    rows: new Uint32Array(0),
    positions: new Uint32Array(0),
    keys: new Uint8Array(0),
  };
  const state: ReceiverBucketState = {
    stage: 'awaiting-values',
    params,
    bucket,
    chunk: 0,
    items: ext.items,
    table,
    matches,
  };
  return params.valueChunks === 0 ? finish(state) : state;
}

/** Takes the next chunk of the sender's values and looks each up among the receiver's own. */
export function receiverBucketReceive(state: ReceiverBucketState, message: OprfMessage): ReceiverBucketTransition {
  if (state.stage !== 'awaiting-values' || message.step !== 'psi-oprf-values') {
    throw new ProtocolStageError(
      'psi-oprf-receiver',
      state.stage === 'awaiting-values' ? 'psi-oprf-values' : state.stage,
      message.step,
    );
  }
  checkChunk(state, message);
  const { params, chunk, table, matches } = state;
  const l = params.valueBytes;
  const firstPosition = chunk * VALUE_CHUNK_POSITIONS;
  const values = message.values;
  for (let e = 0; e < values.byteLength / l; e++) {
    const k = table.find(values, e * l);
    if (k >= 0) addMatch(matches, state.items.rows[k]!, firstPosition + Math.floor(e / HASHES), values, e * l, l);
  }
  const next = { ...state, chunk: chunk + 1 };
  return { state: next.chunk === params.valueChunks ? finish(next) : next, outbound: [] };
}

function checkChunk(state: Extract<ReceiverBucketState, { stage: 'awaiting-values' }>, message: OprfValues): void {
  const { params, bucket, chunk } = state;
  if (message.bucket !== bucket || message.chunk !== chunk) {
    throw new ProtocolStageError(
      'psi-oprf-receiver',
      `psi-oprf-values bucket ${bucket} chunk ${chunk}`,
      `psi-oprf-values bucket ${message.bucket} chunk ${message.chunk}`,
    );
  }
  const positions = Math.min(VALUE_CHUNK_POSITIONS, params.senderCapacity - chunk * VALUE_CHUNK_POSITIONS);
  if (message.values.byteLength !== positions * HASHES * params.valueBytes) {
    throw new ProtocolError(
      'MESSAGE_CORRUPT',
      `OPRF-PSI values chunk ${chunk} of bucket ${bucket}: expected ${positions * HASHES * params.valueBytes} bytes, got ${message.values.byteLength}`,
    );
  }
}

function finish(state: Extract<ReceiverBucketState, { stage: 'awaiting-values' }>): ReceiverBucketState {
  const { matches, params } = state;
  const n = matches.count;
  return {
    stage: 'done',
    result: {
      bucket: state.bucket,
      rows: matches.rows.slice(0, n),
      positions: matches.positions.slice(0, n),
      keys: matches.keys.slice(0, n * params.valueBytes),
    },
  };
}
