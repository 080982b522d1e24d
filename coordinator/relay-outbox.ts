/**
 * The relay's durable outbox: every envelope queued for a party, one file
 * each under `<dataDir>/relay/`, until the party acknowledges it. Written
 * to a temporary name and renamed, so a crash leaves either the whole
 * envelope or nothing; like the parties' own outboxes and inboxes
 * (party/grpc-session.ts, party/mailbox.ts) it survives the process being
 * killed, not the machine losing power.
 *
 * Files, not the job store's SQLite table: a host's CKKS basis is 2.4 MB
 * per mini-batch, and inserting it into SQLite (with `secure_delete`, which
 * the job secrets need) and deleting it again cost the coordinator ≈ 50 ms
 * of its event loop per round against ≈ 2 ms for a file — time every party
 * waited, since a relay forwards only what it has stored. What is kept here
 * needs no overwriting: party-to-party bodies are sealed end to end (the
 * coordinator cannot read them), and its own messages carry only what it
 * computed itself.
 *
 * A file is a 4-byte little-endian header length, the header as JSON
 * (recipient, job, step) and the envelope exactly as it will be sent.
 */
import { closeSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, writevSync } from 'node:fs';
import { join } from 'node:path';

type Header = { readonly recipient: string; readonly jobId: string; readonly step: string };
type Entry = Header & { readonly file: string };

const SUFFIX = '.env';

export class RelayOutbox {
  readonly #dir: string | undefined;
  /** By recipient and envelope id; insertion order is queue order. */
  readonly #entries = new Map<string, Entry>();
  /** Only when there is no directory (an in-memory store, in tests). */
  readonly #memory = new Map<string, Uint8Array>();
  #next = 0;

  /** `dir` undefined: kept in memory only. */
  constructor(dir: string | undefined) {
    this.#dir = dir;
    if (dir === undefined) return;
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const names = readdirSync(dir);
    for (const name of names) if (!name.endsWith(SUFFIX)) rmSync(join(dir, name), { force: true }); // a write a crash interrupted
    const numbered = names
      .filter((n) => n.endsWith(SUFFIX))
      .map((n) => ({ name: n, n: Number.parseInt(n, 10) }))
      .sort((a, b) => a.n - b.n);
    for (const { name, n } of numbered) {
      const { header } = read(join(dir, name));
      this.#entries.set(key(header.recipient, idOf(name)), { ...header, file: name });
      this.#next = Math.max(this.#next, n + 1);
    }
  }

  /** Keeps an envelope for `recipient` until it acknowledges it (idempotent by id). */
  queue(recipient: string, id: string, jobId: string, step: string, bytes: Uint8Array): void {
    const k = key(recipient, id);
    if (this.#entries.has(k)) return;
    const file = `${String(this.#next++).padStart(12, '0')}.${Buffer.from(id).toString('base64url')}${SUFFIX}`;
    const header: Header = { recipient, jobId, step };
    if (this.#dir === undefined) this.#memory.set(k, bytes);
    else write(join(this.#dir, file), header, bytes);
    this.#entries.set(k, { ...header, file });
  }

  dequeue(recipient: string, id: string): void {
    const k = key(recipient, id);
    const entry = this.#entries.get(k);
    if (entry === undefined) return;
    this.#entries.delete(k);
    this.#memory.delete(k);
    if (this.#dir !== undefined) rmSync(join(this.#dir, entry.file), { force: true });
  }

  /** Every queued envelope, oldest first. */
  queued(): Array<{ recipient: string; bytes: Uint8Array }> {
    return [...this.#entries].map(([k, e]) => ({
      recipient: e.recipient,
      bytes: this.#dir === undefined ? this.#memory.get(k)! : read(join(this.#dir, e.file)).bytes,
    }));
  }

  /** Drops a finished job's envelopes, except the orders to stop. */
  forgetJob(jobId: string): void {
    for (const e of [...this.#entries.values()])
      if (e.jobId === jobId && e.step !== 'control') this.dequeue(e.recipient, idOf(e.file));
  }
}

function key(recipient: string, id: string): string {
  return `${recipient}\u0000${id}`;
}

function idOf(file: string): string {
  return Buffer.from(file.slice(file.indexOf('.') + 1, -SUFFIX.length), 'base64url').toString('utf8');
}

function write(file: string, header: Header, bytes: Uint8Array): void {
  const json = Buffer.from(JSON.stringify(header));
  const length = Buffer.alloc(4);
  length.writeUInt32LE(json.byteLength);
  const fd = openSync(`${file}.tmp`, 'w', 0o600);
  try {
    // writev: the envelope is not copied into one buffer with its header first.
    let written = writevSync(fd, [length, json, bytes]);
    const total = 4 + json.byteLength + bytes.byteLength;
    if (written < total) {
      // A short write (rare for regular files): write the rest from where it stopped.
      const all = Buffer.concat([length, json, bytes]);
      while (written < total) written += writevSync(fd, [all.subarray(written)]);
    }
  } finally {
    closeSync(fd);
  }
  renameSync(`${file}.tmp`, file);
}

function read(file: string): { header: Header; bytes: Uint8Array } {
  const all = readFileSync(file);
  const length = all.readUInt32LE(0);
  return {
    header: JSON.parse(all.subarray(4, 4 + length).toString('utf8')) as Header,
    bytes: new Uint8Array(all.buffer, all.byteOffset + 4 + length, all.byteLength - 4 - length),
  };
}
