/**
 * OPRF-PSI buckets on worker threads: each worker runs one bucket's state
 * machine at a time (runtime/psi-oprf-worker.ts), and this side moves that
 * bucket's messages between the worker and the link to the peer. Buckets are
 * independent, so `size` workers keep `size` buckets in flight, and a party
 * with several processes (or machines) gives each a share of the buckets
 * (`buckets` below) and the same session.
 *
 * `size: 0` runs buckets on the calling thread, one after another: no
 * thread start-up, for small sets and tests.
 */
import { Worker } from 'node:worker_threads';
import { ProtocolError, type ErrorCode } from '../protocol/errors.ts';
import type { BucketItems } from '../protocol/psi/oprf/bucket-items.ts';
import type { OprfStep } from '../protocol/psi/oprf/codec.ts';
import type { OprfMessage } from '../protocol/psi/oprf/messages.ts';
import {
  receiverBucketNext,
  receiverBucketReceive,
  startReceiverBucket,
  type ReceiverBucketResult,
  type ReceiverBucketState,
} from '../protocol/psi/oprf/receiver-bucket.ts';
import {
  senderBucketNext,
  senderBucketReceive,
  startSenderBucket,
  type SenderBucketResult,
  type SenderBucketState,
} from '../protocol/psi/oprf/sender-bucket.ts';
import type { OprfParams, ReceiverSession, SenderSession } from '../protocol/psi/oprf/session.ts';
import type { BucketCommand, BucketEvent } from './psi-oprf-worker.ts';

/** How OPRF-PSI messages reach the peer: a JobChannel (round = bucket, seq = chunk), or a bench's socket. */
export type OprfLink = {
  /** Hands a message over; resolves when the link can take more (backpressure). */
  send(message: OprfMessage): Promise<void>;
  /** The peer's message at this step, bucket and chunk (0, 0 for the opening and the result), whenever it arrives. */
  receive(step: OprfStep, bucket: number, chunk: number): Promise<OprfMessage>;
};

export type RoleSession =
  | { readonly role: 'receiver'; readonly session: ReceiverSession }
  | { readonly role: 'sender'; readonly session: SenderSession };

export type BucketRun = {
  readonly session: RoleSession;
  /** The buckets this process runs (all of them, or its share). */
  readonly buckets: readonly number[];
  /** This party's ids of a bucket (read when the bucket starts, so a spilled partition stays on disk until then). */
  readonly itemsOf: (bucket: number) => BucketItems | Promise<BucketItems>;
  readonly link: OprfLink;
  /** Called as each bucket finishes. */
  readonly onBucket?: (bucket: number, done: number, total: number) => void;
};

const WORKER_SCRIPT = new URL('./psi-oprf-worker.ts', import.meta.url);

/** Runs every bucket of `run` on `size` worker threads (0: on this thread); results in bucket order. */
export async function runBuckets(run: BucketRun, size: number): Promise<(ReceiverBucketResult | SenderBucketResult)[]> {
  const queue = [...run.buckets];
  const results = new Map<number, ReceiverBucketResult | SenderBucketResult>();
  const lane = async (worker: Worker | undefined): Promise<void> => {
    for (let bucket = queue.shift(); bucket !== undefined; bucket = queue.shift()) {
      const items = await run.itemsOf(bucket);
      results.set(
        bucket,
        worker === undefined ? await inline(run, bucket, items) : await onWorker(worker, run, bucket, items),
      );
      run.onBucket?.(bucket, results.size, run.buckets.length);
    }
  };
  if (size === 0) {
    await lane(undefined);
  } else {
    const workers = Array.from({ length: Math.min(size, run.buckets.length) }, () => new Worker(WORKER_SCRIPT));
    try {
      await Promise.all(workers.map((w) => lane(w)));
    } finally {
      await Promise.all(workers.map((w) => w.terminate()));
    }
  }
  return run.buckets.map((b) => results.get(b) as ReceiverBucketResult | SenderBucketResult);
}

/** What the bucket takes from the peer, in order: the sender's values at the receiver, the receiver's corrections at the sender. */
function inboundSteps(
  params: OprfParams,
  role: RoleSession['role'],
): { readonly step: OprfStep; readonly chunks: number } {
  return role === 'receiver'
    ? { step: 'psi-oprf-values', chunks: params.valueChunks }
    : { step: 'psi-oprf-correction', chunks: params.correctionChunks };
}

function onWorker(
  worker: Worker,
  run: BucketRun,
  bucket: number,
  items: BucketItems,
): Promise<ReceiverBucketResult | SenderBucketResult> {
  const { role, session } = run.session;
  const inbound = inboundSteps(session.params, role);
  return new Promise((resolve, reject) => {
    let failed = false;
    const fail = (error: unknown): void => {
      if (failed) return;
      failed = true;
      worker.off('message', onEvent);
      reject(error instanceof Error ? error : new Error(String(error)));
    };
    const onEvent = (event: BucketEvent): void => {
      if (event.type === 'outbound') {
        run.link.send(event.message).then(() => worker.postMessage({ type: 'ack' } satisfies BucketCommand), fail);
      } else if (event.type === 'done') {
        worker.off('message', onEvent);
        worker.off('error', fail);
        resolve(event.result as ReceiverBucketResult | SenderBucketResult);
      } else {
        fail(
          event.code === undefined
            ? Object.assign(new Error(event.message), { name: event.name })
            : new ProtocolError(event.code as ErrorCode, event.message),
        );
      }
    };
    worker.on('message', onEvent);
    worker.once('error', fail);
    const command: BucketCommand =
      role === 'receiver' ? { type: 'receiver', session, bucket, items } : { type: 'sender', session, bucket, items };
    worker.postMessage(
      command,
      [items.digests.buffer, items.rows.buffer].filter((b): b is ArrayBuffer => b instanceof ArrayBuffer),
    );
    void (async () => {
      for (let chunk = 0; chunk < inbound.chunks && !failed; chunk++) {
        const message = await run.link.receive(inbound.step, bucket, chunk);
        worker.postMessage({ type: 'message', message } satisfies BucketCommand);
      }
    })().catch(fail);
  });
}

/** The same bucket on this thread: emit everything we can, then take the peer's chunks one by one. */
async function inline(
  run: BucketRun,
  bucket: number,
  items: BucketItems,
): Promise<ReceiverBucketResult | SenderBucketResult> {
  const { role, session } = run.session;
  const inbound = inboundSteps(session.params, role);
  if (role === 'receiver') {
    let state: ReceiverBucketState = startReceiverBucket(session, bucket, items);
    while (state.stage === 'correcting') {
      const t = receiverBucketNext(state);
      state = t.state;
      for (const m of t.outbound) await run.link.send(m);
    }
    for (let chunk = 0; chunk < inbound.chunks; chunk++)
      state = receiverBucketReceive(state, await run.link.receive(inbound.step, bucket, chunk)).state;
    if (state.stage !== 'done') throw new RangeError(`receiver bucket ${bucket} ended at ${state.stage}`);
    return state.result;
  }
  let state: SenderBucketState = startSenderBucket(session, bucket, items);
  for (let chunk = 0; chunk < inbound.chunks; chunk++)
    state = senderBucketReceive(state, await run.link.receive(inbound.step, bucket, chunk)).state;
  while (state.stage === 'sending-values') {
    const t = senderBucketNext(state);
    state = t.state;
    for (const m of t.outbound) await run.link.send(m);
  }
  if (state.stage !== 'done') throw new RangeError(`sender bucket ${bucket} ended at ${state.stage}`);
  return state.result;
}
