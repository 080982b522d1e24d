import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TandemError } from '../protocol/errors.ts';
import { JobStore } from './job-store.ts';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tandem-store-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('the job store on disk', () => {
  it('creates the database and its WAL and shared memory readable by this user only, under umask 022', async () => {
    const umask = process.umask(0o022);
    try {
      const file = join(dir, 'fresh', 'jobs.sqlite');
      const store = new JobStore(file);
      store.saveSecrets('job-0123456789', new Uint8Array(32), new Uint8Array(32));
      for (const f of [file, `${file}-wal`, `${file}-shm`]) expect((await stat(f)).mode & 0o777, f).toBe(0o600);
      expect((await stat(join(dir, 'fresh'))).mode & 0o777).toBe(0o700);
      store.close();
    } finally {
      process.umask(umask);
    }
  });

  it("refuses a damaged store (not a database, or a page damaged deep inside) with the file, SQLite's reason and the fix, and starts an empty one with a warning", async () => {
    const file = join(dir, 'broken.sqlite');
    await writeFile(file, 'this is not a database, it only looks like one from far away'.repeat(100));
    let error: unknown;
    try {
      new JobStore(file);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(TandemError);
    expect((error as TandemError).code).toBe('STORE_CORRUPT');
    expect((error as TandemError).message).toMatch(
      /broken\.sqlite is not a readable job store \(SQLite: .*\)\. Fix: restore it from a backup/,
    );

    // Damage past the pages opening reads: the page check finds it at start, not a job at some later write.
    const damaged = join(dir, 'damaged.sqlite');
    const store0 = new JobStore(damaged);
    for (let k = 0; k < 2000; k++)
      store0.addEvent(`job-${k % 50}`, 'brand', 'training', `epoch ${k}: loss ${'0'.repeat(80)}`);
    store0.close();
    const bytes = await readFile(damaged);
    bytes.fill(0x41, 4096 * 6, 4096 * 9);
    await writeFile(damaged, bytes);
    let damage: unknown;
    try {
      new JobStore(damaged);
    } catch (e) {
      damage = e;
    }
    expect((damage as TandemError).code).toBe('STORE_CORRUPT');
    expect((damage as TandemError).message).toMatch(
      /damaged\.sqlite is not a readable job store \(SQLite: .*\)\. Fix: restore it from a backup/,
    );

    const empty = join(dir, 'empty.sqlite');
    await writeFile(empty, '');
    const warnings: string[] = [];
    const log = { warn: (_o: object, m: string) => warnings.push(m) } as unknown as ConstructorParameters<
      typeof JobStore
    >[1];
    const store = new JobStore(empty, log);
    expect(store.list(10)).toEqual([]);
    store.close();
    expect(warnings.join()).toMatch(/empty file/);
  });
});
