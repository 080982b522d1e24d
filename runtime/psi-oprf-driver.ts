/**
 * One role of OPRF-PSI on one node, over any OprfLink: open the session,
 * digest and partition this party's ids, run the buckets (on worker threads,
 * runtime/psi-workers.ts), and turn the outcome into the alignment mode's
 * result. What a job calls (alignment.ts, once integrated) and what the bench
 * runs in its role processes. The pieces are exported too, so a party that
 * shards across processes opens the session in one and runs buckets in all.
 */
import { partition, type BucketItems } from '../protocol/psi/oprf/bucket-items.ts';
import { DIGEST_CHUNK, IdDigester } from '../protocol/psi/oprf/digest.ts';
import { DIGEST_BYTES } from '../protocol/psi/oprf/params.ts';
import type { ReceiverBucketResult } from '../protocol/psi/oprf/receiver-bucket.ts';
import {
  receiverResult,
  senderPositionRows,
  senderRowsAt,
  type OprfMode,
  type OprfReceiverResult,
} from '../protocol/psi/oprf/results.ts';
import type { SenderBucketResult } from '../protocol/psi/oprf/sender-bucket.ts';
import {
  receiverSessionReceive,
  senderSessionReceive,
  startReceiverSession,
  startSenderSession,
  type OprfParams,
  type OprfReceiverSetup,
  type OprfSenderSetup,
  type ReceiverSession,
  type SenderSession,
} from '../protocol/psi/oprf/session.ts';
import { runBuckets, type OprfLink } from './psi-workers.ts';

/** Where a role is, for progress reports. */
export type OprfProgress = (event: {
  readonly phase: 'session' | 'digest' | 'buckets' | 'result';
  readonly done: number;
  readonly total: number;
}) => void;

/** A party's ids: an array, or a count and chunks read in row order (a file, a generator), never all held at once. */
export type IdSource = readonly string[] | { readonly count: number; chunks(): Iterable<readonly string[]> };

export type OprfRoleOptions = {
  readonly link: OprfLink;
  /** What the receiver's result holds; the sender's is the same in both modes. */
  readonly mode: OprfMode;
  readonly domainKey: Uint8Array;
  readonly secret: Uint8Array;
  readonly ids: IdSource;
  /** Worker threads running buckets (0: this thread). @default 1 */
  readonly workers?: number;
  readonly onProgress?: OprfProgress;
};

export type OprfReceiverOptions = OprfRoleOptions & Pick<OprfReceiverSetup, 'minBuckets' | 'bucketIds'>;

/** The receiver's opening: waits for the hello, answers with the setup. */
export async function openReceiver(link: OprfLink, setup: OprfReceiverSetup): Promise<ReceiverSession> {
  const started = startReceiverSession(setup);
  const t = receiverSessionReceive(started.state, await link.receive('psi-oprf-hello', 0, 0));
  for (const m of t.outbound) await link.send(m);
  if (t.state.stage !== 'ready') throw new RangeError('the OPRF-PSI receiver session did not open');
  return t.state.session;
}

/** The sender's opening: sends the hello, waits for the setup. */
export async function openSender(link: OprfLink, setup: OprfSenderSetup): Promise<SenderSession> {
  const started = startSenderSession(setup);
  for (const m of started.outbound) await link.send(m);
  const t = senderSessionReceive(started.state, await link.receive('psi-oprf-setup', 0, 0));
  if (t.state.stage !== 'ready') throw new RangeError('the OPRF-PSI sender session did not open');
  return t.state.session;
}

export function idCount(ids: IdSource): number {
  return 'count' in ids && !Array.isArray(ids) ? ids.count : ids.length;
}

function idChunks(ids: IdSource): Iterable<readonly string[]> {
  return 'chunks' in ids && !Array.isArray(ids) ? ids.chunks() : [ids as readonly string[]];
}

