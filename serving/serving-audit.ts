/**
 * The serving endpoint's audit log: every call that looks users up (a
 * guest's partial-score call to a host, an operator's lookup by id) is
 * stated, signed with the node's key, in a hash-chained log of the same
 * format as the node's message log (audit/log.ts), so
 * `tandem audit verify` checks it. Statements are aggregates, never a
 * pseudonym or an id in clear: per caller, callee and route, the calls of
 * one window of at most `windowMs` (how many calls, how many users, and the
 * SHA-256 of their pseudonyms in order). A lone call is a window of its
 * own; under load a window holds many, because signing every call (an
 * ECDSA signature, ≈ 40 µs, and a synchronous write) would cost the event
 * loop about a tenth of a request's CPU. The guest states the calls it
 * sends the same way, so the two logs' totals cross-check.
 *
 * It is a log of its own (`<dataDir>/audit/serving/<node>.audit.jsonl`),
 * because the party node may be appending to `<dataDir>/audit/<node>.audit.jsonl`
 * at the same time and two writers would break one chain; a lock file
 * keeps a second `tandem serve` from writing the same log.
 */
import { createHash, type Hash, type KeyObject } from 'node:crypto';
import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { TandemError } from '../protocol/errors.ts';
import { AuditLog } from '../audit/log.ts';
import { processAlive } from '../runtime/node-lock.ts';

/** Pseudonyms a window holds unhashed before it hashes them (bounds its memory at a few MiB). */
const MAX_PENDING_PSEUDONYMS = 65_536;
/**
 * Calls a window holds unhashed: a few, so one hash update covers many calls,
 * but not a window's worth. Held for the whole second, every call's
 * pseudonyms outlived V8's young generation: each scavenge copied them and
 * the next promoted them, which lengthened the pauses online scoring waits on.
 */
const MAX_PENDING_CALLS = 16;

/** The claim type of a lookup statement. */
export const LOOKUP_CLAIM = 'serving-lookups';

export type ServingAuditOptions = {
  readonly file: string;
  /** Longest window a statement aggregates. @default 1000 */
  readonly windowMs?: number | undefined;
  /** This node's name (the log's signer). */
  readonly node: string;
  readonly signingKey: KeyObject;
  readonly jobId: string;
};

export type ServingAudit = {
  readonly file: string;
  /** States, off the request's path and aggregated over a window, that `caller` asked `callee` about these users (by pseudonym) through `route`. */
  lookups(call: {
    readonly caller: string;
    readonly callee: string;
    readonly route: string;
    readonly pseudonyms: readonly string[];
  }): void;
  /** Writes what is pending and releases the log. */
  close(): void;
};

/** The digest a lookup statement carries: SHA-256 over the pseudonyms of its calls, one per line, in call order. */
export function lookupDigest(pseudonyms: readonly string[]): string {
  return createHash('sha256')
    .update(pseudonyms.length === 0 ? '' : `${pseudonyms.join('\n')}\n`)
    .digest('hex');
}

/** @throws TandemError ARGUMENT_INVALID when another running process holds the log */
export function openServingAudit(options: ServingAuditOptions): ServingAudit {
  const lock = `${options.file}.lock`;
  mkdirSync(dirname(options.file), { recursive: true, mode: 0o700 });
  takeLock(lock, options.file);
  let log: AuditLog;
  try {
    log = new AuditLog(options.file, options.node, options.signingKey);
  } catch (error) {
    rmSync(lock, { force: true });
    throw error;
  }
  type Window = {
    readonly caller: string;
    readonly callee: string;
    readonly route: string;
    calls: number;
    count: number;
    readonly hash: Hash;
    /** Calls' pseudonyms not hashed yet: hashed together, one update for many calls instead of one per call. */
    pending: (readonly string[])[];
    pendingCount: number;
  };
  const digestPending = (w: Window): void => {
    if (w.pendingCount > 0) w.hash.update(`${w.pending.flat().join('\n')}\n`);
    w.pending = [];
    w.pendingCount = 0;
  };
  let windows = new Map<string, Window>();
  let timer: NodeJS.Timeout | undefined;
  const flush = (): void => {
    timer = undefined;
    const done = windows;
    windows = new Map();
    for (const w of done.values()) {
      digestPending(w);
      log.state({
        type: LOOKUP_CLAIM,
        job: options.jobId,
        caller: w.caller,
        callee: w.callee,
        route: w.route,
        calls: w.calls,
        count: w.count,
        digest: w.hash.digest('hex'),
      });
    }
  };
  let closed = false;
  return {
    file: options.file,
    lookups: (call) => {
      if (closed) return;
      const key = `${call.caller}\n${call.callee}\n${call.route}`;
      let w = windows.get(key);
      if (w === undefined) {
        w = {
          caller: call.caller,
          callee: call.callee,
          route: call.route,
          calls: 0,
          count: 0,
          hash: createHash('sha256'),
          pending: [],
          pendingCount: 0,
        };
        windows.set(key, w);
      }
      w.calls += 1;
      w.count += call.pseudonyms.length;
      if (call.pseudonyms.length > 0) {
        w.pending.push(call.pseudonyms);
        w.pendingCount += call.pseudonyms.length;
        if (w.pendingCount >= MAX_PENDING_PSEUDONYMS || w.pending.length >= MAX_PENDING_CALLS) digestPending(w);
      }
      // Signing waits for the window's end, and never holds the process open.
      timer ??= setTimeout(flush, options.windowMs ?? 1000).unref();
    },
    close: () => {
      if (closed) return;
      closed = true;
      clearTimeout(timer);
      flush();
      log.close();
      rmSync(lock, { force: true });
    },
  };
}

function takeLock(lock: string, file: string): void {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(lock, 'wx', 0o600);
      writeSync(fd, `${process.pid}\n`);
      closeSync(fd);
      return;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const pid = Number(readFileSync(lock, 'utf8').trim());
    if (Number.isSafeInteger(pid) && pid > 0 && processAlive(pid)) {
      throw new TandemError(
        'ARGUMENT_INVALID',
        `${file} is written by another tandem serve (pid ${pid}, lock ${lock}); two writers would break its chain. Fix: stop that process, or give this endpoint its own --audit-log`,
      );
    }
    // Left behind by a process that died: take it over.
    rmSync(lock, { force: true });
  }
  throw new TandemError(
    'ARGUMENT_INVALID',
    `could not lock ${file} (${lock}). Fix: remove ${lock} if no tandem serve is running`,
  );
}
