/**
 * The coordinator's job store: jobs and their progress in an embedded SQLite
 * database (node:sqlite), so `job status` and `job list` survive a restart.
 * Holds only job-level facts and aggregate results, never row-level data.
 */
import { DatabaseSync } from 'node:sqlite';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';

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
  readonly loss: number;
  readonly message: string;
  readonly summaryJson: string;
  readonly specYaml: string;
  readonly specJson: string;
  readonly createdAtMs: number;
  readonly updatedAtMs: number;
};

type Row = {
  job_id: string; name: string; kind: string; stage: string; phase: string; parties: string; epoch: number; max_epochs: number;
  loss: number; message: string; summary_json: string; spec_yaml: string; spec_json: string; created_at_ms: number; updated_at_ms: number;
};

export class JobStore {
  readonly #db: DatabaseSync;

  constructor(file: string) {
    if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
    this.#db = new DatabaseSync(file);
    this.#db.exec(`
      PRAGMA journal_mode = WAL;
      CREATE TABLE IF NOT EXISTS jobs (
        job_id TEXT PRIMARY KEY, name TEXT NOT NULL, kind TEXT NOT NULL, stage TEXT NOT NULL, phase TEXT NOT NULL,
        parties TEXT NOT NULL, epoch INTEGER NOT NULL, max_epochs INTEGER NOT NULL, loss REAL NOT NULL, message TEXT NOT NULL,
        summary_json TEXT NOT NULL, spec_yaml TEXT NOT NULL, spec_json TEXT NOT NULL, created_at_ms INTEGER NOT NULL, updated_at_ms INTEGER NOT NULL
      );
      CREATE TABLE IF NOT EXISTS job_events (
        job_id TEXT NOT NULL, at_ms INTEGER NOT NULL, party TEXT NOT NULL, phase TEXT NOT NULL, message TEXT NOT NULL
      );
    `);
  }

  insert(job: JobRecord): void {
    this.#db
      .prepare('INSERT INTO jobs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)')
      .run(job.jobId, job.name, job.kind, job.stage, job.phase, JSON.stringify(job.parties), job.epoch, job.maxEpochs, job.loss, job.message, job.summaryJson, job.specYaml, job.specJson, job.createdAtMs, job.updatedAtMs);
  }

  update(job: JobRecord): void {
    this.#db
      .prepare('UPDATE jobs SET stage = ?, phase = ?, epoch = ?, max_epochs = ?, loss = ?, message = ?, summary_json = ?, updated_at_ms = ? WHERE job_id = ?')
      .run(job.stage, job.phase, job.epoch, job.maxEpochs, job.loss, job.message, job.summaryJson, job.updatedAtMs, job.jobId);
  }

  addEvent(jobId: string, party: string, phase: string, message: string): void {
    this.#db.prepare('INSERT INTO job_events VALUES (?, ?, ?, ?, ?)').run(jobId, Date.now(), party, phase, message);
  }

  get(jobId: string): JobRecord | undefined {
    const row = this.#db.prepare('SELECT * FROM jobs WHERE job_id = ?').get(jobId) as Row | undefined;
    return row === undefined ? undefined : fromRow(row);
  }

  list(limit: number): JobRecord[] {
    return (this.#db.prepare('SELECT * FROM jobs ORDER BY created_at_ms DESC LIMIT ?').all(limit) as Row[]).map(fromRow);
  }

  /** Jobs that were running when the coordinator stopped. */
  unfinished(): JobRecord[] {
    return (this.#db.prepare("SELECT * FROM jobs WHERE stage IN ('submitted', 'running') ORDER BY created_at_ms").all() as Row[]).map(fromRow);
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
    loss: row.loss,
    message: row.message,
    summaryJson: row.summary_json,
    specYaml: row.spec_yaml,
    specJson: row.spec_json,
    createdAtMs: row.created_at_ms,
    updatedAtMs: row.updated_at_ms,
  };
}
