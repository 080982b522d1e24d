/**
 * The coordinator's job service: submission, the per-job CKKS key pair,
 * the party-key directory, relaying, masked decryption, progress and the
 * end of a job. Admin calls are authorised here; the gRPC edge only decodes.
 */
import { randomBytes } from 'node:crypto';
import { parse as parseYaml } from 'yaml';
import type { Logger } from '../runtime/logger.ts';
import { validateConfig } from '../runtime/config-file.ts';
import { compileJobSpec, jobSpecProblem, jobSpecSchema, type JobSpec } from '../protocol/job-spec.ts';
import { CkksKeyHolder, CkksSuite } from '../protocol/he/ckks.ts';
import { decodeBody, type Envelope } from '../protocol/wire/envelope.ts';
import { tandem } from '../protocol/generated/tandem.js';
import { COORDINATOR } from '../protocol/version.ts';
import { AuthError, ConfigError, JobError, TandemError } from '../protocol/errors.ts';
import { DecryptService } from './decrypt-service.ts';
import { PsiMatcher } from './psi-match.ts';
import { FINAL_STAGES, type JobRecord, type JobStage, type JobStore } from './job-store.ts';
import type { Hub } from './hub.ts';
import { planDp, type DpPlan } from '../protocol/privacy/dp-plan.ts';

type LiveJob = {
  readonly jobId: string;
  readonly spec: JobSpec;
  readonly suite: CkksSuite;
  readonly keys: CkksKeyHolder;
  readonly decrypt: DecryptService;
  readonly partyKeys: Map<string, tandem.v1.PartyKey.$Properties>;
  readonly done: Set<string>;
  readonly summaries: Map<string, unknown>;
  /** Coordinator-aided PSI's pending lists (alignment.psi: coordinator). */
  readonly psi: PsiMatcher;
  /** Set when the guest announces the training size of a DP job. */
  dp?: DpPlan | undefined;
  dpTrainRows?: number | undefined;
};

