/**
 * What every job kind gets to run one job at one party: the channel to its
 * peers and the coordinator, the assignment, the node's config, identity,
 * logger, durable checkpoint and crypto threads; and what it returns.
 */
import type { tandem } from '../protocol/generated/tandem.js';
import type { NodeIdentity } from '../runtime/certs.ts';
import type { CryptoPool } from '../runtime/crypto-pool.ts';
import type { Logger } from '../runtime/logger.ts';
import type { JobChannel } from '../party/channel.ts';
import type { JobCheckpoint } from '../party/checkpoint.ts';
import type { PartyConfig } from '../party/config.ts';

export type JobContext = {
  readonly channel: JobChannel;
  readonly assignment: tandem.v1.JobAssignment;
  readonly config: PartyConfig;
  readonly identity: NodeIdentity;
  readonly log: Logger;
  /** This node's crypto worker threads (PSI blinding, CKKS). */
  readonly crypto: CryptoPool;
  /** Durable state for resuming after a restart (party/checkpoint.ts); resumable job kinds only. @default none */
  readonly checkpoint?: JobCheckpoint | undefined;
};

export type JobOutcome = {
  /** This party's model part (`''` for a job that trains none, such as reach). */
  readonly modelFile: string;
  readonly summary: Record<string, unknown>;
};

/** The phases a job reports, in the order they happen (the coordinator never moves a job back). */
export const JOB_PHASES = ['setup', 'psi', 'training', 'evaluation', 'done'] as const;
export type JobPhase = (typeof JOB_PHASES)[number];

/** Reports a phase change with a message: logged, and sent to the coordinator as an event. */
export type Progress = (phase: JobPhase, message: string) => void;

export function progressReporter(ctx: JobContext, log: Logger): Progress {
  return (phase, message) => {
    ctx.channel.phase = phase;
    log.info({ phase }, message);
    ctx.channel.event({ phase, message });
  };
}

/** Tells the coordinator this party is done, with the summary it may see (aggregates only). */
export function reportDone(ctx: JobContext, publicSummary: Record<string, unknown>): void {
  ctx.channel.event({ phase: 'done', message: 'finished', summaryJson: JSON.stringify(publicSummary), done: true });
}
