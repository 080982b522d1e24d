/**
 * Worker-thread entry for OPRF-PSI buckets (runtime/psi-workers.ts starts
 * it). One bucket at a time, its state machine here and nowhere else; the
 * main thread only moves messages between this worker and the peer. A
 * worker's heap holds one bucket, not the party's ids, so its garbage
 * collections stay short (with millions of id strings on the main thread's
 * heap, each full collection there costs ~100 ms).
 *
 * Flow control: the worker emits a chunk, then waits for the main thread's
 * ack (the chunk is on its way) before computing the next beyond two in
 * flight, so a slow link bounds memory instead of queueing matrices.
 */
import { parentPort } from 'node:worker_threads';
import type { BucketItems } from '../protocol/psi/oprf/bucket-items.ts';
import type { OprfMessage } from '../protocol/psi/oprf/messages.ts';
import {
  receiverBucketNext,
  receiverBucketReceive,
  startReceiverBucket,
  type ReceiverBucketState,
} from '../protocol/psi/oprf/receiver-bucket.ts';
import {
  senderBucketNext,
  senderBucketReceive,
  startSenderBucket,
  type SenderBucketState,
} from '../protocol/psi/oprf/sender-bucket.ts';
import type { ReceiverSession, SenderSession } from '../protocol/psi/oprf/session.ts';

/** Main thread → worker. */
export type BucketCommand =
  | {
      readonly type: 'receiver';
      readonly session: ReceiverSession;
      readonly bucket: number;
      readonly items: BucketItems;
    }
  | { readonly type: 'sender'; readonly session: SenderSession; readonly bucket: number; readonly items: BucketItems }
  | { readonly type: 'message'; readonly message: OprfMessage }
  | { readonly type: 'ack' };

/** Worker → main thread. */
export type BucketEvent =
  | { readonly type: 'outbound'; readonly message: OprfMessage }
  | { readonly type: 'done'; readonly result: unknown }
  | { readonly type: 'error'; readonly name: string; readonly message: string; readonly code?: string };

/** Chunks a worker may have handed over without an ack. */
const IN_FLIGHT = 2;

type Bucket = { role: 'receiver'; state: ReceiverBucketState } | { role: 'sender'; state: SenderBucketState };

const port = parentPort;
if (port === null) throw new Error('runtime/psi-oprf-worker.ts runs as a worker thread');

let bucket: Bucket | undefined;
let credits = IN_FLIGHT;

function post(event: BucketEvent): void {
  const message = event.type === 'outbound' ? event.message : undefined;
  const buffer =
    message?.step === 'psi-oprf-correction'
      ? message.rows.buffer
      : message?.step === 'psi-oprf-values'
        ? message.values.buffer
        : undefined;
  port?.postMessage(event, buffer instanceof ArrayBuffer ? [buffer] : []);
}

/** Emits chunks while the bucket has some to emit and credits last; reports the result when done. */
function pump(): void {
  while (bucket !== undefined && credits > 0) {
    if (bucket.role === 'receiver' && bucket.state.stage === 'correcting') {
      const t = receiverBucketNext(bucket.state);
      bucket.state = t.state;
      for (const m of t.outbound) post({ type: 'outbound', message: m });
    } else if (bucket.role === 'sender' && bucket.state.stage === 'sending-values') {
      const t = senderBucketNext(bucket.state);
      bucket.state = t.state;
      for (const m of t.outbound) post({ type: 'outbound', message: m });
    } else {
      break;
    }
    credits--;
  }
  if (bucket !== undefined && bucket.state.stage === 'done') {
    const result = bucket.state.result;
    bucket = undefined;
    port?.postMessage({ type: 'done', result } satisfies BucketEvent);
  }
}

function handle(command: BucketCommand): void {
  if (command.type === 'receiver') {
    bucket = { role: 'receiver', state: startReceiverBucket(command.session, command.bucket, command.items) };
    credits = IN_FLIGHT;
  } else if (command.type === 'sender') {
    bucket = { role: 'sender', state: startSenderBucket(command.session, command.bucket, command.items) };
    credits = IN_FLIGHT;
  } else if (command.type === 'ack') {
    credits++;
  } else if (bucket?.role === 'receiver') {
    bucket.state = receiverBucketReceive(bucket.state, command.message).state;
  } else if (bucket?.role === 'sender') {
    bucket.state = senderBucketReceive(bucket.state, command.message).state;
  } else {
    throw new RangeError(`a ${command.message.step} message arrived with no bucket running`);
  }
  pump();
}

port.on('message', (command: BucketCommand) => {
  try {
    handle(command);
  } catch (error) {
    const e = error as Error & { code?: string };
    bucket = undefined;
    port.postMessage({
      type: 'error',
      name: e.name,
      message: e.message,
      ...(typeof e.code === 'string' ? { code: e.code } : {}),
    } satisfies BucketEvent);
  }
});
