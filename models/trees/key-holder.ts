/**
 * The coordinator's part of a tree job: the dealer of secret-shared
 * histograms (secure-histogram.ts). It keeps the guest's seed and each
 * host's seed and sizes, and answers the guest's requests with its shares
 * Vᵀu − z. It holds no key the parties use and sees no row's data. A
 * request that arrives before the seeds it needs waits for them.
 */
import { randomBytes } from 'node:crypto';
import { decodeMessage, type Message, type PropsOf } from '../../protocol/messages.ts';
import { JobError } from '../../protocol/errors.ts';
import type { JobSpec } from '../../protocol/job-spec.ts';
import type { Envelope } from '../../protocol/wire/envelope.ts';
import type { Logger } from '../../runtime/logger.ts';
import type { KeyHolder } from '../family.ts';
import { TREE_DEAL, TREE_DEALT, TREE_SEED } from './messages.ts';
import { dealShares, maskLabels, MAX_SHARE_WORDS } from './secure-histogram.ts';
import { seededMatrix, type ShareMatrix } from './share-matrix.ts';

type HostSeed = { seed: Uint8Array; rows: number; bins: number; V: ShareMatrix };
type Reply = <M extends Message>(m: M, body: PropsOf<M>) => void;

export function treesKeyHolder(jobId: string, spec: JobSpec, log: Logger): Promise<KeyHolder> {
  let guestSeed: Uint8Array | undefined;
  const hosts = new Map<string, HostSeed>();
  const waiting: { host: string; first: number; count: number; reply: Reply }[] = [];
  const hostNames = new Set(spec.hosts.map((h) => h.name));

  const answer = (w: (typeof waiting)[number]): boolean => {
    const h = hosts.get(w.host);
    if (guestSeed === undefined || h === undefined) return false;
    const shares = dealShares(guestSeed, w.host, h.seed, h.V, w.first, w.count);
    w.reply(TREE_DEALT, { words: new Uint8Array(shares.buffer), count: w.count, first: w.first, width: h.bins });
    return true;
  };
  const drain = (): void => {
    for (let k = waiting.length - 1; k >= 0; k--)
      if (answer(waiting[k] as (typeof waiting)[number])) waiting.splice(k, 1);
  };

  return Promise.resolve({
    assignment: {},
    // No CKKS key in a tree job; the slots hold fresh randomness so nothing reads as a key.
    secrets: { secretKey: new Uint8Array(randomBytes(32)), noiseKey: new Uint8Array(randomBytes(32)) },
    handle(envelope: Envelope, from: string, reply: Reply) {
      if (envelope.step === TREE_SEED.step) {
        const m = decodeMessage(TREE_SEED, envelope.body);
        if (m.seed.byteLength !== 32)
          throw new JobError('JOB_STATE_CONFLICT', `tree-seed from ${from} has ${m.seed.byteLength} bytes, not 32`);
        if (from === spec.guest.name) guestSeed = m.seed;
        else if (hostNames.has(from)) {
          if (m.rows < 1 || m.bins < 1 || m.rows * m.bins > MAX_SHARE_WORDS)
            throw new JobError(
              'JOB_STATE_CONFLICT',
              `tree-seed from ${from}: ${m.rows} rows × ${m.bins} bins is outside what the dealer can hold`,
            );
          hosts.set(from, {
            seed: m.seed,
            rows: m.rows,
            bins: m.bins,
            V: seededMatrix(m.seed, maskLabels.v, m.rows, m.bins),
          });
          log.info({ job: jobId, host: from, rows: m.rows, bins: m.bins }, 'tree dealer ready for host');
        } else throw new JobError('JOB_STATE_CONFLICT', `tree-seed from ${from}, who is not in job ${jobId}`);
        drain();
        return;
      }
      if (envelope.step !== TREE_DEAL.step)
        throw new JobError('JOB_STATE_CONFLICT', `the trees dealer does not handle step "${envelope.step}"`);
      if (from !== spec.guest.name)
        throw new JobError('JOB_STATE_CONFLICT', `tree-deal from ${from}: only the guest asks for shares`);
      const m = decodeMessage(TREE_DEAL, envelope.body);
      if (!hostNames.has(m.host) || m.count < 1 || m.count > 4096)
        throw new JobError('JOB_STATE_CONFLICT', `tree-deal for ${m.count} vectors of "${m.host}"`);
      const w = { host: m.host, first: m.first, count: m.count, reply };
      if (!answer(w)) waiting.push(w);
    },
    // The seeds, so that a restarted coordinator deals the same shares: kept in its job store while the job runs, like a CKKS job's key.
    state: () => ({
      ...(guestSeed === undefined ? {} : { guestSeed: Buffer.from(guestSeed).toString('base64') }),
      hosts: Object.fromEntries(
        [...hosts].map(([name, h]) => [
          name,
          { seed: Buffer.from(h.seed).toString('base64'), rows: h.rows, bins: h.bins },
        ]),
      ),
    }),
    restore(saved) {
      const s = saved as { guestSeed?: string; hosts?: Record<string, { seed: string; rows: number; bins: number }> };
      if (s.guestSeed !== undefined) guestSeed = new Uint8Array(Buffer.from(s.guestSeed, 'base64'));
      for (const [name, h] of Object.entries(s.hosts ?? {})) {
        const seed = new Uint8Array(Buffer.from(h.seed, 'base64'));
        hosts.set(name, { ...h, seed, V: seededMatrix(seed, maskLabels.v, h.rows, h.bins) });
      }
    },
    dispose() {
      hosts.clear();
      guestSeed = undefined;
    },
  });
}
