/**
 * Every job kind, by name: the one place a kind is registered. A kind is the
 * workflow at a party (which alignment, which labels, what is saved); kinds
 * that train a model hand training to the job's model family
 * (models/registry.ts).
 */
import type { JobSpec, PartySpec } from '../protocol/job-spec.ts';
import type { Message } from '../protocol/messages.ts';
import type { DatasetConfig } from '../party/config.ts';
import type { JobContext, JobOutcome } from './context.ts';
import { runSupervised } from './supervised/supervised.ts';
import { SUPERVISED_MESSAGES } from './supervised/messages.ts';
import { runLookalike } from './lookalike/lookalike.ts';
import { LOOKALIKE_MESSAGES } from './lookalike/messages.ts';
import { runReach } from './reach/reach.ts';

export type JobKind = {
  readonly kind: JobSpec['kind'];
  /** Whether a party restarted mid-job carries on from its checkpoint (else the job fails and is submitted again). */
  readonly resumable: boolean;
  /** Whether the job trains a model (and so has a model family's key holder at the coordinator). */
  readonly trainsModel: boolean;
  /** Messages only this kind sends, for the catalog (jobs/catalog.ts). */
  readonly messages: readonly Message[];
  run(ctx: JobContext, spec: JobSpec, me: PartySpec, dataset: DatasetConfig): Promise<JobOutcome>;
};

const KINDS: readonly JobKind[] = [
  { kind: 'hetero-lr', resumable: true, trainsModel: true, messages: SUPERVISED_MESSAGES, run: runSupervised },
  { kind: 'cold-start', resumable: true, trainsModel: true, messages: SUPERVISED_MESSAGES, run: runSupervised },
  { kind: 'lookalike', resumable: false, trainsModel: true, messages: LOOKALIKE_MESSAGES, run: runLookalike },
  { kind: 'reach', resumable: false, trainsModel: false, messages: [], run: runReach },
];

export const JOB_KINDS: ReadonlyMap<string, JobKind> = new Map(KINDS.map((k) => [k.kind, k]));

export function jobKind(kind: string): JobKind {
  const found = JOB_KINDS.get(kind);
  if (found === undefined) throw new RangeError(`no job kind "${kind}"`);
  return found;
}
