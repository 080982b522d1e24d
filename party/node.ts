/**
 * A party node: loads its config and identity, keeps one outbound session
 * to the coordinator, and runs every job that names it. It opens no port.
 * Jobs are durable (docs/durability.md): outgoing envelopes wait on disk
 * until acknowledged, incoming ones until a checkpoint covers them, and a
 * job the coordinator assigns again after a restart resumes from its
 * checkpoint.
 */
import { join } from 'node:path';
import { mkdir, writeFile } from 'node:fs/promises';
import type { Envelope } from '../protocol/wire/envelope.ts';
import { ASSIGNMENT, decodeMessage, JOB_CONTROL, REFUSED } from '../protocol/messages.ts';
import { COORDINATOR } from '../protocol/version.ts';
import { compileWireLimits } from '../protocol/wire/chunking.ts';
import type { TandemError } from '../protocol/errors.ts';
import { ConfigError, JobError, asTandemError } from '../protocol/errors.ts';
import { loadNodeIdentity, type NodeIdentity } from '../runtime/certs.ts';
import { AuditLog, type DpClaim } from '../audit/log.ts';
import type { Logger } from '../runtime/logger.ts';
import { loadPartyConfig, type PartyConfig } from './config.ts';
import { Mailbox } from './mailbox.ts';
import { CryptoPool } from '../runtime/crypto-pool.ts';
import { acquireNodeLock } from '../runtime/node-lock.ts';
import { PartySession } from './grpc-session.ts';
import { JobChannel } from './channel.ts';
import { runJob, type JobOutcome } from '../jobs/run-job.ts';
import { failureEvent } from '../jobs/common/summary.ts';
import { JobCheckpoint } from './checkpoint.ts';
import { faultPoint } from '../runtime/fault.ts';

export type PartyNodeOptions = {
  readonly log: Logger;
  /** How long a protocol step may wait for a peer. @default 600000 */
  readonly stepTimeoutMs?: number;
  /** Called when a job ends, successfully or not. */
  readonly onJobEnd?: (jobId: string, outcome: JobOutcome | TandemError) => void;
};

export type PartyNode = {
  readonly name: string;
  readonly config: PartyConfig;
  /** Resolves when the session ends for good (fatal refusal). */
  readonly stopped: Promise<TandemError>;
  close(): Promise<void>;
};

type RunningJob = { readonly abort: AbortController };

