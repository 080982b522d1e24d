import { spawn, spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TandemError } from '../protocol/errors.ts';
import { acquireNodeLock, processStartTicks } from './node-lock.ts';
import { silentLogger } from './logger.ts';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tandem-lock-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('the data directory lock', () => {
  it('refuses a second node on the same data directory, naming the running pid and the lock file', async () => {
    const data = join(dir, 'a', 'data');
    const umask = process.umask(0o022);
    let first;
    try {
      first = acquireNodeLock(data, 'brand', silentLogger());
    } finally {
      process.umask(umask);
    }
    expect((await stat(first.file)).mode & 0o777).toBe(0o600);
    expect((await stat(data)).mode & 0o777).toBe(0o700);
    let error: unknown;
    try {
      acquireNodeLock(data, 'brand', silentLogger());
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(TandemError);
    expect((error as TandemError).code).toBe('NODE_ALREADY_RUNNING');
    expect((error as TandemError).message).toContain(`pid ${process.pid}`);
    expect((error as TandemError).message).toContain(join(data, 'node.lock'));
    first.release();
    acquireNodeLock(data, 'brand', silentLogger()).release();
  });

  it('takes over the lock of a node that died', async () => {
    const data = join(dir, 'b');
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], {
      encoding: 'utf8',
    }).stdout;
    acquireNodeLock(data, 'brand', silentLogger()).release();
    await writeFile(
      join(data, 'node.lock'),
      JSON.stringify({ pid: Number(dead), node: 'brand', since: '2026-01-01T00:00:00Z' }),
    );
    const lock = acquireNodeLock(data, 'brand', silentLogger());
    expect(JSON.parse(await readFile(lock.file, 'utf8'))).toMatchObject({ pid: process.pid });
    lock.release();
  });

  it('takes over a lock that names this very pid: a container restarted after a crash, where the node is pid 1 again', async () => {
    const data = join(dir, 'c');
    acquireNodeLock(data, 'brand', silentLogger()).release();
    await writeFile(
      join(data, 'node.lock'),
      JSON.stringify({ pid: process.pid, node: 'brand', since: '2026-01-01T00:00:00Z' }),
    );
    const warnings: string[] = [];
    const log = { warn: (_o: object, m: string) => warnings.push(m) } as unknown as Parameters<
      typeof acquireNodeLock
    >[2];
    const lock = acquireNodeLock(data, 'brand', log);
    expect(warnings).toEqual(['took over the data directory lock of a node that is no longer running']);
    lock.release();
  });

  it.runIf(processStartTicks(process.pid) !== undefined)(
    'takes over a lock whose pid now belongs to another process, and refuses while the holder itself runs',
    async () => {
      const data = join(dir, 'd');
      const other = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60_000)'], { stdio: 'ignore' });
      try {
        const pid = other.pid as number;
        acquireNodeLock(data, 'brand', silentLogger()).release();
        await writeFile(
          join(data, 'node.lock'),
          JSON.stringify({ pid, node: 'brand', since: '2026-01-01T00:00:00Z', started: '1' }),
        );
        acquireNodeLock(data, 'brand', silentLogger()).release();
        await writeFile(
          join(data, 'node.lock'),
          JSON.stringify({ pid, node: 'brand', since: '2026-01-01T00:00:00Z', started: processStartTicks(pid) }),
        );
        expect(() => acquireNodeLock(data, 'brand', silentLogger())).toThrow(`pid ${pid}`);
      } finally {
        other.kill('SIGKILL');
      }
    },
  );

  it('releases only its own lock, not one a later node took over', async () => {
    const data = join(dir, 'e');
    const mine = acquireNodeLock(data, 'brand', silentLogger());
    const theirs = JSON.stringify({ pid: process.ppid, node: 'brand', since: '2026-01-01T00:00:00Z' });
    await writeFile(mine.file, theirs);
    mine.release();
    expect(await readFile(mine.file, 'utf8')).toBe(theirs);
  });
});
