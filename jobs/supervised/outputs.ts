/**
 * How many outputs a supervised model has: 1 for a binary label, K for a
 * label with K ≥ 3 classes. The guest counts its label's classes and tells
 * the hosts (sealed): they learn K, never the class names.
 */
import { JobError } from '../../protocol/errors.ts';
import type { JobSpec } from '../../protocol/job-spec.ts';
import type { JobChannel } from '../../party/channel.ts';
import { CLASSES } from './messages.ts';

/** Most classes a cold-start job trains (one encrypted training each). */
export const MAX_CLASSES = 32;

export async function agreeOutputs(channel: JobChannel, spec: JobSpec, role: 'guest' | 'host', labelClasses: readonly string[] | undefined): Promise<number> {
  if (spec.kind !== 'cold-start') return 1;
  if (role === 'host') {
    const outputs = (await channel.take(spec.guest.name, CLASSES, 0)).epoch;
    if (!(Number.isInteger(outputs) && outputs >= 1 && outputs <= MAX_CLASSES)) throw new JobError('JOB_STATE_CONFLICT', `the guest asked for ${outputs} one-vs-rest models (1..${MAX_CLASSES})`);
    return outputs;
  }
  const k = labelClasses?.length ?? 2;
  if (k > MAX_CLASSES) {
    throw new JobError('JOB_STATE_CONFLICT', `the guest's label has ${k} classes; a cold-start job trains at most ${MAX_CLASSES} (one encrypted model each). Fix: merge rare classes, or list the ones to keep under label.classes in the node config`, { publicMessage: `the guest's label has more than ${MAX_CLASSES} classes` });
  }
  const outputs = k <= 2 ? 1 : k;
  for (const h of spec.hosts) channel.post(h.name, CLASSES, 0, { action: 'outputs', epoch: outputs });
  return outputs;
}