/** What the job store keeps of a running job besides its secrets, so a restarted coordinator carries on. */
type SavedState = { partyKeys: string[]; done: string[]; summaries: Record<string, unknown>; dpTrainRows?: number | undefined };

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
      const secrets = this.#o.store.secrets(job.jobId);
      if (secrets === undefined) {
        this.#update(job, { stage: 'failed', message: 'the coordinator restarted while the job was running and has no saved keys for it; submit it again' });
        continue;
      }
      const spec = compileJobSpec(jobSpecSchema.parse(JSON.parse(job.specJson)));
      const live = await this.#start(job.jobId, spec, secrets);
      const saved = JSON.parse(this.#o.store.state(job.jobId) ?? '{"partyKeys":[],"done":[],"summaries":{}}') as SavedState;
      for (const bytes of saved.partyKeys) {
        const key = tandem.v1.PartyKey.decode(Buffer.from(bytes, 'base64'));
        live.partyKeys.set(key.party, key);
      }
      for (const party of saved.done) live.done.add(party);
      for (const [party, summary] of Object.entries(saved.summaries)) live.summaries.set(party, summary);
      if (saved.dpTrainRows !== undefined) this.#planDp(live, saved.dpTrainRows);
      this.#o.log.info({ job: job.jobId, phase: job.phase }, 'resumed a running job after a restart');
      // A party that does not come back within the grace period fails the job, as if it had just left.
      for (const party of job.parties) if (!this.#o.hub.isConnected(party)) this.#left(party);
    }
  }

  /** Makes a job live: its CKKS suite and key pair (new, or restored from the store) and decrypt service. */
  async #start(jobId: string, spec: JobSpec, saved?: { secretKey: Uint8Array; noiseKey: Uint8Array }): Promise<LiveJob> {
    const suite = await CkksSuite.create(spec.ckks);
    const keys = new CkksKeyHolder(suite, saved?.secretKey);
    const noiseKey = saved?.noiseKey ?? new Uint8Array(randomBytes(32));
    if (saved === undefined) this.#o.store.saveSecrets(jobId, keys.exportSecretKey(), noiseKey);
    const live: LiveJob = {
      jobId, spec, suite, keys,
      decrypt: new DecryptService({ keys, q0: suite.q0, noiseBits: spec.noiseFloodingBits, noiseKey, polyModulusDegree: spec.ckks.polyModulusDegree }),
      partyKeys: new Map(), done: new Set(), summaries: new Map(), psi: new PsiMatcher(jobId, spec),
    };
    this.#live.set(jobId, live);
    return live;
  }

  #saveState(live: LiveJob): void {
    const state: SavedState = {
      partyKeys: [...live.partyKeys.values()].map((k) => Buffer.from(tandem.v1.PartyKey.encode(k).finish()).toString('base64')),
      done: [...live.done], summaries: Object.fromEntries(live.summaries), dpTrainRows: live.dpTrainRows,
    };
    this.#o.store.saveState(live.jobId, JSON.stringify(state));
  }

  #assign(live: LiveJob, job: JobRecord, party: string): void {
    const assignment = tandem.v1.JobAssignment.encode({ jobId: job.jobId, specJson: job.specJson, ckksPublicKey: live.keys.publicKey, ckksParamsJson: JSON.stringify(live.spec.ckks) }).finish();
    this.#o.hub.send({ jobId: job.jobId, round: 0, step: 'assignment', recipient: party, seq: 0, kind: 'key' }, assignment);
  }

  async submit(caller: string, specYaml: string, specFile: string): Promise<JobRecord> {
    this.#requireAdmin(caller, 'submit jobs');
    try {
      return await this.#submit(specYaml, specFile);
    } catch (error) {
      // The spec is the submitter's own file: tell them exactly what to fix.
      if (error instanceof ConfigError) throw new TandemError(error.code, error.message, { publicMessage: error.message, cause: error });
      throw error;
    }
  }

  async #submit(specYaml: string, specFile: string): Promise<JobRecord> {
    const file = specFile === '' ? 'job spec' : specFile;
    let raw: unknown;
    try {
      raw = parseYaml(specYaml);
    } catch (error) {
      throw new ConfigError('JOB_SPEC_INVALID', { file, field: '', problem: `is not valid YAML (${(error as Error).message.split('\n')[0] ?? ''})`, fix: 'correct the YAML syntax' });
    }
    const input = validateConfig(raw, jobSpecSchema, file, 'JOB_SPEC_INVALID');
    const problem = jobSpecProblem(input);
    if (problem !== undefined) throw new ConfigError('JOB_SPEC_INVALID', { file, field: problem[0], problem: problem[1], fix: problem[2] });
    const spec = compileJobSpec(input);
    const unknown = spec.parties.find((p) => this.#o.parties !== undefined && !this.#o.parties.includes(p.name));
    if (unknown !== undefined) {
      throw new ConfigError('JOB_SPEC_INVALID', { file, field: 'parties', problem: `"${unknown.name}" is not a registered party of this coordinator`, fix: `use one of: ${(this.#o.parties ?? []).join(', ')}, or register it in the coordinator config` });
    }
    const jobId = `job-${randomBytes(5).toString('hex')}`;
    const now = Date.now();
    const job: JobRecord = {
      jobId, name: spec.name, kind: spec.kind, stage: 'running', phase: 'setup', parties: spec.parties.map((p) => p.name),
      epoch: 0, maxEpochs: spec.training.maxEpochs, loss: 0, message: 'waiting for parties', summaryJson: '{}',
      specYaml, specJson: JSON.stringify(input), createdAtMs: now, updatedAtMs: now,
    };
    this.#o.store.insert(job);
    const live = await this.#start(jobId, spec);
    for (const p of spec.parties) this.#assign(live, job, p.name);
    this.#o.log.info({ job: jobId, parties: job.parties }, 'job submitted');
    return job;
  }

  get(caller: string, jobId: string): JobRecord {
    const job = this.#o.store.get(jobId);
    if (job === undefined) throw new JobError('JOB_NOT_FOUND', `no job "${jobId}"; \`tandem job list\` shows the jobs`, { publicMessage: `no job "${jobId}"` });
    if (!this.#o.admins.includes(caller) && !job.parties.includes(caller)) throw new AuthError('AUTH_NOT_ALLOWED', `"${caller}" may not read job ${jobId}`);
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
      throw new AuthError('AUTH_NOT_ALLOWED', `"${caller}" may not ${what}; the coordinator config lists who may (admins)`, { publicMessage: `"${caller}" may not ${what}` });
    }
  }

  #onEnvelope(envelope: Envelope, from: string, bytes: Uint8Array): void {
    const job = this.#o.store.get(envelope.jobId);
    if (job === undefined) throw new JobError('JOB_NOT_FOUND', `no job "${envelope.jobId}"`);
    if (!job.parties.includes(from)) throw new JobError('JOB_NOT_PARTICIPANT', `"${from}" is not a party to job ${envelope.jobId}`);
    const live = this.#live.get(envelope.jobId);
    if (live === undefined || FINAL_STAGES.includes(job.stage)) return; // late message for a finished job
    if (envelope.recipient !== COORDINATOR) {
      if (!job.parties.includes(envelope.recipient)) throw new JobError('JOB_NOT_PARTICIPANT', `"${envelope.recipient}" is not a party to job ${envelope.jobId}`);
      if (!envelope.sealed) throw new AuthError('AUTH_NOT_ALLOWED', 'party-to-party payloads must be sealed end to end; the coordinator refuses to relay plaintext');
      this.#o.hub.deliver(envelope.recipient, envelope, bytes);
      return;
    }
    switch (envelope.step) {
      case 'party-key':
        return this.#onPartyKey(live, job, from, decodeBody(tandem.v1.PartyKey, envelope.body, 'party-key'));
      case 'dp-plan':
        return this.#onDpPlan(live, job, from, envelope.body);
      case 'decrypt': {
        const request = decodeBody(tandem.v1.DecryptRequest, envelope.body, 'decrypt');
        let dpSigma = 0;
        if (live.spec.dp !== undefined) {
          // Under DP only gradient sums (seq 0) are decrypted, and only with the planned noise.
          if (live.dp === undefined || envelope.seq !== 0) throw new JobError('JOB_STATE_CONFLICT', `job ${job.jobId} is differentially private: only noised gradient sums may be decrypted, after the guest's dp-plan`);
          dpSigma = live.dp.gradientSigma;
        }
        const values = live.decrypt.decrypt(envelope.id, request.ciphertexts, dpSigma);
        this.#o.hub.send({ jobId: job.jobId, round: envelope.round, step: 'decrypt-result', recipient: from, seq: envelope.seq, kind: 'aggregate' }, tandem.v1.DecryptResponse.encode({ values }).finish());
        return;
      }
      case 'psi-prf': {
        const reply = live.psi.offer(from, envelope.seq, decodeBody(tandem.v1.PsiPrfSet, envelope.body, 'psi-prf'));
        if (reply !== undefined) this.#o.hub.send({ jobId: job.jobId, round: 0, step: 'psi-matches', recipient: reply.to, seq: reply.seq, kind: 'psi-prf' }, reply.body);
        return;
      }
      case 'event':
        return this.#onEvent(live, job, from, decodeBody(tandem.v1.JobEvent, envelope.body, 'event'));
      default:
        throw new JobError('JOB_STATE_CONFLICT', `the coordinator does not handle step "${envelope.step}"`);
    }
  }

  #onPartyKey(live: LiveJob, job: JobRecord, from: string, key: tandem.v1.PartyKey): void {
    if (key.party !== from || key.jobId !== job.jobId) throw new AuthError('AUTH_NOT_ALLOWED', `party key names "${key.party}" in job "${key.jobId}"`);
    live.partyKeys.set(from, key);
    this.#saveState(live);
    if (live.partyKeys.size < job.parties.length) return;
    const directory = tandem.v1.KeyDirectory.encode({ keys: [...live.partyKeys.values()] }).finish();
    for (const party of job.parties) this.#o.hub.send({ jobId: job.jobId, round: 0, step: 'key-directory', recipient: party, seq: 0, kind: 'key' }, directory);
  }

  #onEvent(live: LiveJob, job: JobRecord, from: string, event: tandem.v1.JobEvent): void {
    this.#o.store.addEvent(job.jobId, from, event.phase, event.message);
    if (event.failed) {
      this.#stopParties(job.jobId, job.parties.filter((p) => p !== from), `${from} failed: ${event.message}`);
      this.#finish(job, 'failed', `${from} failed at ${event.phase}: ${event.message}`);
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
      if (event.maxEpochs > 0) next = { ...next, epoch: event.epoch, maxEpochs: event.maxEpochs, loss: event.loss };
    }
    if (event.done) {
      if (live.done.size === job.parties.length) {
        this.#finish({ ...job, ...next }, 'completed', 'completed', JSON.stringify(Object.fromEntries(live.summaries)));
        return;
      }
    }
    if (Object.keys(next).length > 0) this.#update(job, next);
  }

  #onDpPlan(live: LiveJob, job: JobRecord, from: string, body: Uint8Array): void {
    const dp = live.spec.dp;
    const { trainRows } = JSON.parse(new TextDecoder().decode(body)) as { trainRows: number };
    // The same plan again (a guest resuming after a restart) is no conflict.
    if (dp === undefined || from !== live.spec.guest.name || (live.dp !== undefined && live.dpTrainRows !== trainRows)) throw new JobError('JOB_STATE_CONFLICT', `unexpected dp-plan from ${from} in job ${job.jobId}`);
    if (!Number.isInteger(trainRows) || trainRows < 1) throw new JobError('JOB_STATE_CONFLICT', `dp-plan from ${from} names ${trainRows} training rows`);
    this.#planDp(live, trainRows);
    this.#saveState(live);
  }

  #planDp(live: LiveJob, trainRows: number): void {
    const t = live.spec.training;
    live.dp = planDp(live.spec.dp as NonNullable<JobSpec['dp']>, trainRows, t.batchSize, t.maxEpochs, live.spec.parties.length);
    live.dpTrainRows = trainRows;
    this.#o.log.info({ job: live.jobId, noiseMultiplier: live.dp.noiseMultiplier, epsilon: live.dp.epsilonSpent }, 'differential privacy planned');
  }

  #left(party: string): void {
    const grace = this.#o.peerGraceMs ?? 60_000;
    if (this.#away.has(party) || !this.#runningJobsOf(party).length) return;
    this.#o.log.warn({ party, graceMs: grace }, 'a party of a running job disconnected');
    const timer = setTimeout(() => {
      this.#away.delete(party);
      for (const job of this.#runningJobsOf(party)) {
        const others = job.parties.filter((p) => p !== party);
        const reason = `${party} disconnected during ${job.phase} and did not come back within ${Math.round(grace / 1000)} s`;
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
    const body = tandem.v1.JobControl.encode({ action: 'cancel', reason }).finish();
    for (const party of parties) this.#o.hub.send({ jobId, round: 0, step: 'control', recipient: party, seq: 0, kind: 'control' }, body);
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
    return this.#update(job, { stage, phase: stage === 'completed' ? 'done' : job.phase, message, ...(summaryJson === undefined ? {} : { summaryJson }) });
  }

  #dispose(live: LiveJob): void {
    // The secret key is deleted with the key holder: a finished job's ciphertexts stay sealed forever.
    live.keys.dispose();
    live.suite.dispose();
  }

  #update(job: JobRecord, changes: Partial<JobRecord>): JobRecord {
    const current = this.#o.store.get(job.jobId) ?? job;
    const next: JobRecord = { ...current, ...changes, updatedAtMs: Date.now() };
    this.#o.store.update(next);
    for (const watcher of this.#watchers.get(job.jobId) ?? []) watcher(next);
    return next;
  }
}
