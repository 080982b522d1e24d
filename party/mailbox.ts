/**
 * Incoming envelopes wait here until the protocol asks for them: a message
 * may arrive before the step that needs it. Keyed by (job, step, round,
 * sender, seq); duplicates (resends after a reconnect) are dropped by id.
 */
import type { Envelope } from '../protocol/wire/envelope.ts';
import { JobError, TransportError } from '../protocol/errors.ts';

export type MailKey = { readonly jobId: string; readonly step: string; readonly round: number; readonly sender: string; readonly seq?: number };

type Waiter = { resolve: (e: Envelope) => void; reject: (error: Error) => void; timer: NodeJS.Timeout };

function keyOf(k: MailKey): string {
  return `${k.jobId}|${k.step}|${k.round}|${k.sender}|${k.seq ?? 0}`;
}

export class Mailbox {
  readonly #waiting = new Map<string, Envelope>();
  readonly #waiters = new Map<string, Waiter>();
  readonly #seen = new Set<string>();

  /** Returns false for a duplicate. */
  put(envelope: Envelope): boolean {
    if (this.#seen.has(envelope.id)) return false;
    this.#seen.add(envelope.id);
    const key = keyOf({ jobId: envelope.jobId, step: envelope.step, round: envelope.round, sender: envelope.sender, seq: envelope.seq });
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
      return Promise.resolve(ready);
    }
    if (signal?.aborted === true) return Promise.reject(cancelled(signal));
    return new Promise<Envelope>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiters.delete(key);
        reject(new TransportError('PEER_TIMEOUT', `no "${k.step}" from ${k.sender} for round ${k.round} of job ${k.jobId} within ${Math.round(timeoutMs / 1000)} s`, { details: { step: k.step, peer: k.sender } }));
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
          resolve(e);
        },
        reject,
        timer,
      });
    });
  }

  /** Forgets everything about a finished job. */
  dropJob(jobId: string): void {
    for (const key of [...this.#waiting.keys()]) if (key.startsWith(`${jobId}|`)) this.#waiting.delete(key);
    for (const id of [...this.#seen]) if (id.startsWith(`${jobId}/`)) this.#seen.delete(id);
  }
}

function cancelled(signal: AbortSignal | undefined): Error {
  const reason: unknown = signal?.reason;
  return reason instanceof Error ? reason : new JobError('JOB_CANCELLED', 'the job was cancelled');
}
