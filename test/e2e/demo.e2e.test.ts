/**
 * `tandem demo` as a user runs it: a coordinator and two party nodes as
 * separate processes on loopback, one job, the summary on stdout.
 */
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const BIN = join(import.meta.dirname, '..', '..', 'bin', 'tandem.mjs');

describe('tandem demo', () => {
  it('trains breast across three processes and prints the metrics', { timeout: 180_000 }, async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tandem-demo-test-'));
    try {
      const run = spawnSync(process.execPath, [BIN, 'demo', '--dataset', 'breast', '--dir', dir], { encoding: 'utf8', timeout: 170_000 });
      expect(run.status, run.stderr).toBe(0);
      expect(run.stdout).toMatch(/: completed/);
      const auc = Number(/AUC\s+[0-9.]+\s+([0-9.]+)/.exec(run.stdout)?.[1]);
      expect(auc).toBeGreaterThan(0.98);
      for (const node of ['coordinator', 'brand', 'partner']) {
        expect(existsSync(join(dir, node, 'audit', `${node}.audit.jsonl`)), node).toBe(true);
        expect(existsSync(join(dir, 'logs', `${node}.log`)), node).toBe(true);
      }
      expect(run.stderr).not.toMatch(/DeprecationWarning/);

      // The auditor's view of the same run: every chain and signature holds, every hop matches…
      const jobId = /job (job-[0-9a-f]+) \(demo-breast\): completed/.exec(run.stdout)?.[1] ?? '';
      expect(jobId).not.toBe('');
      const logs = ['coordinator', 'brand', 'partner'].map((node) => join(dir, node, 'audit', `${node}.audit.jsonl`));
      const trust = ['--ca', join(dir, 'certs', 'ca.crt'), '--certs-dir', join(dir, 'certs')];
      const verify = spawnSync(process.execPath, [BIN, 'audit', 'verify', ...trust, ...logs], { encoding: 'utf8' });
      expect(verify.status, verify.stdout + verify.stderr).toBe(0);
      // …and the report says no row-level plaintext left either party.
      const out = join(dir, 'report');
      const report = spawnSync(process.execPath, [BIN, 'audit', 'report', '--job', jobId, '--out', out, ...trust, ...logs], { encoding: 'utf8' });
      expect(report.status, report.stdout + report.stderr).toBe(0);
      const json = await readFile(join(out, `${jobId}.audit-report.json`), 'utf8');
      expect(json).toContain('No row-level plaintext left brand');
      expect(json).toContain('No row-level plaintext left partner');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
