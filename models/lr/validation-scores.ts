/**
 * The guest's side of evaluation scores: each host's partial logits of the
 * validation rows (`outputs` per row, row-major), added into the guest's own.
 * Only sent when the job shares validation scores (threat model L6).
 */
import { JobError } from '../../protocol/errors.ts';
import type { JobSpec } from '../../protocol/job-spec.ts';
import type { JobChannel } from '../../party/channel.ts';
import { VALIDATION_SCORES } from './messages.ts';

/** Adds every host's validation partials into `z` (rows × outputs, row-major), in place. */
export async function addHostValidationScores(
  channel: JobChannel,
  spec: JobSpec,
  z: Float64Array,
  outputs: number,
): Promise<void> {
  for (const h of spec.hosts) {
    const scores = await channel.take(h.name, VALIDATION_SCORES, 0);
    const u = new Float64Array(
      scores.values.buffer.slice(scores.values.byteOffset, scores.values.byteOffset + scores.values.byteLength),
    );
    if (u.length !== z.length || (scores.outputs || 1) !== outputs) {
      throw new JobError(
        'JOB_STATE_CONFLICT',
        `${h.name} sent ${u.length} validation scores (${scores.outputs || 1} per row) for ${z.length / outputs} rows × ${outputs} per row`,
      );
    }
    for (let i = 0; i < z.length; i++) z[i] = (z[i] ?? 0) + (u[i] ?? 0);
  }
}
