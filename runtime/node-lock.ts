/**
 * One node per data directory: `<dataDir>/node.lock` holds the pid of the
 * node that runs on it, created exclusively (`wx`, mode 0600). A second
 * `party start` or `coordinator start` on the same directory is refused,
 * naming the pid: two nodes would share the inbox, checkpoints and job
 * store, and take each other's messages. A lock whose process has died
 * (a `kill -9`, a crash) is taken over, with a warning. So is one whose pid
 * now belongs to another process: the lock keeps the holder's start time
 * (Linux), and a container restarted after a crash, where every node is
 * pid 1, finds its own pid in the lock.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { resolve } from 'node:path';
import { TandemError } from '../protocol/errors.ts';
import type { Logger } from './logger.ts';

export type NodeLock = { readonly file: string; release(): void };

type Holder = { pid?: unknown; node?: unknown; since?: unknown; host?: unknown; started?: unknown };

/** Lock files this process holds: a lock naming our own pid is ours only if it is here. */
const held = new Set<string>();

/** What a lock file says; empty when it is gone, unreadable or half-written (no live holder can be named). */
function readHolder(file: string): Holder {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as Holder;
  } catch {
    return {};
  }
}

/** Whether a process with this pid exists (one of another user's counts). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** When a process started, in clock ticks since boot (field 22 of /proc/<pid>/stat); undefined where there is no /proc. */
export function processStartTicks(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses: count from its closing one.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

/** Whether the process a lock names still runs: the same pid, alive, and (where known) started when the lock says. */
function running(holder: Holder, file: string): holder is Holder & { pid: number } {
  if (typeof holder.pid !== 'number') return false;
  if (holder.pid === process.pid) return held.has(file);
  if (!processAlive(holder.pid)) return false;
  if (typeof holder.started !== 'string') return true;
  const now = processStartTicks(holder.pid);
  return now === undefined || now === holder.started;
}

/** @throws TandemError NODE_ALREADY_RUNNING naming the running pid and the lock file */
export function acquireNodeLock(dataDir: string, node: string, log: Logger): NodeLock {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const file = resolve(dataDir, 'node.lock');
  const started = processStartTicks(process.pid);
  const body = `${JSON.stringify({ pid: process.pid, node, since: new Date().toISOString(), host: hostname(), ...(started === undefined ? {} : { started }) })}\n`;
  const release = (): void => {
    held.delete(file);
    // Only our own lock: a node that outlived a takeover must not free the next holder's.
    if (readHolder(file).pid === process.pid) rmSync(file, { force: true });
  };
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(file, body, { flag: 'wx', mode: 0o600 });
      held.add(file);
      return { file, release };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const holder = readHolder(file);
    const text = (v: unknown, fallback: string): string => (typeof v === 'string' ? v : fallback);
    if (running(holder, file)) {
      const where = typeof holder.host === 'string' && holder.host !== hostname() ? ` on ${holder.host}` : '';
      throw new TandemError(
        'NODE_ALREADY_RUNNING',
        `${dataDir} is in use by ${text(holder.node, 'a node')} (pid ${holder.pid}${where}, since ${text(holder.since, '?')}; lock file ${file}). Fix: stop that process, or give this node its own dataDir`,
      );
    }
    log.warn({ lock: file, pid: holder.pid }, 'took over the data directory lock of a node that is no longer running');
    rmSync(file, { force: true });
  }
  throw new TandemError(
    'NODE_ALREADY_RUNNING',
    `could not take the lock ${file}: another node took it at the same moment`,
  );
}
