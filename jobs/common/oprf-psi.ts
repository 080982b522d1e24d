/**
 * OPRF-PSI in a job (`alignment.psi: oprf`; protocol/psi/oprf/, docs/psi-oprf.md):
 * the guest is the receiver (it learns which of its ids a host holds), each
 * host a sender. Messages go over the job's channel as catalogued steps
 * (protocol/messages.ts, round = bucket, seq = chunk), sealed and audit-logged
 * like every other; buckets run on worker threads (runtime/psi-workers.ts).
 *
 * Every random choice derives from a secret per job and peer (from the node
 * secret, as ECDH's scalar does), so a party restarted mid-PSI resends
 * byte-identical messages and the peer's earlier ones stay valid. A sender
 * waits after each message until few bytes are unacknowledged
 * (`channel.drained()`), so a set of 10M ids streams its 850 MB of
 * corrections a few chunks at a time instead of queueing them all.
 */
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { partition, type BucketItems } from '../../protocol/psi/oprf/bucket-items.ts';
import type { OprfStep } from '../../protocol/psi/oprf/codec.ts';
import { DIGEST_CHUNK, IdDigester } from '../../protocol/psi/oprf/digest.ts';
import type { OprfMessage } from '../../protocol/psi/oprf/messages.ts';
import { DIGEST_BYTES } from '../../protocol/psi/oprf/params.ts';
import type { ReceiverBucketResult } from '../../protocol/psi/oprf/receiver-bucket.ts';
import {
  receiverResult,
  senderPositionRows,
  type OprfMode,
  type OprfReceiverResult,
} from '../../protocol/psi/oprf/results.ts';
import type { SenderBucketResult } from '../../protocol/psi/oprf/sender-bucket.ts';
import type { OprfParams } from '../../protocol/psi/oprf/session.ts';
import { PSI_OPRF_CORRECTION, PSI_OPRF_HELLO, PSI_OPRF_SETUP, PSI_OPRF_VALUES } from '../../protocol/messages.ts';
import { openReceiver, openSender } from '../../runtime/psi-oprf-driver.ts';
import { runBuckets, type OprfLink } from '../../runtime/psi-workers.ts';
import type { JobChannel } from '../../party/channel.ts';

/** The job spec's `alignment.oprf`. */
export type OprfOptions = {
  /** At least this many buckets (the guest decides). @default from the set sizes */
  readonly buckets?: number | undefined;
  /** Worker threads running buckets at this party (0: the main thread). @default 1 */
  readonly workers?: number | undefined;
};

/** Secret to this node, per job and peer (see PsiSeed in alignment.ts); undefined: fresh randomness. */
export type OprfSeed = ((peer: string) => Promise<Uint8Array>) | undefined;

/** The guest's progress: a message, and steps done of the total (a session opened, each bucket, the result; per host). */
export type OprfSteps = (message: string, done: number, total: number) => void;

/** The pair's domain key (it keys the id digests and the base OTs); `purpose` keeps modes apart. */
export function oprfDomainKey(purpose: OprfMode, jobId: string, guest: string, host: string): Uint8Array {
  return new Uint8Array(
    createHmac('sha256', `tandem/v1/psi-oprf-${purpose}`).update(`${jobId}|${guest}|${host}`).digest(),
  );
}

async function secretFor(peer: string, seedFor: OprfSeed): Promise<Uint8Array> {
  if (seedFor === undefined) return new Uint8Array(randomBytes(32));
  return new Uint8Array(
    createHash('sha256')
      .update('tandem/v1/psi-oprf-secret|')
      .update(await seedFor(peer))
      .digest(),
  );
}

