/**
 * The coordinator's job store: jobs and their progress in an embedded SQLite
 * database (node:sqlite), so `job status` and `job list` survive a restart.
 * Holds only job-level facts and aggregate results, never row-level data.
 *
 * For durable jobs (docs/durability.md) it also holds, while a job runs, its
 * CKKS secret key and coordinator state and the ids already accepted from
 * each party (so a resend is dropped), and keeps the relay's undelivered
 * envelopes next to it (coordinator/relay-outbox.ts). All of it is deleted
 * when the job ends; `secure_delete` overwrites the freed pages, and the
 * file is readable by this user only.
 *
 * `synchronous = NORMAL`: in WAL mode a commit is safe when the process is
 * killed and may be lost only with the machine's power, the same guarantee
 * as the parties' checkpoints and outboxes; FULL paid an fsync for every
 * envelope the coordinator accepted, on the event loop every party waits on.
 */
import { DatabaseSync } from 'node:sqlite';
import { chmodSync, existsSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { TandemError } from '../protocol/errors.ts';
import type { Logger } from '../runtime/logger.ts';
import { RelayOutbox } from './relay-outbox.ts';

export type JobStage = 'submitted' | 'running' | 'completed' | 'failed' | 'cancelled';

export const FINAL_STAGES: readonly JobStage[] = ['completed', 'failed', 'cancelled'];

export type JobRecord = {
  readonly jobId: string;
  readonly name: string;
  readonly kind: string;
  readonly stage: JobStage;
  readonly phase: string;
  readonly parties: readonly string[];
  readonly epoch: number;
  readonly maxEpochs: number;
  /** What epoch / maxEpochs count ("PSI steps", "epochs", "trees"); '' before anything is counted. */
  readonly unit: string;
  readonly loss: number;
  readonly message: string;
  readonly summaryJson: string;
  readonly specYaml: string;
  readonly specJson: string;
  readonly createdAtMs: number;
  readonly updatedAtMs: number;
};

type Row = {
  job_id: string;
  name: string;
  kind: string;
  stage: string;
  phase: string;
  parties: string;
  epoch: number;
  max_epochs: number;
  loss: number;
  message: string;
  summary_json: string;
  spec_yaml: string;
  spec_json: string;
  created_at_ms: number;
  updated_at_ms: number;
  unit: string;
};

export class JobStore {
  readonly #db: DatabaseSync;
  readonly #relay: RelayOutbox;

  /**
   * @throws TandemError STORE_CORRUPT naming the file when SQLite cannot read it
   */
  constructor(file: string, log?: Logger) {
    if (file !== ':memory:') {
      mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
      if (!existsSync(file)) {
        // Created 0600 before SQLite opens it: its -wal and -shm take the database file's mode.
        writeFileSync(file, '', { mode: 0o600, flag: 'wx' });
      } else if (statSync(file).size === 0) {
        log?.warn({ file }, 'the job store is an empty file: starting with no jobs');
      }
      // Stores written by older versions (or under another umask) are tightened too.
      for (const f of [file, `${file}-wal`, `${file}-shm`]) if (existsSync(f)) chmodSync(f, 0o600);
    }
    this.#db = new DatabaseSync(file);
    this.#relay = new RelayOutbox(file === ':memory:' ? undefined : join(dirname(file), 'relay'));
    try {
      this.#open();
    } catch (error) {
      this.#db.close();
      // Not a database, or a damaged one (SQLITE_CORRUPT, SQLITE_NOTADB, a failed page check); anything else
      // (a full disk, a read-only directory) is not the file's fault, and restoring it would not help.
      const { errcode } = error as { errcode?: number };
      if (errcode !== undefined && errcode !== 11 && errcode !== 26) throw error;
      const reason = (error as Error).message;
      throw new TandemError(
        'STORE_CORRUPT',
        `${file} is not a readable job store (SQLite: ${reason}). Fix: restore it from a backup of the data directory, or move it away to start with an empty store (jobs that were running are then lost)`,
        { cause: error },
      );
    }
  }

  #open(): void {
    // A damaged page may sit where opening never looks, and fail a job later with SQLite's bare
    // "malformed": check every page now (milliseconds for a job store; the relay is in files).
    const problems = (this.#db.prepare('PRAGMA quick_check').all() as Array<{ quick_check: string }>)
      .map((r) => r.quick_check)
      .filter((m) => m !== 'ok');
    if (problems.length > 0) throw new Error(`page check: ${problems.slice(0, 3).join('; ')}`);
    this.#db.exec(`
      PRAGMA journal_mode = WAL;
      PRAGMA synchronous = NORMAL;
      CREATE TABLE IF NOT EXISTS jobs (
        job_id TEXT PRIMARY KEY, name TEXT NOT NULL, kind TEXT NOT NULL, stage TEXT NOT NULL, phase TEXT NOT NULL,
        parties TEXT NOT NULL, epoch INTEGER NOT NULL, max_epochs INTEGER NOT NULL, loss REAL NOT NULL, message TEXT NOT NULL,
        summary_json TEXT NOT NULL, spec_yaml TEXT NOT NULL, spec_json TEXT NOT NULL, created_at_ms INTEGER NOT NULL, updated_at_ms INTEGER NOT NULL
      );
      CREATE TABLE IF NOT EXISTS job_events (
        job_id TEXT NOT NULL, at_ms INTEGER NOT NULL, party TEXT NOT NULL, phase TEXT NOT NULL, message TEXT NOT NULL
      );
      PRAGMA secure_delete = ON;
      CREATE TABLE IF NOT EXISTS job_secrets (job_id TEXT PRIMARY KEY, secret_key BLOB NOT NULL, noise_key BLOB NOT NULL);
      CREATE TABLE IF NOT EXISTS job_state (job_id TEXT PRIMARY KEY, state_json TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS relay_seen (id TEXT PRIMARY KEY, job_id TEXT NOT NULL);
    `);
    this.#migrateRelayTable();
    // Stores from before progress units: add the column (existing jobs count epochs, as they did).
    if (
      !(this.#db.prepare('PRAGMA table_info(jobs)').all() as Array<{ name: string }>).some((c) => c.name === 'unit')
    ) {
      this.#db.exec("ALTER TABLE jobs ADD COLUMN unit TEXT NOT NULL DEFAULT 'epochs'");
    }
  }

  /** A store written by an earlier version kept the relay's envelopes in a table: move them to the outbox. */
  #migrateRelayTable(): void {
    if (
      this.#db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'relay_outbox'").get() === undefined
    )
      return;
    const rows = this.#db
      .prepare('SELECT recipient, id, job_id, step, bytes FROM relay_outbox ORDER BY n')
      .all() as Array<{ recipient: string; id: string; job_id: string; step: string; bytes: Uint8Array }>;
    for (const r of rows) this.#relay.queue(r.recipient, r.id, r.job_id, r.step, r.bytes);
    this.#db.exec('DROP TABLE relay_outbox');
  }

  /** The secrets of a running job (deleted by {@link forgetJob}). */
  saveSecrets(jobId: string, secretKey: Uint8Array, noiseKey: Uint8Array): void {
    this.#db.prepare('INSERT OR REPLACE INTO job_secrets VALUES (?, ?, ?)').run(jobId, secretKey, noiseKey);
  }

  secrets(jobId: string): { secretKey: Uint8Array; noiseKey: Uint8Array } | undefined {
    const row = this.#db.prepare('SELECT secret_key, noise_key FROM job_secrets WHERE job_id = ?').get(jobId) as
      { secret_key: Uint8Array; noise_key: Uint8Array } | undefined;
    return row === undefined ? undefined : { secretKey: row.secret_key, noiseKey: row.noise_key };
  }

  /** The coordinator's own progress in a running job, as JSON. */
  saveState(jobId: string, stateJson: string): void {
    this.#db.prepare('INSERT OR REPLACE INTO job_state VALUES (?, ?)').run(jobId, stateJson);
  }

  state(jobId: string): string | undefined {
    return (
      this.#db.prepare('SELECT state_json FROM job_state WHERE job_id = ?').get(jobId) as
        { state_json: string } | undefined
    )?.state_json;
  }

  /** Keeps an envelope for `recipient` until it acknowledges it (idempotent by id). */
  queue(recipient: string, id: string, jobId: string, step: string, bytes: Uint8Array): void {
    this.#relay.queue(recipient, id, jobId, step, bytes);
  }

  dequeue(recipient: string, id: string): void {
    this.#relay.dequeue(recipient, id);
  }

  /** Every queued envelope, oldest first. */
  queued(): Array<{ recipient: string; bytes: Uint8Array }> {
    return this.#relay.queued();
  }

  /** Records an envelope id as handled, so a resend of it is dropped. */
  accept(id: string, jobId: string): void {
    // Only while the job runs: the message that ended it must not leave a row behind.
    this.#db
      .prepare(
        "INSERT OR IGNORE INTO relay_seen SELECT ?, ? WHERE EXISTS (SELECT 1 FROM jobs WHERE job_id = ? AND stage IN ('submitted', 'running'))",
      )
      .run(id, jobId, jobId);
  }

  accepted(id: string): boolean {
    return this.#db.prepare('SELECT 1 FROM relay_seen WHERE id = ?').get(id) !== undefined;
  }

  /** Deletes what a finished job no longer needs: secrets, state, accepted ids and queued envelopes except stop orders. */
  forgetJob(jobId: string): void {
    for (const table of ['job_secrets', 'job_state', 'relay_seen'])
      this.#db.prepare(`DELETE FROM ${table} WHERE job_id = ?`).run(jobId);
    // secure_delete zeroes the freed pages, but in WAL mode the old pages (the job's keys) stay in the
    // -wal file, and the zeroed ones reach the database file only at a checkpoint: do it now, and truncate the WAL.
    this.#db.exec('PRAGMA wal_checkpoint(TRUNCATE)');
    this.#relay.forgetJob(jobId);
  }

  insert(job: JobRecord): void {
    this.#db
      .prepare(
        'INSERT INTO jobs (job_id, name, kind, stage, phase, parties, epoch, max_epochs, loss, message, summary_json, spec_yaml, spec_json, created_at_ms, updated_at_ms, unit) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
      )
      .run(
        job.jobId,
        job.name,
        job.kind,
        job.stage,
        job.phase,
        JSON.stringify(job.parties),
        job.epoch,
        job.maxEpochs,
        job.loss,
        job.message,
        job.summaryJson,
        job.specYaml,
        job.specJson,
        job.createdAtMs,
        job.updatedAtMs,
        job.unit,
      );
  }

  update(job: JobRecord): void {
    this.#db
      .prepare(
        'UPDATE jobs SET stage = ?, phase = ?, epoch = ?, max_epochs = ?, unit = ?, loss = ?, message = ?, summary_json = ?, updated_at_ms = ? WHERE job_id = ?',
      )
      .run(
        job.stage,
        job.phase,
        job.epoch,
        job.maxEpochs,
        job.unit,
        job.loss,
        job.message,
        job.summaryJson,
        job.updatedAtMs,
        job.jobId,
      );
  }

  addEvent(jobId: string, party: string, phase: string, message: string): void {
    this.#db.prepare('INSERT INTO job_events VALUES (?, ?, ?, ?, ?)').run(jobId, Date.now(), party, phase, message);
  }

  get(jobId: string): JobRecord | undefined {
    const row = this.#db.prepare('SELECT * FROM jobs WHERE job_id = ?').get(jobId) as Row | undefined;
    return row === undefined ? undefined : fromRow(row);
  }

  list(limit: number): JobRecord[] {
    return (this.#db.prepare('SELECT * FROM jobs ORDER BY created_at_ms DESC LIMIT ?').all(limit) as Row[]).map(
      fromRow,
    );
  }

  /** Jobs that were running when the coordinator stopped. */
  unfinished(): JobRecord[] {
    return (
      this.#db
        .prepare("SELECT * FROM jobs WHERE stage IN ('submitted', 'running') ORDER BY created_at_ms")
        .all() as Row[]
    ).map(fromRow);
  }

  close(): void {
    this.#db.close();
  }
}

function fromRow(row: Row): JobRecord {
  return {
    jobId: row.job_id,
    name: row.name,
    kind: row.kind,
    stage: row.stage as JobStage,
    phase: row.phase,
    parties: JSON.parse(row.parties) as string[],
    epoch: row.epoch,
    maxEpochs: row.max_epochs,
    unit: row.unit,
    loss: row.loss,
    message: row.message,
    summaryJson: row.summary_json,
    specYaml: row.spec_yaml,
    specJson: row.spec_json,
    createdAtMs: row.created_at_ms,
    updatedAtMs: row.updated_at_ms,
  };
}