/** Digests ids (UTF-8, keyed by the domain key) into buckets, 16 bytes and a row number per id. */
export function digestIntoBuckets(
  domainKey: Uint8Array,
  ids: IdSource,
  buckets: number,
  onProgress?: OprfProgress,
): BucketItems[] {
  const total = idCount(ids);
  const digests = new Uint8Array(total * DIGEST_BYTES);
  const digester = new IdDigester(domainKey);
  let k = 0;
  for (const chunk of idChunks(ids)) {
    for (let from = 0; from < chunk.length; from += DIGEST_CHUNK) {
      const part = chunk.slice(from, from + DIGEST_CHUNK);
      if (k + part.length > total) throw new RangeError(`the id source gave more than the ${total} ids it announced`);
      digester.digestMany(part, digests, k);
      k += part.length;
      onProgress?.({ phase: 'digest', done: k, total });
    }
  }
  if (k !== total) throw new RangeError(`the id source gave ${k} ids, not the ${total} it announced`);
  return partition(digests, buckets); // each bucket drops repeated ids when it starts
}

function allBuckets(params: OprfParams): number[] {
  return Array.from({ length: params.buckets }, (_, b) => b);
}

/**
 * The receiver (the guest): its result in the job's mode, and the session's
 * parameters. In intersection mode the job then sends the sender its
 * positions in the job's common order ({@link sendPositions}).
 */
export async function runOprfReceiver(
  options: OprfReceiverOptions,
): Promise<{ readonly params: OprfParams; readonly result: OprfReceiverResult }> {
  const { link, domainKey, secret, ids } = options;
  const session = await openReceiver(link, {
    domainKey,
    secret,
    count: idCount(ids),
    ...(options.minBuckets === undefined ? {} : { minBuckets: options.minBuckets }),
    ...(options.bucketIds === undefined ? {} : { bucketIds: options.bucketIds }),
  });
  options.onProgress?.({ phase: 'session', done: 1, total: 1 });
  const items = digestIntoBuckets(domainKey, ids, session.params.buckets, options.onProgress);
  const results = await runBuckets(
    {
      session: { role: 'receiver', session },
      buckets: allBuckets(session.params),
      link,
      itemsOf: (b) => takeItems(items, b),
      onBucket: (_, done, total) => options.onProgress?.({ phase: 'buckets', done, total }),
    },
    options.workers ?? 1,
  );
  const result = receiverResult(options.mode, session.params, results as ReceiverBucketResult[]);
  options.onProgress?.({ phase: 'result', done: 1, total: 1 });
  return { params: session.params, result };
}

/** Intersection mode, receiver: tells the sender its positions of the shared rows, in the order the job aligns them. */
export function sendPositions(link: OprfLink, positions: Uint32Array): Promise<void> {
  return link.send({ step: 'psi-result', positions });
}

/** Intersection mode, sender: its rows at the positions the receiver sends, in that order. */
export async function receiveRows(link: OprfLink, positionRows: Int32Array): Promise<Uint32Array> {
  const selection = await link.receive('psi-result', 0, 0);
  if (selection.step !== 'psi-result') throw new RangeError(`expected psi-result, got ${selection.step}`);
  return senderRowsAt(positionRows, selection.positions);
}

/** The sender's outcome: its position → row map (-1 at padding positions). */
export type OprfSenderOutcome = { readonly params: OprfParams; readonly positionRows: Int32Array };

/** The sender (a host). In intersection mode the job then takes its shared rows with {@link receiveRows}. */
export async function runOprfSender(options: OprfRoleOptions): Promise<OprfSenderOutcome> {
  const { link, domainKey, secret, ids } = options;
  const session = await openSender(link, { domainKey, secret, count: idCount(ids) });
  options.onProgress?.({ phase: 'session', done: 1, total: 1 });
  const items = digestIntoBuckets(domainKey, ids, session.params.buckets, options.onProgress);
  const results = await runBuckets(
    {
      session: { role: 'sender', session },
      buckets: allBuckets(session.params),
      link,
      itemsOf: (b) => takeItems(items, b),
      onBucket: (_, done, total) => options.onProgress?.({ phase: 'buckets', done, total }),
    },
    options.workers ?? 1,
  );
  options.onProgress?.({ phase: 'result', done: 1, total: 1 });
  return { params: session.params, positionRows: senderPositionRows(session.params, results as SenderBucketResult[]) };
}

/** Hands a bucket's items over once (the worker takes their buffers), dropping this side's reference. */
function takeItems(items: BucketItems[], bucket: number): BucketItems {
  const taken = items[bucket] ?? { digests: new Uint8Array(0), rows: new Uint32Array(0) };
  items[bucket] = { digests: new Uint8Array(0), rows: new Uint32Array(0) };
  return taken;
}
