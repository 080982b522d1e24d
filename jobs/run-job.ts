/**
 * One job at one party, from assignment to saved model: finds the job's
 * kind in the registry (jobs/registry.ts) and runs it with this node's
 * dataset. A job finished before a restart repeats its answer; a kind that
 * cannot resume fails cleanly when restarted mid-way.
 */
import { compileJobSpec, jobSpecSchema } from '../protocol/job-spec.ts';
import { JobError } from '../protocol/errors.ts';
import { reportDone, type JobContext, type JobOutcome } from './context.ts';
import { jobKind } from './registry.ts';
import { publicSummary } from './common/summary.ts';

export type { JobContext, JobOutcome } from './context.ts';

export async function runJob(ctx: JobContext): Promise<JobOutcome> {
  const { channel, config } = ctx;
  const spec = compileJobSpec(jobSpecSchema.parse(JSON.parse(ctx.assignment.specJson)));
  const me = spec.parties.find((p) => p.name === channel.me);
  if (me === undefined) throw new JobError('JOB_NOT_PARTICIPANT', `job ${channel.jobId} does not name ${channel.me}`);
  const dataset = config.datasets[me.dataset];
  if (dataset === undefined) {
    throw new JobError(
      'JOB_STATE_CONFLICT',
      `job ${channel.jobId} asks for dataset "${me.dataset}", which ${channel.me}'s config does not define (it has: ${Object.keys(config.datasets).join(', ')})`,
      {
        publicMessage: `${channel.me} has no dataset "${me.dataset}"`,
      },
    );
  }
  const kind = jobKind(spec.kind);
  const durable = ctx.checkpoint;
  const finished = durable?.kept<JobOutcome>('outcome');
  if (finished !== undefined) {
    // Done before a restart, but the coordinator asked again: repeat the answer.
    reportDone(ctx, publicSummary(finished.summary));
    return finished;
  }
  if (durable?.resuming === true && !kind.resumable) {
    throw new JobError(
      'JOB_FAILED',
      `${channel.me} restarted during job ${channel.jobId}; a ${spec.kind} job cannot resume (hetero-lr and cold-start jobs can), submit it again`,
      { publicMessage: `${channel.me} restarted; a ${spec.kind} job cannot resume` },
    );
  }
  if (durable?.resuming === true)
    ctx.log.info({ job: channel.jobId, incarnation: durable.incarnation }, 'resuming the job from its checkpoint');
  return kind.run(ctx, spec, me, dataset);
}
