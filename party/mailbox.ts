/**
 * Incoming envelopes wait here until the protocol asks for them: a message
 * may arrive before the step that needs it. Keyed by (job, step, round,
 * sender, seq); duplicates (resends after a reconnect) are dropped by id.
 *
 * With a data directory every envelope is also written to
 * `<dataDir>/jobs/<job>/inbox/` before `put` returns (so before it is
 * acknowledged), and stays there until a checkpoint no longer needs it
 * (`commit`): a party restarted after a crash re-reads what the coordinator
 * will not send again (docs/durability.md).
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodeEnvelope, encodeEnvelope, type Envelope } from '../protocol/wire/envelope.ts';
import { JobError, TransportError } from '../protocol/errors.ts';

export type MailKey = {
  readonly jobId: string;
  readonly step: string;
  readonly round: number;
  readonly sender: string;
  readonly seq?: number;
};

type Waiter = { resolve: (e: Envelope) => void; reject: (error: Error) => void; timer: NodeJS.Timeout };

function keyOf(k: MailKey): string {
  return `${k.jobId}|${k.step}|${k.round}|${k.sender}|${k.seq ?? 0}`;
}

export class Mailbox {
  readonly #waiting = new Map<string, Envelope>();
  readonly #waiters = new Map<string, Waiter>();
  readonly #seen = new Set<string>();
  readonly #dataDir: string | undefined;
  /** Per job, the ids taken since the last commit. */
  readonly #taken = new Map<string, Set<string>>();

  /** @param dataDir where inboxes are kept on disk; undefined keeps them in memory only */
  constructor(dataDir?: string) {
    this.#dataDir = dataDir;
  }

  /** Returns false for a duplicate. */
  put(envelope: Envelope): boolean {
    if (this.#seen.has(envelope.id)) return false;
    const dir = this.#inbox(envelope.jobId);
    if (dir !== undefined) {
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      const file = join(dir, fileOf(envelope.id));
      writeFileSync(`${file}.tmp`, encodeEnvelope(envelope), { mode: 0o600 });
      renameSync(`${file}.tmp`, file);
    }
    return this.#accept(envelope);
  }

  /** Puts back what a job's inbox on disk holds (after a restart); returns how many. */
  restore(jobId: string): number {
    const dir = this.#inbox(jobId);
    let count = 0;
    for (const name of dir === undefined ? [] : safeList(dir)) {
      if (!name.endsWith('.env')) continue;
      if (this.#accept(decodeEnvelope(new Uint8Array(readFileSync(join(dir as string, name)))))) count += 1;
    }
    return count;
  }

  /** Deletes from disk what the job has taken so far: a checkpoint now covers it. */
  commit(jobId: string): void {
    const dir = this.#inbox(jobId);
    const taken = this.#taken.get(jobId);
    if (dir === undefined || taken === undefined) return;
    for (const id of taken) rmSync(join(dir, fileOf(id)), { force: true });
    taken.clear();
  }

  #inbox(jobId: string): string | undefined {
    return this.#dataDir === undefined ? undefined : join(this.#dataDir, 'jobs', jobId, 'inbox');
  }

  #accept(envelope: Envelope): boolean {
    if (this.#seen.has(envelope.id)) return false;
    this.#seen.add(envelope.id);
    const key = keyOf({
      jobId: envelope.jobId,
      step: envelope.step,
      round: envelope.round,
      sender: envelope.sender,
      seq: envelope.seq,
    });
    const waiter = this.#waiters.get(key);
    if (waiter !== undefined) {
      this.#waiters.delete(key);
      clearTimeout(waiter.timer);
      waiter.resolve(envelope);
    } else {
      this.#waiting.set(key, envelope);
    }
    return true;
  }

  /** Waits for one message; fails with PEER_TIMEOUT naming the sender and step, or when `signal` aborts. */
  take(k: MailKey, timeoutMs: number, signal?: AbortSignal): Promise<Envelope> {
    const key = keyOf(k);
    const ready = this.#waiting.get(key);
    if (ready !== undefined) {
      this.#waiting.delete(key);
      this.#took(ready);
      return Promise.resolve(ready);
    }
    if (signal?.aborted === true) return Promise.reject(cancelled(signal));
    return new Promise<Envelope>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiters.delete(key);
        reject(
          new TransportError(
            'PEER_TIMEOUT',
            `no "${k.step}" from ${k.sender} for round ${k.round} of job ${k.jobId} within ${Math.round(timeoutMs / 1000)} s`,
            { details: { step: k.step, peer: k.sender } },
          ),
        );
      }, timeoutMs);
      const onAbort = (): void => {
        clearTimeout(timer);
        this.#waiters.delete(key);
        reject(cancelled(signal));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#waiters.set(key, {
        resolve: (e) => {
          signal?.removeEventListener('abort', onAbort);
          this.#took(e);
          resolve(e);
        },
        reject,
        timer,
      });
    });
  }

  #took(envelope: Envelope): void {
    let taken = this.#taken.get(envelope.jobId);
    if (taken === undefined) {
      taken = new Set();
      this.#taken.set(envelope.jobId, taken);
    }
    taken.add(envelope.id);
  }

  /** Forgets everything about a finished job. */
  dropJob(jobId: string): void {
    this.#taken.delete(jobId);
    for (const key of [...this.#waiting.keys()]) if (key.startsWith(`${jobId}|`)) this.#waiting.delete(key);
    for (const id of [...this.#seen]) if (id.startsWith(`${jobId}/`)) this.#seen.delete(id);
  }
}

/** A file name for an envelope id (ids hold '/' and '>'). */
function fileOf(id: string): string {
  return `${createHash('sha256').update(id).digest('hex').slice(0, 32)}.env`;
}

function safeList(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

function cancelled(signal: AbortSignal | undefined): Error {
  const reason: unknown = signal?.reason;
  return reason instanceof Error ? reason : new JobError('JOB_CANCELLED', 'the job was cancelled');
}
