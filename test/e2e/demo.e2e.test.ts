/**
 * `tandem demo` as a user runs it: a coordinator and two party nodes as
 * separate processes on loopback, one job, the summary on stdout.
 */
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
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
      const auc = Number(/AUC\s+([0-9.]+)/.exec(run.stdout)?.[1]);
      expect(auc).toBeGreaterThan(0.98);
      for (const node of ['coordinator', 'brand', 'partner']) {
        expect(existsSync(join(dir, node, 'audit', `${node}.audit.jsonl`)), node).toBe(true);
        expect(existsSync(join(dir, 'logs', `${node}.log`)), node).toBe(true);
      }
      expect(run.stderr).not.toMatch(/DeprecationWarning/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
