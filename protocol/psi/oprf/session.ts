/**
 * The pair-level opening of OPRF-PSI, as pure state machines: the sender's
 * hello and the receiver's setup run the 512 base OTs and fix every public
 * parameter (bucket count, capacities, cuckoo bins, value length, code and
 * hash keys). After it each side holds a session from which any number of
 * buckets run independently (receiver-bucket.ts, sender-bucket.ts), on any
 * thread or process that is handed the session.
 *
 *   sender:   awaiting-setup → ready
 *   receiver: awaiting-hello → ready
 */
import { ProtocolError, ProtocolStageError } from '../../errors.ts';
import { chooserPoints, chosenSeeds, SCALAR_SOURCE_BYTES, senderSeeds, type BaseOtSenderSeeds } from './base-ot.ts';
import type { OprfHello, OprfMessage, OprfSetup } from './messages.ts';
import { bucketCapacity, bucketCount, CHUNK_ROWS, CODE_BITS, cuckooBins, MAX_BUCKETS, valueBytes } from './params.ts';
import { codeKeys, expand, seedWords } from './secrets.ts';

/** Positions per values chunk: 65,536 × 3 values of ≤ 16 bytes stay under 3 MiB. */
export const VALUE_CHUNK_POSITIONS = 1 << 16;

/** What both sides agree on after the opening. */
export type OprfParams = {
  readonly domainKey: Uint8Array;
  readonly receiverCount: number;
  readonly senderCount: number;
  readonly buckets: number;
  /** Ids per bucket after padding, each side. */
  readonly receiverCapacity: number;
  readonly senderCapacity: number;
  /** Cuckoo bins per bucket (the receiver's OT-extension rows). */
  readonly bins: number;
  readonly correctionChunks: number;
  readonly valueChunks: number;
  /** Bytes of each compared OPRF value (ℓ/8). */
  readonly valueBytes: number;
  readonly codeKeys: Uint8Array;
  readonly hashKey: Uint8Array;
  readonly cuckooSeed: Uint32Array;
};

export type ReceiverSession = {
  readonly params: OprfParams;
  readonly secret: Uint8Array;
  readonly seeds: BaseOtSenderSeeds;
};
export type SenderSession = {
  readonly params: OprfParams;
  readonly secret: Uint8Array;
  readonly choices: Uint8Array;
  readonly seeds: Uint8Array;
};

export type OprfSenderSetup = {
  /** Per job and pair; both sides derive the same (it keys the id digests and the base OTs). */
  readonly domainKey: Uint8Array;
  /** This party's secret for this run: every random choice derives from it. */
  readonly secret: Uint8Array;
  /** This party's number of ids. */
  readonly count: number;
};

export type OprfReceiverSetup = OprfSenderSetup & {
  /** At least this many buckets (rounded up to a power of two). @default 1 */
  readonly minBuckets?: number;
  /** Ids per bucket the bucket count aims at, on the larger side. @default 2^20 */
  readonly bucketIds?: number;
};

export type SenderSessionState =
  | { readonly stage: 'awaiting-setup'; readonly setup: OprfSenderSetup; readonly codeSeed: Uint8Array }
  | { readonly stage: 'ready'; readonly session: SenderSession };

export type ReceiverSessionState =
  | { readonly stage: 'awaiting-hello'; readonly setup: OprfReceiverSetup }
  | { readonly stage: 'ready'; readonly session: ReceiverSession };

export type SessionTransition<S> = { readonly state: S; readonly outbound: readonly OprfMessage[] };

function checkCount(count: number, who: string): number {
  if (!Number.isInteger(count) || count < 0 || count >= 2 ** 32)
    throw new ProtocolError('MESSAGE_CORRUPT', `OPRF-PSI: ${who} announced ${count} ids`);
  return count;
}

function checkBytes(bytes: Uint8Array, length: number, what: string): Uint8Array {
  if (bytes.byteLength !== length)
    throw new ProtocolError('MESSAGE_CORRUPT', `OPRF-PSI: ${what} must be ${length} bytes, got ${bytes.byteLength}`);
  return bytes;
}

