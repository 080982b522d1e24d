/**
 * The coordinator's job service: submission, the party-key directory,
 * relaying, progress and the end of a job. What a job's model family needs
 * from the coordinator (the CKKS key pair and masked decryption, for LR) is
 * its key holder (models/<family>/key-holder.ts); messages addressed to the
 * coordinator are dispatched by step through a table built from the message
 * catalog, and every relayed envelope is checked against the catalog. Admin
 * calls are authorised here; the gRPC edge only decodes.
 */
import { randomBytes } from 'node:crypto';
import type { Logger } from '../runtime/logger.ts';
import { compileJobSpec, jobSpecSchema, type JobSpec } from '../protocol/job-spec.ts';
import { validateJobSpecText } from '../jobs/spec.ts';
import type { Envelope } from '../protocol/wire/envelope.ts';
import type { tandem } from '../protocol/generated/tandem.js';
import {
  ASSIGNMENT,
  decodeMessage,
  EVENT,
  JOB_CONTROL,
  KEY_DIRECTORY,
  PARTY_KEY,
  PSI_MATCHES,
  PSI_PRF,
  type Message,
  type PropsOf,
  type Role,
} from '../protocol/messages.ts';
import { COORDINATOR } from '../protocol/version.ts';
import { AuthError, ConfigError, JobError, TandemError } from '../protocol/errors.ts';
import { modelFamily } from '../models/registry.ts';
import type { KeyHolder } from '../models/family.ts';
import { jobKind } from '../jobs/registry.ts';
import { MESSAGE_CATALOG } from '../jobs/catalog.ts';
import { PsiMatcher } from './psi-match.ts';
import { failureMessage, vanishedMessage } from './federation-view.ts';
import { FINAL_STAGES, type JobRecord, type JobStage, type JobStore } from './job-store.ts';
import type { Hub } from './hub.ts';

type LiveJob = {
  readonly jobId: string;
  readonly spec: JobSpec;
  /** The model family's part of the coordinator; none for a job that trains no model (reach). */
  readonly holder: KeyHolder | undefined;
  readonly partyKeys: Map<string, tandem.v1.PartyKey.$Properties>;
  readonly done: Set<string>;
  readonly summaries: Map<string, unknown>;
  /** Coordinator-aided PSI's pending lists (alignment.psi: coordinator). */
  readonly psi: PsiMatcher;
};

/** What the job store keeps of a running job besides its secrets, so a restarted coordinator carries on. */
type SavedState = {
  partyKeys: string[];
  done: string[];
  summaries: Record<string, unknown>;
  holder?: Record<string, unknown>;
  /** before the key holders: */ dpTrainRows?: number | undefined;
};

/** Handles a message addressed to the coordinator; `reply` answers the sender. */
type Handler = (
  live: LiveJob,
  job: JobRecord,
  envelope: Envelope,
  from: string,
  reply: <M extends Message>(m: M, body: PropsOf<M>) => void,
) => void;

export type JobServiceOptions = {
  readonly store: JobStore;
  readonly hub: Hub;
  readonly log: Logger;
  /** Names allowed to submit and cancel jobs. */
  readonly admins: readonly string[];
  /** Registered parties; undefined admits any name. */
  readonly parties: readonly string[] | undefined;
  /** How long a party of a running job may stay disconnected before the job fails. @default 60000 */
  readonly peerGraceMs?: number | undefined;
};

export type JobWatcher = (job: JobRecord) => void;

export class JobService {
  readonly #o: JobServiceOptions;
  readonly #live = new Map<string, LiveJob>();
  readonly #watchers = new Map<string, Set<JobWatcher>>();
  /** Parties of running jobs that are disconnected, with the timer that fails their jobs. */
  readonly #away = new Map<string, NodeJS.Timeout>();

  constructor(options: JobServiceOptions) {
    this.#o = options;
    options.hub.setHandler(
      (envelope, from, bytes) => this.#onEnvelope(envelope, from, bytes),
      (party) => this.#returned(party),
      (party) => this.#left(party),
    );
  }

