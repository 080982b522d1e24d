/**
 * One node per data directory: `<dataDir>/node.lock` holds the pid of the
 * node that runs on it, created exclusively (`wx`, mode 0600). A second
 * `party start` or `coordinator start` on the same directory is refused,
 * naming the pid: two nodes would share the inbox, checkpoints and job
 * store, and take each other's messages. A lock whose process has died
 * (a `kill -9`, a crash) is taken over, with a warning.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { TandemError } from '../protocol/errors.ts';
import type { Logger } from './logger.ts';

export type NodeLock = { readonly file: string; release(): void };

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** @throws TandemError NODE_ALREADY_RUNNING naming the running pid and the lock file */
export function acquireNodeLock(dataDir: string, node: string, log: Logger): NodeLock {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const file = join(dataDir, 'node.lock');
  const body = `${JSON.stringify({ pid: process.pid, node, since: new Date().toISOString() })}\n`;
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(file, body, { flag: 'wx', mode: 0o600 });
      return { file, release: () => rmSync(file, { force: true }) };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    let holder: { pid?: unknown; node?: unknown; since?: unknown } = {};
    const text = (v: unknown, fallback: string): string => (typeof v === 'string' ? v : fallback);
    try {
      holder = JSON.parse(readFileSync(file, 'utf8')) as typeof holder;
    } catch {
      // Unreadable or half-written: no live holder can be named, so it is stale.
    }
    const pid = typeof holder.pid === 'number' ? holder.pid : undefined;
    if (pid !== undefined && alive(pid)) {
      throw new TandemError('NODE_ALREADY_RUNNING', `${dataDir} is in use by ${text(holder.node, 'a node')} (pid ${pid}, since ${text(holder.since, '?')}; lock file ${file}). Fix: stop that process, or give this node its own dataDir`);
    }
    log.warn({ lock: file, pid }, 'took over the data directory lock of a node that is no longer running');
    rmSync(file, { force: true });
  }
  throw new TandemError('NODE_ALREADY_RUNNING', `could not take the lock ${file}: another node took it at the same moment`);
}
