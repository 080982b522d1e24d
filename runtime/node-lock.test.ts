import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TandemError } from '../protocol/errors.ts';
import { acquireNodeLock } from './node-lock.ts';
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
    const data = join(dir, 'a');
    const first = acquireNodeLock(data, 'brand', silentLogger());
    expect((await stat(first.file)).mode & 0o777).toBe(0o600);
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
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' }).stdout;
    acquireNodeLock(data, 'brand', silentLogger()).release();
    await writeFile(join(data, 'node.lock'), JSON.stringify({ pid: Number(dead), node: 'brand', since: '2026-01-01T00:00:00Z' }));
    const lock = acquireNodeLock(data, 'brand', silentLogger());
    expect(JSON.parse(await readFile(lock.file, 'utf8'))).toMatchObject({ pid: process.pid });
    lock.release();
  });
});
