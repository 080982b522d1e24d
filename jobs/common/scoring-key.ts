/**
 * The pseudonymous key for online scoring: the guest draws 32 random bytes
 * and sends them sealed to each host. At serving time the guest sends a host
 * HMAC-SHA256(key, id) instead of the id, and the host finds its row by
 * hashing its own ids (serving/pseudonym.ts). The coordinator relays the
 * sealed key without being able to read it.
 */
import { randomBytes } from 'node:crypto';
import { JobError } from '../../protocol/errors.ts';
import { SCORING_KEY } from '../../protocol/messages.ts';
import type { JobSpec } from '../../protocol/job-spec.ts';
import { keepIn } from '../../party/checkpoint.ts';
import type { JobContext } from '../context.ts';

export async function agreeScoringKey(ctx: JobContext, spec: JobSpec, role: 'guest' | 'host'): Promise<Uint8Array> {
  if (role === 'host') {
    const { key } = await ctx.channel.take(spec.guest.name, SCORING_KEY, 0);
    if (key.byteLength !== 32)
      throw new JobError('JOB_STATE_CONFLICT', `the guest sent a ${key.byteLength}-byte scoring key, expected 32`);
    return key;
  }
  // Kept: hosts that already stored it must get the same key from a restarted guest.
  const key = await keepIn(ctx.checkpoint, 'scoring-key', () => new Uint8Array(randomBytes(32)));
  for (const h of spec.hosts) ctx.channel.post(h.name, SCORING_KEY, 0, { key });
  return key;
}