  /**
   * After a restart: takes up every job that was running, with its saved
   * key pair and state; the parties reconnect and carry on. A running job
   * without saved secrets (an older coordinator's) cannot finish and fails.
   */
  async resume(): Promise<void> {
    for (const job of this.#o.store.unfinished()) {
      const spec = compileJobSpec(jobSpecSchema.parse(JSON.parse(job.specJson)));
      const secrets = this.#o.store.secrets(job.jobId);
      if (secrets === undefined && jobKind(spec.kind).trainsModel) {
        this.#update(job, {
          stage: 'failed',
          message: 'the coordinator restarted while the job was running and has no saved keys for it; submit it again',
        });
        continue;
      }
      const live = await this.#start(job.jobId, spec, secrets);
      const saved = JSON.parse(
        this.#o.store.state(job.jobId) ?? '{"partyKeys":[],"done":[],"summaries":{}}',
      ) as SavedState;
      for (const bytes of saved.partyKeys) {
        const key = PARTY_KEY.body.decode(Buffer.from(bytes, 'base64'));
        live.partyKeys.set(key.party, key);
      }
      for (const party of saved.done) live.done.add(party);
      for (const [party, summary] of Object.entries(saved.summaries)) live.summaries.set(party, summary);
      live.holder?.restore(saved.holder ?? (saved.dpTrainRows === undefined ? {} : { dpTrainRows: saved.dpTrainRows }));
      this.#o.log.info({ job: job.jobId, phase: job.phase }, 'resumed a running job after a restart');
      // A party that does not come back within the grace period fails the job, as if it had just left.
      for (const party of job.parties) if (!this.#o.hub.isConnected(party)) this.#left(party);
    }
  }

  /** Makes a job live: its model family's key holder (new, or restored from the store's secrets). */
  async #start(jobId: string, spec: JobSpec, saved?: KeyHolder['secrets']): Promise<LiveJob> {
    const holder = jobKind(spec.kind).trainsModel
      ? await modelFamily(spec.family).keyHolder(jobId, spec, this.#o.log, saved)
      : undefined;
    if (holder !== undefined && saved === undefined)
      this.#o.store.saveSecrets(jobId, holder.secrets.secretKey, holder.secrets.noiseKey);
    const live: LiveJob = {
      jobId,
      spec,
      holder,
      partyKeys: new Map(),
      done: new Set(),
      summaries: new Map(),
      psi: new PsiMatcher(jobId, spec),
    };
    this.#live.set(jobId, live);
    return live;
  }

  #saveState(live: LiveJob): void {
    const state: SavedState = {
      partyKeys: [...live.partyKeys.values()].map((k) =>
        Buffer.from(PARTY_KEY.body.encode(k).finish()).toString('base64'),
      ),
      done: [...live.done],
      summaries: Object.fromEntries(live.summaries),
      holder: live.holder?.state() ?? {},
    };
    this.#o.store.saveState(live.jobId, JSON.stringify(state));
  }

  #assign(live: LiveJob, job: JobRecord, party: string): void {
    this.#o.hub.post(ASSIGNMENT, job.jobId, party, 0, {
      ...live.holder?.assignment,
      jobId: job.jobId,
      specJson: job.specJson,
    });
  }

  async submit(caller: string, specYaml: string, specFile: string): Promise<JobRecord> {
    this.#requireAdmin(caller, 'submit jobs');
    try {
      return await this.#submit(specYaml, specFile);
    } catch (error) {
      // The spec is the submitter's own file: tell them exactly what to fix.
      if (error instanceof ConfigError)
        throw new TandemError(error.code, error.message, { publicMessage: error.message, cause: error });
      throw error;
    }
  }

  async #submit(specYaml: string, specFile: string): Promise<JobRecord> {
    const file = specFile === '' ? 'job spec' : specFile;
    const input = validateJobSpecText(specYaml, file);
    const spec = compileJobSpec(input);
    const unknown = spec.parties.find((p) => this.#o.parties !== undefined && !this.#o.parties.includes(p.name));
    if (unknown !== undefined) {
      throw new ConfigError('JOB_SPEC_INVALID', {
        file,
        field: 'parties',
        problem: `"${unknown.name}" is not a registered party of this coordinator`,
        fix: `use one of: ${(this.#o.parties ?? []).join(', ')}, or register it in the coordinator config`,
      });
    }
    const jobId = `job-${randomBytes(5).toString('hex')}`;
    const now = Date.now();
    const job: JobRecord = {
      jobId,
      name: spec.name,
      kind: spec.kind,
      stage: 'running',
      phase: 'setup',
      parties: spec.parties.map((p) => p.name),
      epoch: 0,
      maxEpochs: 0,
      unit: '',
      loss: 0,
      message: 'waiting for parties',
      summaryJson: '{}',
      specYaml,
      specJson: JSON.stringify(input),
      createdAtMs: now,
      updatedAtMs: now,
    };
    this.#o.store.insert(job);
    const live = await this.#start(jobId, spec);
    for (const p of spec.parties) this.#assign(live, job, p.name);
    this.#o.log.info({ job: jobId, parties: job.parties }, 'job submitted');
    return job;
  }

  get(caller: string, jobId: string): JobRecord {
    const job = this.#o.store.get(jobId);
    if (job === undefined)
      throw new JobError('JOB_NOT_FOUND', `no job "${jobId}"; \`tandem job list\` shows the jobs`, {
        publicMessage: `no job "${jobId}"`,
      });
    if (!this.#o.admins.includes(caller) && !job.parties.includes(caller))
      throw new AuthError('AUTH_NOT_ALLOWED', `"${caller}" may not read job ${jobId}`);
    return job;
  }

  list(caller: string, limit: number): JobRecord[] {
    const jobs = this.#o.store.list(limit > 0 ? limit : 50);
    return this.#o.admins.includes(caller) ? jobs : jobs.filter((j) => j.parties.includes(caller));
  }

  cancel(caller: string, jobId: string): JobRecord {
    this.#requireAdmin(caller, 'cancel jobs');
    const job = this.get(caller, jobId);
    if (FINAL_STAGES.includes(job.stage)) throw new JobError('JOB_STATE_CONFLICT', `job ${jobId} already ${job.stage}`);
    this.#stopParties(jobId, job.parties, `cancelled by ${caller}`);
    return this.#finish(job, 'cancelled', `cancelled by ${caller}`);
  }

  watch(caller: string, jobId: string, watcher: JobWatcher): () => void {
    watcher(this.get(caller, jobId));
    let set = this.#watchers.get(jobId);
    if (set === undefined) {
      set = new Set();
      this.#watchers.set(jobId, set);
    }
    set.add(watcher);
    return () => set.delete(watcher);
  }

  close(): void {
    for (const timer of this.#away.values()) clearTimeout(timer);
    this.#away.clear();
    for (const live of this.#live.values()) this.#dispose(live);
    this.#live.clear();
  }

  #requireAdmin(caller: string, what: string): void {
    if (!this.#o.admins.includes(caller)) {
      throw new AuthError(
        'AUTH_NOT_ALLOWED',
        `"${caller}" may not ${what}; the coordinator config lists who may (admins)`,
        { publicMessage: `"${caller}" may not ${what}` },
      );
    }
  }

  #onEnvelope(envelope: Envelope, from: string, bytes: Uint8Array): void {
    const job = this.#o.store.get(envelope.jobId);
    if (job === undefined) throw new JobError('JOB_NOT_FOUND', `no job "${envelope.jobId}"`);
    if (!job.parties.includes(from))
      throw new JobError('JOB_NOT_PARTICIPANT', `"${from}" is not a party to job ${envelope.jobId}`);
    const live = this.#live.get(envelope.jobId);
    if (live === undefined || FINAL_STAGES.includes(job.stage)) return; // late message for a finished job
    const toRole: Role = envelope.recipient === COORDINATOR ? 'coordinator' : roleOf(live.spec, envelope.recipient);
    if (envelope.recipient !== COORDINATOR && !job.parties.includes(envelope.recipient))
      throw new JobError('JOB_NOT_PARTICIPANT', `"${envelope.recipient}" is not a party to job ${envelope.jobId}`);
    const problem = MESSAGE_CATALOG.problem(envelope.step, envelope.kind, roleOf(live.spec, from), toRole);
    if (problem !== undefined)
      throw new JobError('JOB_STATE_CONFLICT', `${from} sent a message the protocol does not allow: ${problem}`);
    if (envelope.recipient !== COORDINATOR) {
      if (!envelope.sealed)
        throw new AuthError(
          'AUTH_NOT_ALLOWED',
          'party-to-party payloads must be sealed end to end; the coordinator refuses to relay plaintext',
        );
      this.#o.hub.deliver(envelope.recipient, envelope, bytes);
      return;
    }
    const reply = <M extends Message>(m: M, body: PropsOf<M>): void =>
      this.#o.hub.post(m, job.jobId, from, envelope.round, body, envelope.seq);
    const own = this.#handlers.get(envelope.step);
    if (own !== undefined) return own(live, job, envelope, from, reply);
    if (live.holder === undefined)
      throw new JobError(
        'JOB_STATE_CONFLICT',
        `the coordinator does not handle step "${envelope.step}" in a ${live.spec.kind} job`,
      );
    const before = JSON.stringify(live.holder.state());
    live.holder.handle(envelope, from, reply);
    // Kept for a restart when it changed (a DP plan), not on every decryption.
    if (JSON.stringify(live.holder.state()) !== before) this.#saveState(live);
  }

  /** The coordinator's own steps; a model family's steps go to the job's key holder. */
  readonly #handlers: ReadonlyMap<string, Handler> = new Map<string, Handler>([
    [
      PARTY_KEY.step,
      (live, job, envelope, from) => this.#onPartyKey(live, job, from, decodeMessage(PARTY_KEY, envelope.body)),
    ],
    [EVENT.step, (live, job, envelope, from) => this.#onEvent(live, job, from, decodeMessage(EVENT, envelope.body))],
    [
      PSI_PRF.step,
      (live, job, envelope, from) => {
        const reply = live.psi.offer(from, envelope.seq, decodeMessage(PSI_PRF, envelope.body));
        if (reply !== undefined) this.#o.hub.postEncoded(PSI_MATCHES, job.jobId, reply.to, 0, reply.body, reply.seq);
      },
    ],
  ]);

  #onPartyKey(live: LiveJob, job: JobRecord, from: string, key: tandem.v1.PartyKey): void {
    if (key.party !== from || key.jobId !== job.jobId)
      throw new AuthError('AUTH_NOT_ALLOWED', `party key names "${key.party}" in job "${key.jobId}"`);
    live.partyKeys.set(from, key);
    this.#saveState(live);
    if (live.partyKeys.size < job.parties.length) return;
    for (const party of job.parties)
      this.#o.hub.post(KEY_DIRECTORY, job.jobId, party, 0, { keys: [...live.partyKeys.values()] });
  }

  #onEvent(live: LiveJob, job: JobRecord, from: string, event: tandem.v1.JobEvent): void {
    this.#o.store.addEvent(job.jobId, from, event.phase, event.message);
    if (event.failed) {
      this.#stopParties(
        job.jobId,
        job.parties.filter((p) => p !== from),
        `${from} failed: ${event.message}`,
      );
      this.#finish(job, 'failed', failureMessage(from, event.phase, event.errorCode, event.message));
      return;
    }
    if (event.summaryJson !== '') live.summaries.set(from, JSON.parse(event.summaryJson));
    if (event.done) live.done.add(from);
    if (event.done || event.summaryJson !== '') this.#saveState(live);
    const isGuest = from === live.spec.guest.name;
    let next: Partial<JobRecord> = {};
    // Phases only move forward: a host's late PSI event must not pull the job back from training.
    const order = ['setup', 'psi', 'training', 'evaluation', 'done'];
    const regress = order.indexOf(event.phase) < order.indexOf(job.phase);
    if (!regress && (isGuest || event.phase !== 'training')) {
      next = { phase: event.phase, message: event.message };
      // One notion of progress: counts with their unit. A phase that counts (PSI, training) starts from
      // nothing; evaluation and done keep the training count, which is where the job ended.
      if (event.maxEpochs > 0)
        next = {
          ...next,
          epoch: event.epoch,
          maxEpochs: event.maxEpochs,
          unit: event.unit === '' ? 'epochs' : event.unit,
          loss: event.loss,
        };
      else if (event.phase !== job.phase && (event.phase === 'psi' || event.phase === 'training'))
        next = { ...next, epoch: 0, maxEpochs: 0, unit: '' };
    }
    if (event.done) {
      if (live.done.size === job.parties.length) {
        this.#finish({ ...job, ...next }, 'completed', 'completed', JSON.stringify(Object.fromEntries(live.summaries)));
        return;
      }
    }
    if (Object.keys(next).length > 0) this.#update(job, next);
  }

  #left(party: string): void {
    const grace = this.#o.peerGraceMs ?? 60_000;
    if (this.#away.has(party) || !this.#runningJobsOf(party).length) return;
    this.#o.log.warn({ party, graceMs: grace }, 'a party of a running job disconnected');
    const timer = setTimeout(() => {
      this.#away.delete(party);
      for (const job of this.#runningJobsOf(party)) {
        const others = job.parties.filter((p) => p !== party);
        const reason = vanishedMessage(party, job.phase, grace);
        this.#stopParties(job.jobId, others, reason);
        this.#finish(job, 'failed', reason);
      }
    }, grace);
    timer.unref();
    this.#away.set(party, timer);
  }

  #returned(party: string): void {
    // A party that restarted knows its jobs only from its checkpoints: assign them again (it resumes).
    for (const job of this.#runningJobsOf(party)) {
      const live = this.#live.get(job.jobId);
      if (live !== undefined && !live.done.has(party)) this.#assign(live, job, party);
    }
    const timer = this.#away.get(party);
    if (timer === undefined) return;
    clearTimeout(timer);
    this.#away.delete(party);
    this.#o.log.info({ party }, 'a party of a running job came back');
  }

  #runningJobsOf(party: string): JobRecord[] {
    return [...this.#live.keys()].flatMap((jobId) => {
      const job = this.#o.store.get(jobId);
      return job !== undefined && job.stage === 'running' && job.parties.includes(party) ? [job] : [];
    });
  }

  #stopParties(jobId: string, parties: readonly string[], reason: string): void {
    for (const party of parties) this.#o.hub.post(JOB_CONTROL, jobId, party, 0, { action: 'cancel', reason });
  }

  #finish(job: JobRecord, stage: JobStage, message: string, summaryJson?: string): JobRecord {
    const live = this.#live.get(job.jobId);
    if (live !== undefined) {
      this.#dispose(live);
      this.#live.delete(job.jobId);
    }
    this.#o.store.forgetJob(job.jobId);
    this.#o.hub.forgetJob(job.jobId);
    this.#o.log.info({ job: job.jobId, stage }, 'job finished');
    return this.#update(job, {
      stage,
      phase: stage === 'completed' ? 'done' : job.phase,
      message,
      ...(summaryJson === undefined ? {} : { summaryJson }),
    });
  }

  #dispose(live: LiveJob): void {
    live.holder?.dispose();
  }

  #update(job: JobRecord, changes: Partial<JobRecord>): JobRecord {
    const current = this.#o.store.get(job.jobId) ?? job;
    const next: JobRecord = { ...current, ...changes, updatedAtMs: Date.now() };
    this.#o.store.update(next);
    for (const watcher of this.#watchers.get(job.jobId) ?? []) watcher(next);
    return next;
  }
}

function roleOf(spec: JobSpec, party: string): Role {
  return spec.guest.name === party ? 'guest' : 'host';
}