export async function startPartyNode(configFile: string, options: PartyNodeOptions): Promise<PartyNode> {
  const config = await loadPartyConfig(configFile);
  const crypto = new CryptoPool(config.node.cryptoThreads);
  const identity: NodeIdentity = await loadNodeIdentity(config.node.certs);
  if (identity.name !== config.node.name) {
    throw new ConfigError('CONFIG_INVALID', {
      file: configFile,
      field: 'node.name',
      problem: `is "${config.node.name}" but the certificate is for "${identity.name}"`,
      fix: `set node.name: ${identity.name}, or point node.certs at ${config.node.name}'s certificate`,
    });
  }
  const log = options.log.child({ node: config.node.name });
  const lock = acquireNodeLock(config.node.dataDir, config.node.name, log);
  /** A start that fails after taking the lock (an unreadable log or outbox) frees the directory. */
  const failStart = async (error: unknown): Promise<never> => {
    lock.release();
    await crypto.close();
    throw error;
  };
  let audit: AuditLog;
  try {
    audit = new AuditLog(
      join(config.node.dataDir, 'audit', `${config.node.name}.audit.jsonl`),
      config.node.name,
      identity.privateKey,
    );
  } catch (error) {
    return failStart(error);
  }
  const mailbox = new Mailbox(config.node.dataDir);
  const jobs = new Map<string, RunningJob>();
  const finished = new Set<string>();
  const limits = compileWireLimits();

  /**
   * With differential privacy on, signs the ε the job spent into the audit
   * log, so an auditor reads it from the party's own signed record rather
   * than from a job summary. Today only the guest's summary carries `dp`
   * (models/lr/supervised.ts); a host whose summary carries it states it too.
   */
  const stateDp = (jobId: string, outcome: JobOutcome): void => {
    const claim = dpClaim(jobId, outcome.summary);
    if (claim === undefined) {
      if (outcome.summary['dp'] !== undefined)
        log.warn(
          { job: jobId, dp: outcome.summary['dp'] },
          'the job summary has a dp section without ε, δ, budget, steps and noise multiplier: no ε stated in the audit log',
        );
      return;
    }
    try {
      const record = audit.state(claim);
      log.info({ job: jobId, epsilon: claim.epsilon, seq: record.seq }, 'stated the ε spent in the audit log');
    } catch (error) {
      log.error({ job: jobId, err: error }, 'could not state the ε spent in the audit log');
    }
  };

  const start = (envelope: Envelope): void => {
    if (jobs.has(envelope.jobId) || finished.has(envelope.jobId)) return;
    const assignment = decodeMessage(ASSIGNMENT, envelope.body);
    const abort = new AbortController();
    jobs.set(envelope.jobId, { abort });
    log.info({ job: envelope.jobId }, 'assigned to a job');
    let channel: JobChannel | undefined;
    let checkpoint: JobCheckpoint | undefined;
    JobCheckpoint.open(config.node.dataDir, envelope.jobId, mailbox)
      .then((opened) => {
        checkpoint = opened;
        // Events are numbered per start, so a resumed job's events are not dropped as resends.
        channel = new JobChannel({
          jobId: envelope.jobId,
          me: config.node.name,
          session,
          mailbox,
          stepTimeoutMs: options.stepTimeoutMs ?? 600_000,
          signal: abort.signal,
          eventSeqBase: (opened.incarnation - 1) * 2 ** 20,
        });
        // Datasets are read from the config file again at each job, so one added or edited since the node started is seen.
        return loadPartyConfig(configFile).then((fresh) =>
          runJob({
            channel: channel as JobChannel,
            assignment,
            config: { ...config, datasets: fresh.datasets },
            identity,
            log,
            crypto,
            checkpoint: opened,
          }),
        );
      })
      .then(async (outcome) => {
        log.info({ job: envelope.jobId, file: outcome.modelFile }, 'job finished; model part saved');
        stateDp(envelope.jobId, outcome);
        await checkpoint?.complete('outcome');
        options.onJobEnd?.(envelope.jobId, outcome);
      })
      .catch(async (error: unknown) => {
        const e = asTandemError(error);
        if (e.code !== 'JOB_CANCELLED') {
          log.error({ job: envelope.jobId, code: e.code, err: e }, `job failed: ${e.message}`);
          // The whole story stays on this node (paths, lines, fixes); `tandem job status --config` here prints it.
          await writeFailure(config.node.dataDir, envelope.jobId, e).catch(() => undefined);
          try {
            channel?.event(failureEvent(e, channel.phase));
          } catch {
            // aborted channel: nothing more to tell
          }
        } else {
          log.warn({ job: envelope.jobId, reason: e.message }, 'job cancelled');
        }
        // A node shutting down keeps its checkpoint to resume; a failed or cancelled job has nothing to resume.
        if (!closed) await checkpoint?.discard().catch(() => undefined);
        options.onJobEnd?.(envelope.jobId, e);
      })
      .finally(() => {
        jobs.delete(envelope.jobId);
        finished.add(envelope.jobId);
        setTimeout(() => mailbox.dropJob(envelope.jobId), 60_000).unref();
      });
  };

  const onEnvelope = (envelope: Envelope): void => {
    try {
      if (envelope.sender === COORDINATOR && envelope.step === ASSIGNMENT.step) return start(envelope);
      if (envelope.sender === COORDINATOR && envelope.step === JOB_CONTROL.step) {
        const control = decodeMessage(JOB_CONTROL, envelope.body);
        jobs
          .get(envelope.jobId)
          ?.abort.abort(new JobError('JOB_CANCELLED', `job ${envelope.jobId} stopped: ${control.reason}`));
        return;
      }
      if (envelope.sender === COORDINATOR && envelope.step === REFUSED.step) {
        const refusal = decodeMessage(REFUSED, envelope.body);
        jobs
          .get(envelope.jobId)
          ?.abort.abort(
            new JobError('JOB_FAILED', `the coordinator refused a message: ${refusal.code}: ${refusal.message}`),
          );
        return;
      }
      mailbox.put(envelope);
      faultPoint(envelope.step, envelope.round);
    } catch (error) {
      log.warn({ job: envelope.jobId, step: envelope.step, err: error }, 'dropped an envelope');
    }
  };

  let session: PartySession;
  try {
    session = new PartySession({
      name: config.node.name,
      address: config.node.coordinator,
      identity,
      limits,
      log,
      audit,
      heartbeatIntervalMs: config.node.heartbeatIntervalMs,
      onEnvelope,
      outboxDir: join(config.node.dataDir, 'outbox'),
      ...(config.node.coordinatorName === undefined ? {} : { serverName: config.node.coordinatorName }),
    });
  } catch (error) {
    audit.close();
    return failStart(error);
  }
  const stopped = new Promise<TandemError>((resolve) => session.once('fatal', resolve));
  session.start();
  log.info({ address: config.node.coordinator }, 'party node started');
  let closed = false;

  return {
    name: config.node.name,
    config,
    stopped,
    close: async () => {
      if (closed) return;
      closed = true;
      for (const job of jobs.values())
        job.abort.abort(new JobError('JOB_CANCELLED', 'the party node is shutting down'));
      const deadline = Date.now() + 3000;
      while (session.unacknowledged > 0 && session.connected && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 50));
      session.close();
      audit.close();
      await crypto.close();
      lock.release();
      log.info({ jobsStopped: jobs.size }, 'party node stopped');
    },
  };
}

