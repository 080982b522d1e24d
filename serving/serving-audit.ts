/**
 * The serving endpoint's audit log: every call that looks users up (a
 * guest's partial-score call to a host, an operator's lookup by id) is
 * stated, signed with the node's key, in a hash-chained log of the same
 * format as the node's message log (runtime/audit-log.ts), so
 * `tandem audit verify` checks it. One statement per call, aggregated:
 * caller, callee, route, how many users and the SHA-256 of their
 * pseudonyms, never a pseudonym or an id in clear. The guest states the
 * calls it sends with the same digest, so the two logs cross-check.
 *
 * It is a log of its own (`<dataDir>/audit/serving/<node>.audit.jsonl`),
 * because the party node may be appending to `<dataDir>/audit/<node>.audit.jsonl`
 * at the same time and two writers would break one chain; a lock file
 * keeps a second `tandem serve` from writing the same log.
 */
import { createHash, type KeyObject } from 'node:crypto';
import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { TandemError } from '../protocol/errors.ts';
import { AuditLog } from '../runtime/audit-log.ts';

/** The claim type of a lookup statement. */
export const LOOKUP_CLAIM = 'serving-lookups';

export type ServingAuditOptions = {
  readonly file: string;
  /** This node's name (the log's signer). */
  readonly node: string;
  readonly signingKey: KeyObject;
  readonly jobId: string;
};

export type ServingAudit = {
  readonly file: string;
  /** States, off the request's path, that `caller` asked `callee` about these users (by pseudonym) through `route`. */
  lookups(call: { readonly caller: string; readonly callee: string; readonly route: string; readonly pseudonyms: readonly string[] }): void;
  /** Writes what is pending and releases the log. */
  close(): void;
};

/** The digest a lookup statement carries: SHA-256 over the pseudonyms, one per line, in call order. */
export function lookupDigest(pseudonyms: readonly string[]): string {
  const hash = createHash('sha256');
  for (const p of pseudonyms) hash.update(p).update('\n');
  return hash.digest('hex');
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
  let pending: { caller: string; callee: string; route: string; count: number; digest: string }[] = [];
  const flush = (): void => {
    const claims = pending;
    pending = [];
    for (const c of claims) log.state({ type: LOOKUP_CLAIM, job: options.jobId, ...c });
  };
  let closed = false;
  return {
    file: options.file,
    lookups: (call) => {
      if (closed) return;
      // Hashing here keeps the caller's array from being held; signing waits until the answer has gone.
      if (pending.length === 0) setImmediate(flush);
      pending.push({ caller: call.caller, callee: call.callee, route: call.route, count: call.pseudonyms.length, digest: lookupDigest(call.pseudonyms) });
    },
    close: () => {
      if (closed) return;
      closed = true;
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
    if (Number.isSafeInteger(pid) && pid > 0 && alive(pid)) {
      throw new TandemError('ARGUMENT_INVALID', `${file} is written by another tandem serve (pid ${pid}, lock ${lock}); two writers would break its chain. Fix: stop that process, or give this endpoint its own --audit-log`);
    }
    // Left behind by a process that died: take it over.
    rmSync(lock, { force: true });
  }
  throw new TandemError('ARGUMENT_INVALID', `could not lock ${file} (${lock}). Fix: remove ${lock} if no tandem serve is running`);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