/** OPRF-PSI's messages to and from `peer` over the job's channel: round = bucket, seq = chunk. */
export function channelLink(channel: JobChannel, peer: string): OprfLink {
  return {
    send: async (message: OprfMessage): Promise<void> => {
      switch (message.step) {
        case 'psi-oprf-hello':
          channel.post(peer, PSI_OPRF_HELLO, 0, {
            points: message.points,
            codeSeed: message.codeSeed,
            count: message.count,
          });
          break;
        case 'psi-oprf-setup':
          channel.post(peer, PSI_OPRF_SETUP, 0, {
            reply: message.reply,
            cuckooSeed: message.cuckooSeed,
            count: message.count,
            buckets: message.buckets,
          });
          break;
        case 'psi-oprf-correction':
          channel.post(
            peer,
            PSI_OPRF_CORRECTION,
            message.bucket,
            { bucket: message.bucket, chunk: message.chunk, rows: message.rows },
            message.chunk,
          );
          break;
        case 'psi-oprf-values':
          channel.post(
            peer,
            PSI_OPRF_VALUES,
            message.bucket,
            { bucket: message.bucket, chunk: message.chunk, values: message.values },
            message.chunk,
          );
          break;
        case 'psi-result':
          throw new RangeError(
            "psi-result is posted by the alignment (jobs/common/alignment.ts), in the job's common order",
          );
      }
      await channel.drained();
    },
    receive: async (step: OprfStep, bucket: number, chunk: number): Promise<OprfMessage> => {
      switch (step) {
        case 'psi-oprf-hello': {
          const m = await channel.take(peer, PSI_OPRF_HELLO, 0);
          return { step, points: m.points, codeSeed: m.codeSeed, count: m.count };
        }
        case 'psi-oprf-setup': {
          const m = await channel.take(peer, PSI_OPRF_SETUP, 0);
          return { step, reply: m.reply, cuckooSeed: m.cuckooSeed, count: m.count, buckets: m.buckets };
        }
        case 'psi-oprf-correction': {
          const m = await channel.take(peer, PSI_OPRF_CORRECTION, bucket, chunk);
          return { step, bucket: m.bucket, chunk: m.chunk, rows: m.rows };
        }
        case 'psi-oprf-values': {
          const m = await channel.take(peer, PSI_OPRF_VALUES, bucket, chunk);
          return { step, bucket: m.bucket, chunk: m.chunk, values: m.values };
        }
        case 'psi-result':
          throw new RangeError('psi-result is taken by the alignment (jobs/common/alignment.ts)');
      }
    },
  };
}

/**
 * This party's ids as digests split into the session's buckets, yielding to
 * the event loop between chunks (10M ids take seconds; heartbeats, acks and
 * other hosts' messages keep flowing meanwhile).
 */
async function digestIntoBuckets(
  domainKey: Uint8Array,
  ids: readonly string[],
  buckets: number,
): Promise<BucketItems[]> {
  const digests = new Uint8Array(ids.length * DIGEST_BYTES);
  const digester = new IdDigester(domainKey);
  for (let from = 0; from < ids.length; from += DIGEST_CHUNK) {
    digester.digestMany(ids.slice(from, from + DIGEST_CHUNK), digests, from);
    await nextTurn();
  }
  return partition(digests, buckets);
}

/** Hands a bucket's items over once (a worker takes their buffers), dropping this side's reference. */
function takeItems(items: BucketItems[], bucket: number): BucketItems {
  const taken = items[bucket] ?? { digests: new Uint8Array(0), rows: new Uint32Array(0) };
  items[bucket] = { digests: new Uint8Array(0), rows: new Uint32Array(0) };
  return taken;
}

const allBuckets = (params: OprfParams): number[] => Array.from({ length: params.buckets }, (_, b) => b);

export type OprfGuestRun<M extends OprfMode> = {
  readonly channel: JobChannel;
  readonly ids: readonly string[];
  readonly hosts: readonly string[];
  readonly mode: M;
  readonly seedFor: OprfSeed;
  readonly options: OprfOptions;
  readonly onStep: OprfSteps;
};