/** The `dp` claim a job's summary supports, or undefined when the job ran without differential privacy. */
export function dpClaim(jobId: string, summary: Readonly<Record<string, unknown>>): DpClaim | undefined {
  const dp = summary['dp'];
  if (typeof dp !== 'object' || dp === null) return undefined;
  const d = dp as Record<string, unknown>;
  const num = (k: string): number | undefined => (typeof d[k] === 'number' && Number.isFinite(d[k]) ? d[k] : undefined);
  const optional = (k: string): number | null => num(k) ?? null;
  const [epsilon, delta, budget, steps, noiseMultiplier] = [
    num('epsilon'),
    num('delta'),
    num('budget'),
    num('steps'),
    num('noiseMultiplier'),
  ];
  if (
    epsilon === undefined ||
    delta === undefined ||
    budget === undefined ||
    steps === undefined ||
    noiseMultiplier === undefined
  )
    return undefined;
  return {
    type: 'dp',
    job: jobId,
    role: typeof summary['role'] === 'string' ? summary['role'] : 'unknown',
    epsilon,
    delta,
    budget,
    steps,
    noiseMultiplier,
    evaluationNoiseMultiplier: optional('evaluationNoiseMultiplier'),
    clip: optional('clip'),
    samplingRate: optional('samplingRate'),
    accountant: 'rdp-subsampled-gaussian',
  };
}

/** Where a node keeps the full error of a job that failed at this node (`job status --config` reads it). */
export function failureFile(dataDir: string, jobId: string): string {
  return join(dataDir, 'jobs', jobId, 'failure.json');
}

async function writeFailure(dataDir: string, jobId: string, error: TandemError): Promise<void> {
  const file = failureFile(dataDir, jobId);
  await mkdir(join(file, '..'), { recursive: true, mode: 0o700 });
  await writeFile(
    file,
    `${JSON.stringify({ jobId, code: error.code, message: error.message, at: new Date().toISOString() }, null, 2)}\n`,
    { mode: 0o600 },
  );
}
