/**
 * What `tandem console` shows of the federation, from the coordinator's side
 * (the DescribeFederation call): who is registered and connected, the jobs,
 * and for each failed job the failing node and the error code.
 *
 * A failure is recorded as the job's message, in the one format written and
 * read here, so that `tandem job status` shows the same code the console
 * does and nothing new is stored: `brand failed at setup: <public message>
 * (error DATA_COLUMN_MISSING)`.
 *
 * Who sees what: every authenticated caller learns its own name and whether
 * it is an admin (so a console can say why it offers no submit form); only
 * the coordinator's own certificate gets the parties and every job, since
 * it is the operator of this coordinator who already holds its job store.
 */
import type { tandem } from '../protocol/generated/tandem.js';
import type { JobRecord } from './job-store.ts';

/** A job's message when one of its parties reported a failure. */
export function failureMessage(party: string, phase: string, code: string, publicMessage: string): string {
  return `${party} failed at ${phase}: ${publicMessage}${code === '' ? '' : ` (error ${code})`}`;
}

/** A job's message when a party stayed away longer than the grace period. */
export function vanishedMessage(party: string, phase: string, graceMs: number): string {
  return `${party} disconnected during ${phase} and did not come back within ${Math.round(graceMs / 1000)} s (error PEER_UNAVAILABLE)`;
}

const FAILED = /^([a-z][a-z0-9-]{0,62}) failed at ([\w-]+): ([\s\S]*?)(?: \(error ([A-Z][A-Z0-9_]*)\))?$/;
const VANISHED = /^([a-z][a-z0-9-]{0,62}) disconnected during ([\w-]+) ([\s\S]*?)(?: \(error ([A-Z][A-Z0-9_]*)\))?$/;

/** The failure of a failed job, read back from its message; undefined for a job that did not fail. */
export function failureOf(
  job: Pick<JobRecord, 'jobId' | 'stage' | 'phase' | 'message'>,
): tandem.v1.JobFailure.$Properties | undefined {
  if (job.stage !== 'failed') return undefined;
  const failed = FAILED.exec(job.message);
  if (failed !== null) {
    const [, party = '', phase = '', message = '', code = ''] = failed;
    return { jobId: job.jobId, party, phase, errorCode: code, message };
  }
  const vanished = VANISHED.exec(job.message);
  if (vanished !== null) {
    const [, party = '', phase = '', rest = '', code = ''] = vanished;
    return { jobId: job.jobId, party, phase, errorCode: code, message: `disconnected ${rest}` };
  }
  // Ended by the coordinator itself (e.g. it restarted without the job's keys).
  return { jobId: job.jobId, party: '', phase: job.phase, errorCode: '', message: job.message };
}

/** What {@link describeFederation} reads. */
export type FederationSources = {
  /** The coordinator's own node name (its certificate's CN). */
  readonly coordinator: string;
  readonly admins: readonly string[];
  /** Registered parties; undefined admits any name the CA signed. */
  readonly parties: readonly string[] | undefined;
  readonly isConnected: (party: string) => boolean;
  /** Most recent first. */
  readonly jobs: (limit: number) => readonly JobRecord[];
  readonly status: (job: JobRecord) => tandem.v1.JobStatus.$Properties;
};

/** The answer to DescribeFederation for `caller` (authenticated by its certificate). */
export function describeFederation(
  caller: string,
  request: { readonly jobLimit: number },
  from: FederationSources,
): tandem.v1.FederationView.$Properties {
  const view = {
    coordinator: from.coordinator,
    caller,
    callerIsAdmin: from.admins.includes(caller),
    full: caller === from.coordinator,
  };
  if (!view.full) return view;
  const jobs = from.jobs(request.jobLimit > 0 ? Math.min(request.jobLimit, 500) : 50);
  const names = from.parties ?? [...new Set(jobs.flatMap((j) => j.parties))].sort();
  return {
    ...view,
    parties: names.map((name) => ({ name, registered: from.parties !== undefined, connected: from.isConnected(name) })),
    jobs: jobs.map(from.status),
    failures: jobs.flatMap((j) => failureOf(j) ?? []),
  };
}
