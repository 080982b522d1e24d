/**
 * The privacy audit log: its own append-only JSON-lines file per node, one
 * record per message sent or received across a node boundary. Each record
 * carries the SHA-256 of the serialized envelope (the same bytes on both
 * ends of a hop, so sender and receiver records cross-match), the hash of
 * the previous record (a chain), and an ECDSA signature by the node key.
 * The chain survives restarts: opening an existing log continues it.
 *
 * Besides messages, a node can sign a statement into the same chain: a
 * small flat JSON claim about its own part in a job, such as the ε a
 * differentially private job spent (`kind: 'statement'`, direction
 * `local`). A statement's `sha256` and `bytes` are those of its canonical
 * claim, and the record hash covers the claim itself; a record without a
 * claim hashes exactly as before statements existed, so older logs verify.
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

/** Which way a message went. */
export type AuditDirection = 'sent' | 'received';

/** A statement's direction: it records no message, it states something. */
export const STATEMENT_DIRECTION = 'local';
/** A statement's kind: not a message kind, it crosses no node boundary. */
export const STATEMENT_KIND = 'statement';

/** One value of a claim: claims are flat, so that their canonical form is simple to reproduce. */
export type AuditClaimValue = string | number | boolean | null;

/** What a statement claims: its type, the job it is about, and flat fields. */
export type AuditClaim = { readonly type: string; readonly job: string; readonly [field: string]: AuditClaimValue };

/**
 * The ε a differentially private job spent, stated by a party from its
 * privacy plan (protocol/privacy/dp-plan.ts). `epsilon` is what the
 * accountant reports for `steps` noisy steps at `noiseMultiplier`;
 * `budget` is the ε the job spec declared.
 */
export type DpClaim = AuditClaim & {
  readonly type: 'dp';
  /** The stating party's role in the job, as it read it from the job spec. */
  readonly role: string;
  readonly epsilon: number;
  readonly delta: number;
  readonly budget: number;
  readonly steps: number;
  readonly noiseMultiplier: number;
  readonly evaluationNoiseMultiplier: number | null;
  readonly clip: number | null;
  readonly samplingRate: number | null;
  /** How ε was computed. */
  readonly accountant: string;
};

/** The fields a `dp` claim must carry as finite numbers ≥ 0 (`steps` a whole number). */
export const DP_CLAIM_NUMBERS = ['epsilon', 'delta', 'budget', 'steps', 'noiseMultiplier'] as const;

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

/**
 * One line of a log: a message record (an {@link AuditEntry}), or a
 * statement (direction `local`, kind `statement`, with a `claim`).
 */
export type AuditRecord = Omit<AuditEntry, 'direction' | 'kind'> & {
  readonly direction: AuditDirection | typeof STATEMENT_DIRECTION;
  readonly kind: MessageKind | typeof STATEMENT_KIND;
  /** Only on statements. */
  readonly claim?: AuditClaim;
  readonly seq: number;
  readonly time: string;
  readonly node: string;
  readonly prev: string;
  readonly hash: string;
  readonly sig: string;
};

export const GENESIS = '0'.repeat(64);

/**
 * The canonical bytes a record's hash covers: every field but `hash` and
 * `sig`, in a fixed order; a statement's claim, canonical, comes last.
 */
export function canonicalRecord(r: Omit<AuditRecord, 'hash' | 'sig'>): string {
  const fields = JSON.stringify([
    r.seq,
    r.time,
    r.node,
    r.job,
    r.round,
    r.step,
    r.direction,
    r.peer,
    r.kind,
    r.messageId,
    r.bytes,
    r.sha256,
    r.sealed,
    r.prev,
  ]);
  // A record without a claim hashes exactly as before statements existed.
  return r.claim === undefined ? fields : `${fields.slice(0, -1)},${canonicalClaim(r.claim)}]`;
}

/**
 * A claim as canonical JSON: keys sorted by code unit, no spaces, numbers
 * as JavaScript prints them (the shortest form that reads back the same).
 * Written out by hand because JSON.stringify puts integer-like keys first.
 */
