/**
 * Both roles of OPRF-PSI driven in one thread, messages handed across in
 * memory: the reference composition of the state machines (session, then
 * every bucket, then the mode's result), used by tests and by the bench's
 * pure-steps table. A deployment drives each role on its own node instead
 * (runtime/psi-oprf-driver.ts, buckets on worker threads), with the same transitions.
 */
import { partition } from './bucket-items.ts';
import { digestIds } from './digest.ts';
import type { OprfMessage } from './messages.ts';
import {
  receiverBucketNext,
  receiverBucketReceive,
  startReceiverBucket,
  type ReceiverBucketResult,
  type ReceiverBucketState,
} from './receiver-bucket.ts';
import { receiverResult, senderPositionRows, senderRowsAt, type OprfMode, type OprfReceiverResult } from './results.ts';
import {
  senderBucketNext,
  senderBucketReceive,
  startSenderBucket,
  type SenderBucketResult,
  type SenderBucketState,
} from './sender-bucket.ts';
import {
  receiverSessionReceive,
  senderSessionReceive,
  startReceiverSession,
  startSenderSession,
  type OprfParams,
} from './session.ts';

export type InMemoryParty = {
  readonly ids: readonly string[];
  /** At least 16 bytes; every random choice of this party derives from it. */
  readonly secret: Uint8Array;
};

export type InMemoryRun = {
  readonly mode: OprfMode;
  readonly domainKey: Uint8Array;
  readonly receiver: InMemoryParty;
  readonly sender: InMemoryParty;
  /** At least this many buckets. @default 1 */
  readonly minBuckets?: number;
  /** Ids per bucket the bucket count aims at. @default 2^20 */
  readonly bucketIds?: number;
  /** Sees every message as it crosses, and who sent it. */
  readonly onMessage?: (from: 'receiver' | 'sender', message: OprfMessage) => void;
};

export type InMemoryOutcome = {
  readonly params: OprfParams;
  readonly receiver: OprfReceiverResult;
  /** The sender's position → row map (-1: padding). */
  readonly senderPositions: Int32Array;
  /** Intersection mode: the sender's rows in the receiver's order, after psi-result. */
  readonly senderRows?: Uint32Array;
};

export function runInMemory(run: InMemoryRun): InMemoryOutcome {
  const seen = run.onMessage ?? (() => undefined);
  const sender = startSenderSession({
    domainKey: run.domainKey,
    secret: run.sender.secret,
    count: run.sender.ids.length,
  });
  const receiver = startReceiverSession({
    domainKey: run.domainKey,
    secret: run.receiver.secret,
    count: run.receiver.ids.length,
    minBuckets: run.minBuckets ?? 1,
    ...(run.bucketIds === undefined ? {} : { bucketIds: run.bucketIds }),
  });
  const hello = sender.outbound[0];
  if (hello === undefined) throw new RangeError('the sender opened with no hello');
  seen('sender', hello);
  const opened = receiverSessionReceive(receiver.state, hello);
  const setup = opened.outbound[0];
  if (setup === undefined || opened.state.stage !== 'ready')
    throw new RangeError('the receiver did not answer the hello');
  seen('receiver', setup);
  const ready = senderSessionReceive(sender.state, setup);
  if (ready.state.stage !== 'ready') throw new RangeError('the sender session is not ready');
  const receiverSession = opened.state.session;
  const senderSession = ready.state.session;
  const { params } = receiverSession;

  const receiverItems = partition(digestIds(run.domainKey, run.receiver.ids), params.buckets);
  const senderItems = partition(digestIds(run.domainKey, run.sender.ids), params.buckets);
  const receiverResults: ReceiverBucketResult[] = [];
  const senderResults: SenderBucketResult[] = [];
  for (let bucket = 0; bucket < params.buckets; bucket++) {
    let r: ReceiverBucketState = startReceiverBucket(
      receiverSession,
      bucket,
      receiverItems[bucket] ?? { digests: new Uint8Array(0), rows: new Uint32Array(0) },
    );
    let s: SenderBucketState = startSenderBucket(
      senderSession,
      bucket,
      senderItems[bucket] ?? { digests: new Uint8Array(0), rows: new Uint32Array(0) },
    );
    while (r.stage === 'correcting') {
      const t = receiverBucketNext(r);
      r = t.state;
      for (const m of t.outbound) {
        seen('receiver', m);
        s = senderBucketReceive(s, m).state;
      }
    }
    while (s.stage === 'sending-values') {
      const t = senderBucketNext(s);
      s = t.state;
      for (const m of t.outbound) {
        seen('sender', m);
        r = receiverBucketReceive(r, m).state;
      }
    }
    if (r.stage !== 'done' || s.stage !== 'done')
      throw new RangeError(`bucket ${bucket} did not finish (receiver ${r.stage}, sender ${s.stage})`);
    receiverResults.push(r.result);
    senderResults.push(s.result);
  }
  const result = receiverResult(run.mode, params, receiverResults);
  const senderPositions = senderPositionRows(params, senderResults);
  if (result.mode !== 'intersection') return { params, receiver: result, senderPositions };
  const positions = result.senderPositions;
  seen('receiver', { step: 'psi-result', positions });
  return { params, receiver: result, senderPositions, senderRows: senderRowsAt(senderPositions, positions) };
}