/**
 * The guest: one receiver session per host, all at once; per host its
 * result in the mode asked for. Steps: each session opening, each bucket
 * done and each host's result, out of their total once every session is
 * open (the bucket count follows from both sizes).
 */
export async function oprfAsGuest<M extends OprfMode>(
  run: OprfGuestRun<M>,
): Promise<Array<Extract<OprfReceiverResult, { mode: M }>>> {
  const { channel, ids, hosts, mode } = run;
  const pairs = await Promise.all(
    hosts.map(async (host) => {
      const link = channelLink(channel, host);
      const domainKey = oprfDomainKey(mode, channel.jobId, channel.me, host);
      const setup = {
        domainKey,
        secret: await secretFor(host, run.seedFor),
        count: ids.length,
        ...(run.options.buckets === undefined ? {} : { minBuckets: run.options.buckets }),
      };
      return { host, link, domainKey, session: await openReceiver(link, setup) };
    }),
  );
  const total = pairs.reduce((n, p) => n + p.session.params.buckets + 2, 0);
  let done = 0;
  const step = (message: string): void => run.onStep(message, ++done, total);
  for (const { host, session } of pairs) {
    const { buckets, senderCount } = session.params;
    step(
      `PSI with ${host}: OPRF session open (${host} has ${senderCount} ids; ${buckets} bucket${buckets === 1 ? '' : 's'})`,
    );
  }
  return Promise.all(
    pairs.map(async ({ host, link, domainKey, session }) => {
      const items = await digestIntoBuckets(domainKey, ids, session.params.buckets);
      const results = await runBuckets(
        {
          session: { role: 'receiver', session },
          buckets: allBuckets(session.params),
          link,
          itemsOf: (b) => takeItems(items, b),
          onBucket: (_, finished, of) => step(`PSI with ${host}: bucket ${finished} of ${of} done`),
        },
        run.options.workers ?? 1,
      );
      const result: OprfReceiverResult = receiverResult(mode, session.params, results as ReceiverBucketResult[]);
      const shared =
        result.mode === 'intersection' ? result.receiverRows.length : result.isMember.reduce((n, v) => n + v, 0);
      step(`PSI with ${host}: ${shared} shared of ${ids.length} (host has ${session.params.senderCount})`);
      return result as Extract<OprfReceiverResult, { mode: M }>;
    }),
  );
}

/** The host's outcome: its position → row map (-1 at padding positions), and the session's parameters. */
export type OprfHostOutcome = { readonly params: OprfParams; readonly positionRows: Int32Array };

/** A host: the sender's side of one session with the guest; its shared rows come later, as positions (psi-result or a selection). */
export async function oprfAsHost(
  channel: JobChannel,
  ids: readonly string[],
  guest: string,
  mode: OprfMode,
  seedFor: OprfSeed,
  options: OprfOptions,
  progress: (message: string) => void,
): Promise<OprfHostOutcome> {
  const link = channelLink(channel, guest);
  const domainKey = oprfDomainKey(mode, channel.jobId, guest, channel.me);
  const session = await openSender(link, { domainKey, secret: await secretFor(guest, seedFor), count: ids.length });
  const { buckets, receiverCount } = session.params;
  progress(
    `PSI with ${guest}: OPRF session open (${guest} has ${receiverCount} ids; ${buckets} bucket${buckets === 1 ? '' : 's'})`,
  );
  const items = await digestIntoBuckets(domainKey, ids, buckets);
  const results = await runBuckets(
    {
      session: { role: 'sender', session },
      buckets: allBuckets(session.params),
      link,
      itemsOf: (b) => takeItems(items, b),
    },
    options.workers ?? 1,
  );
  progress(
    `PSI with ${guest}: sent the OPRF values of ${ids.length} ids in ${buckets} bucket${buckets === 1 ? '' : 's'}`,
  );
  return { params: session.params, positionRows: senderPositionRows(session.params, results as SenderBucketResult[]) };
}
