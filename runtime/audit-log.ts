/**
 * The privacy audit log: its own append-only JSON-lines file per node, one
 * record per message sent or received across a node boundary. Each record
 * carries the SHA-256 of the serialized envelope (the same bytes on both
 * ends of a hop, so sender and receiver records cross-match), the hash of
 * the previous record (a chain), and an ECDSA signature by the node key.
 * The chain survives restarts: opening an existing log continues it.
 *
 * Signed per record rather than per checkpoint: an ECDSA P-256 signature
 * costs about 50 µs here (a job writes a few records per mini-batch), and
 * a per-record signature lets `tandem audit verify` name the exact record
 * that was forged, where a checkpoint could only name a range.
 */
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { createHash, sign, type KeyObject } from 'node:crypto';
import type { MessageKind } from '../protocol/wire/envelope.ts';

export type AuditDirection = 'sent' | 'received';

export type AuditEntry = {
  readonly job: string;
  readonly round: number;
  readonly step: string;
  readonly direction: AuditDirection;
  readonly peer: string;
  readonly kind: MessageKind;
  readonly messageId: string;
  readonly bytes: number;
  readonly sha256: string;
  /** Whether the body was sealed end to end for another party. */
  readonly sealed: boolean;
};

export type AuditRecord = AuditEntry & {
  readonly seq: number;
  readonly time: string;
  readonly node: string;
  readonly prev: string;
  readonly hash: string;
  readonly sig: string;
};

export const GENESIS = '0'.repeat(64);

/** The canonical bytes a record's hash covers: every field but `hash` and `sig`, in a fixed order. */
export function canonicalRecord(r: Omit<AuditRecord, 'hash' | 'sig'>): string {
  return JSON.stringify([r.seq, r.time, r.node, r.job, r.round, r.step, r.direction, r.peer, r.kind, r.messageId, r.bytes, r.sha256, r.sealed, r.prev]);
}

export function hashRecord(r: Omit<AuditRecord, 'hash' | 'sig'>): string {
  return createHash('sha256').update(canonicalRecord(r)).digest('hex');
}

export function digest(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

export interface AuditSink {
  record(entry: AuditEntry): void;
}

/** An audit log on disk. Appends are synchronous: a record is on disk before the message moves on. */
export class AuditLog implements AuditSink {
  readonly file: string;
  readonly #node: string;
  readonly #key: KeyObject;
  readonly #fd: number;
  #seq: number;
  #prev: string;

  constructor(file: string, node: string, signingKey: KeyObject) {
    this.file = file;
    this.#node = node;
    this.#key = signingKey;
    mkdirSync(dirname(file), { recursive: true });
    const text = existsSync(file) ? readFileSync(file, 'utf8') : '';
    const last = lastRecord(text);
    this.#seq = last === undefined ? 0 : last.seq + 1;
    this.#prev = last === undefined ? GENESIS : last.hash;
    this.#fd = openSync(file, 'a', 0o600);
    // A crash mid-append can leave a torn last line; start on a fresh line so
    // the torn one stays visible to `audit verify` instead of corrupting the next record.
    if (text !== '' && !text.endsWith('\n')) writeSync(this.#fd, '\n');
  }

  record(entry: AuditEntry): void {
    const base = { ...entry, seq: this.#seq, time: new Date().toISOString(), node: this.#node, prev: this.#prev };
    const hash = hashRecord(base);
    const sig = sign('sha256', Buffer.from(hash, 'hex'), this.#key).toString('base64');
    const record: AuditRecord = { ...base, hash, sig };
    writeSync(this.#fd, `${JSON.stringify(record)}\n`);
    this.#seq += 1;
    this.#prev = hash;
  }

  close(): void {
    closeSync(this.#fd);
  }
}

/** The last well-formed record; a torn or garbled tail is skipped (verification reports it). */
function lastRecord(text: string): AuditRecord | undefined {
  for (const parsed of parseAuditLines(text).reverse()) {
    if (!('value' in parsed)) continue;
    const r = parsed.value as Partial<AuditRecord> | null;
    if (typeof r === 'object' && r !== null && Number.isSafeInteger(r.seq) && typeof r.hash === 'string') return r as AuditRecord;
  }
  return undefined;
}

/** One non-empty line of a log: its 1-based line number and the parsed JSON, or why it did not parse. */
export type AuditLine = { readonly line: number; readonly value: unknown } | { readonly line: number; readonly error: string };

/**
 * Splits a log into its non-empty lines with their line numbers, parsing
 * each as JSON but checking nothing else (runtime/audit-verify.ts does),
 * so a verifier can name the exact line of every problem.
 */
export function parseAuditLines(text: string): AuditLine[] {
  const out: AuditLine[] = [];
  text.split('\n').forEach((raw, k) => {
    if (raw.trim() === '') return;
    try {
      out.push({ line: k + 1, value: JSON.parse(raw) as unknown });
    } catch (error) {
      out.push({ line: k + 1, error: (error as Error).message });
    }
  });
  return out;
}

/** Reads every record of a log file, trusting its shape (use runtime/audit-verify.ts to check it). */
export function readAuditLog(file: string): AuditRecord[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as AuditRecord);
}
