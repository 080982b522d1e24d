import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { afterEach, describe, expect, it } from 'vitest';
import { RelayOutbox } from './relay-outbox.ts';
import { JobStore } from './job-store.ts';

const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'tandem-relay-'));
  dirs.push(dir);
  return dir;
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const bytes = (n: number, fill: number): Uint8Array => new Uint8Array(n).fill(fill);

describe('RelayOutbox', () => {
  it('keeps queued envelopes across a restart, in order, byte for byte, until acknowledged', () => {
    const dir = join(tempDir(), 'relay');
    const a = new RelayOutbox(dir);
    a.queue('guest', 'job1/1/basis/host>guest/0', 'job1', 'basis', bytes(300_000, 7));
    a.queue('host', 'job1/1/residual/guest>host/0', 'job1', 'residual', bytes(10, 1));
    a.queue('guest', 'job1/1/basis/host>guest/0', 'job1', 'basis', bytes(5, 9)); // a resend: idempotent
    a.queue('guest', 'job1/2/basis/host>guest/0', 'job1', 'basis', bytes(3, 2));
    a.dequeue('host', 'job1/1/residual/guest>host/0');
    a.dequeue('host', 'never-queued');

    const b = new RelayOutbox(dir);
    const queued = b.queued();
    expect(queued.map((q) => q.recipient)).toEqual(['guest', 'guest']);
    expect(queued[0]?.bytes).toEqual(bytes(300_000, 7));
    expect(queued[1]?.bytes).toEqual(bytes(3, 2));
    // Numbering continues after the restart: a new envelope sorts last.
    b.queue('host', 'job1/3/x/guest>host/0', 'job1', 'x', bytes(1, 3));
    expect(new RelayOutbox(dir).queued().map((q) => q.bytes[0])).toEqual([7, 2, 3]);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
  });

  it('ignores a write a crash interrupted', () => {
    const dir = join(tempDir(), 'relay');
    new RelayOutbox(dir).queue('guest', 'j/1/a/h>g/0', 'j', 'a', bytes(4, 4));
    writeFileSync(join(dir, '000000000009.eA.env.tmp'), 'half an envelope');
    const reopened = new RelayOutbox(dir);
    expect(reopened.queued().map((q) => q.bytes)).toEqual([bytes(4, 4)]);
    expect(readdirSync(dir).some((n) => n.endsWith('.tmp'))).toBe(false);
  });

  it('forgets a finished job except its stop orders, on disk and in memory', () => {
    for (const dir of [join(tempDir(), 'relay'), undefined]) {
      const box = new RelayOutbox(dir);
      box.queue('guest', 'j/1/basis/h>g/0', 'j', 'basis', bytes(2, 1));
      box.queue('guest', 'j/0/stop/coordinator>g/0', 'j', 'control', bytes(2, 2));
      box.queue('guest', 'k/1/basis/h>g/0', 'k', 'basis', bytes(2, 3));
      box.forgetJob('j');
      expect(box.queued().map((q) => q.bytes[0])).toEqual([2, 3]);
      if (dir !== undefined) expect(new RelayOutbox(dir).queued().map((q) => q.bytes[0])).toEqual([2, 3]);
    }
  });

  it('takes over the envelopes an earlier version queued in the job store', () => {
    const dir = tempDir();
    const file = join(dir, 'jobs.sqlite');
    const db = new DatabaseSync(file);
    db.exec(
      'CREATE TABLE relay_outbox (n INTEGER PRIMARY KEY AUTOINCREMENT, recipient TEXT NOT NULL, id TEXT NOT NULL, job_id TEXT NOT NULL, step TEXT NOT NULL, bytes BLOB NOT NULL, UNIQUE (recipient, id))',
    );
    db.prepare('INSERT INTO relay_outbox (recipient, id, job_id, step, bytes) VALUES (?, ?, ?, ?, ?)').run(
      'host',
      'j/1/r/g>h/0',
      'j',
      'r',
      bytes(3, 5),
    );
    db.close();
    const store = new JobStore(file);
    expect(store.queued()).toEqual([{ recipient: 'host', bytes: bytes(3, 5) }]);
    store.close();
    const again = new JobStore(file);
    expect(again.queued()).toEqual([{ recipient: 'host', bytes: bytes(3, 5) }]);
    again.close();
  });
});