/** The parameters both sides compute from the two opening messages. */
export function oprfParams(domainKey: Uint8Array, hello: OprfHello, setup: OprfSetup): OprfParams {
  const receiverCount = checkCount(setup.count, 'the receiver');
  const senderCount = checkCount(hello.count, 'the sender');
  const buckets = setup.buckets;
  if (!Number.isInteger(buckets) || buckets < 1 || buckets > MAX_BUCKETS || (buckets & (buckets - 1)) !== 0) {
    throw new ProtocolError(
      'MESSAGE_CORRUPT',
      `OPRF-PSI: ${buckets} buckets is not a power of two up to ${MAX_BUCKETS}`,
    );
  }
  const receiverCapacity = bucketCapacity(receiverCount, buckets);
  const senderCapacity = bucketCapacity(senderCount, buckets);
  const bins = cuckooBins(receiverCapacity);
  const keys = codeKeys(checkBytes(hello.codeSeed, 16, 'the code seed'));
  // With no ids on one side the intersection is empty: buckets exchange nothing.
  const empty = receiverCount === 0 || senderCount === 0;
  return Object.freeze({
    domainKey,
    receiverCount,
    senderCount,
    buckets,
    receiverCapacity,
    senderCapacity,
    bins,
    correctionChunks: empty ? 0 : Math.ceil(bins / CHUNK_ROWS),
    valueChunks: empty ? 0 : Math.ceil(senderCapacity / VALUE_CHUNK_POSITIONS),
    valueBytes: valueBytes(receiverCapacity * buckets, senderCapacity * buckets),
    codeKeys: keys.code,
    hashKey: keys.hash,
    cuckooSeed: seedWords(checkBytes(setup.cuckooSeed, 16, 'the cuckoo seed')),
  });
}

/** The sender opens: base-OT points for its secret choice bits, and the code seed. */
export function startSenderSession(setup: OprfSenderSetup): SessionTransition<SenderSessionState> {
  const codeSeed = expand(setup.secret, 'code-seed', 16);
  const points = chooserPoints(
    setup.domainKey,
    expand(setup.secret, 'choices', CODE_BITS / 8),
    expand(setup.secret, 'chooser-scalars', CODE_BITS * SCALAR_SOURCE_BYTES),
  );
  const hello: OprfHello = { step: 'psi-oprf-hello', points, codeSeed, count: checkCount(setup.count, 'this party') };
  return { state: { stage: 'awaiting-setup', setup, codeSeed }, outbound: [hello] };
}

/** The sender takes the setup: its chosen seeds, and the session is ready. */
export function senderSessionReceive(
  state: SenderSessionState,
  message: OprfMessage,
): SessionTransition<SenderSessionState> {
  if (state.stage !== 'awaiting-setup' || message.step !== 'psi-oprf-setup')
    throw new ProtocolStageError(
      'psi-oprf-sender',
      state.stage === 'awaiting-setup' ? 'psi-oprf-setup' : 'done',
      message.step,
    );
  const { setup } = state;
  const choices = expand(setup.secret, 'choices', CODE_BITS / 8);
  const seeds = chosenSeeds(
    setup.domainKey,
    choices,
    expand(setup.secret, 'chooser-scalars', CODE_BITS * SCALAR_SOURCE_BYTES),
    message.reply,
  );
  const hello: OprfHello = {
    step: 'psi-oprf-hello',
    points: new Uint8Array(0),
    codeSeed: state.codeSeed,
    count: setup.count,
  };
  const params = oprfParams(setup.domainKey, hello, message);
  return { state: { stage: 'ready', session: { params, secret: setup.secret, choices, seeds } }, outbound: [] };
}

/** The receiver waits for the sender's hello. */
export function startReceiverSession(setup: OprfReceiverSetup): SessionTransition<ReceiverSessionState> {
  checkCount(setup.count, 'this party');
  return { state: { stage: 'awaiting-hello', setup }, outbound: [] };
}

/** The receiver answers the hello: the base-OT reply, the cuckoo seed and the bucket count. */
export function receiverSessionReceive(
  state: ReceiverSessionState,
  message: OprfMessage,
): SessionTransition<ReceiverSessionState> {
  if (state.stage !== 'awaiting-hello' || message.step !== 'psi-oprf-hello')
    throw new ProtocolStageError(
      'psi-oprf-receiver',
      state.stage === 'awaiting-hello' ? 'psi-oprf-hello' : 'done',
      message.step,
    );
  const { setup } = state;
  const senderCount = checkCount(message.count, 'the sender');
  const { reply, seeds } = senderSeeds(
    setup.domainKey,
    message.points,
    expand(setup.secret, 'reply-scalar', SCALAR_SOURCE_BYTES),
  );
  const buckets = bucketCount(setup.count, senderCount, setup.minBuckets ?? 1, setup.bucketIds);
  const answer: OprfSetup = {
    step: 'psi-oprf-setup',
    reply,
    cuckooSeed: expand(setup.secret, 'cuckoo-seed', 16),
    count: setup.count,
    buckets,
  };
  const params = oprfParams(setup.domainKey, message, answer);
  return { state: { stage: 'ready', session: { params, secret: setup.secret, seeds } }, outbound: [answer] };
}
