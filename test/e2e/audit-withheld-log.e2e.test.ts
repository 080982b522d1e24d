/**
 * `tandem audit verify` over a real job's logs (issue #16): a party's log
 * replaced by an empty file, or left out, is a failure naming the party and
 * the file — not "OK" — unless the auditor asks for a partial check.
 */
import { spawnSync } from 'node:child_process';
import { copyFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exampleParties, lrSpec, runJob, startFederation, type Federation } from '../support/federation.ts';

const BIN = resolve(import.meta.dirname, '..', '..', 'bin', 'tandem.mjs');

describe('audit verify of a real job', () => {
  let fed: Federation;
  let copies: string;
  let jobId: string;
  beforeAll(async () => {
    fed = await startFederation({ parties: exampleParties('breast') });
    const result = await runJob(fed, lrSpec({ training: { maxEpochs: 2, tolerance: 0 } }));
    expect(result.stage, result.message).toBe('completed');
    jobId = result.jobId;
    // The auditor works on copies; the nodes' own logs are never edited.
    copies = await mkdtemp(join(tmpdir(), 'tandem-audit-copies-'));
    for (const node of ['coordinator', 'brand', 'partner'])
      await copyFile(join(fed.dir, node, 'audit', `${node}.audit.jsonl`), join(copies, `${node}.audit.jsonl`));
  }, 120_000);
  afterAll(async () => {
    await fed.close();
    await rm(copies, { recursive: true, force: true });
  });

  const verify = (...args: string[]): { status: number | null; out: string } => {
    const certs = join(fed.dir, 'certs');
    const r = spawnSync(
      process.execPath,
      [BIN, 'audit', 'verify', '--ca', join(certs, 'ca.crt'), '--certs-dir', certs, ...args],
      { encoding: 'utf8' },
    );
    return { status: r.status, out: `${r.stdout}${r.stderr}` };
  };
  const log = (node: string): string => join(copies, `${node}.audit.jsonl`);

  it(
    "fails when a party's log is emptied or left out, naming the party and the file; passes the whole set, and a subset with --partial",
    { timeout: 60_000 },
    async () => {
      const whole = verify(log('coordinator'), log('brand'), log('partner'));
      expect(whole.status, whole.out).toBe(0);
      expect(whole.out).toMatch(/^OK: 3 logs/);

      const withheld = verify(log('coordinator'), log('brand'));
      expect(withheld.status, withheld.out).toBe(1);
      expect(withheld.out).toContain(`[missing-log] job ${jobId} names partner`);
      expect(withheld.out).toContain('but no log of partner was given');
      const partial = verify('--partial', log('coordinator'), log('brand'));
      expect(partial.status, partial.out).toBe(0);

      await writeFile(log('partner'), '');
      const emptied = verify(log('coordinator'), log('brand'), log('partner'));
      expect(emptied.status, emptied.out).toBe(1);
      expect(emptied.out).toContain(
        `${log('partner')}: [missing-log] ${log('partner')} is empty, but job ${jobId} names partner`,
      );
      expect(emptied.out).not.toMatch(/^OK/m);
    },
  );
});