export function canonicalClaim(claim: AuditClaim): string {
  const keys = Object.keys(claim).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${keys.map((k) => `${JSON.stringify(k)}:${JSON.stringify(claim[k])}`).join(',')}}`;
}

/** Why `value` is not a claim a statement can carry, or undefined if it is one. */
export function claimProblem(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'is not a JSON object';
  const c = value as Record<string, unknown>;
  if (typeof c['type'] !== 'string' || c['type'] === '') return 'has no "type"';
  if (typeof c['job'] !== 'string' || c['job'] === '') return 'has no "job"';
  for (const [k, v] of Object.entries(c)) {
    const ok =
      v === null || typeof v === 'string' || typeof v === 'boolean' || (typeof v === 'number' && Number.isFinite(v));
    if (!ok) return `field "${k}" is not a string, finite number, true, false or null (claims are flat)`;
  }
  if (c['type'] === 'dp') {
    if (typeof c['role'] !== 'string') return 'is a "dp" claim without a "role"';
    for (const k of DP_CLAIM_NUMBERS) {
      const v = c[k];
      if (typeof v !== 'number' || v < 0 || (k === 'steps' && !Number.isSafeInteger(v)))
        return `is a "dp" claim whose "${k}" is not a ${k === 'steps' ? 'whole number' : 'number'} ≥ 0`;
    }
  }
  return undefined;
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

/** The message-like fields of a statement: it records no message, so they describe the claim. */
export function statementEntry(
  node: string,
  claim: AuditClaim,
): Omit<AuditRecord, 'seq' | 'time' | 'node' | 'prev' | 'hash' | 'sig'> {
  const bytes = Buffer.from(canonicalClaim(claim), 'utf8');
  return {
    job: claim.job,
    round: 0,
    step: claim.type,
    direction: STATEMENT_DIRECTION,
    peer: node,
    kind: STATEMENT_KIND,
    messageId: `${claim.job}/statement/${claim.type}/${node}`,
    bytes: bytes.byteLength,
    sha256: digest(bytes),
    sealed: false,
    claim,
  };
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
    mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
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
    this.#append(entry);
  }

  /**
   * Signs a statement into the chain: a claim this node makes about its own
   * part in a job (for a differentially private job, the ε it spent).
   * @throws TypeError when the claim is not flat JSON with a type and a job
   */
  state(claim: AuditClaim): AuditRecord {
    const problem = claimProblem(claim);
    if (problem !== undefined) throw new TypeError(`an audit statement's claim ${problem}`);
    return this.#append(statementEntry(this.#node, claim));
  }

  #append(entry: Omit<AuditRecord, 'seq' | 'time' | 'node' | 'prev' | 'hash' | 'sig'>): AuditRecord {
    const base = { ...entry, seq: this.#seq, time: new Date().toISOString(), node: this.#node, prev: this.#prev };
    const hash = hashRecord(base);
    const sig = sign('sha256', Buffer.from(hash, 'hex'), this.#key).toString('base64');
    const record: AuditRecord = { ...base, hash, sig };
    writeSync(this.#fd, `${JSON.stringify(record)}\n`);
    this.#seq += 1;
    this.#prev = hash;
    return record;
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
    if (typeof r === 'object' && r !== null && Number.isSafeInteger(r.seq) && typeof r.hash === 'string')
      return r as AuditRecord;
  }
  return undefined;
}

/** One non-empty line of a log: its 1-based line number and the parsed JSON, or why it did not parse. */
export type AuditLine =
  { readonly line: number; readonly value: unknown } | { readonly line: number; readonly error: string };

/**
 * Splits a log into its non-empty lines with their line numbers, parsing
 * each as JSON but checking nothing else (audit/verify.ts does),
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

/** Reads every record of a log file, trusting its shape (use audit/verify.ts to check it). */
export function readAuditLog(file: string): AuditRecord[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as AuditRecord);
}
