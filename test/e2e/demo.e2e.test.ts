/**
 * `tandem demo` as a user runs it: retail data generated, a coordinator and
 * two party nodes as separate processes on loopback, a lookalike and a
 * cold-start job, each with its three-way comparison and HTML report on
 * stdout; then the auditor's view of the same run.
 */
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const BIN = join(import.meta.dirname, '..', '..', 'bin', 'tandem.mjs');

/** The numbers in the first row starting with `first` of the table printed after the line starting with `heading`. */
function tableRow(text: string, heading: string, first: string): number[] {
  const after = text.slice(Math.max(0, text.indexOf(`\n${heading}`)));
  const line = after.split('\n').find((l) => l.startsWith(first)) ?? '';
  return line.slice(first.length).trim().split(/\s+/).map(Number);
}

describe('tandem demo', () => {
  it(
    'runs the retail lookalike and cold-start jobs across three processes and prints what federation bought',
    { timeout: 600_000 },
    async () => {
      const dir = await mkdtemp(join(tmpdir(), 'tandem-demo-test-'));
      try {
        const run = spawnSync(
          process.execPath,
          [BIN, 'demo', '--dir', dir, '--pool', '6000', '--members', '4000', '--features', '24'],
          { encoding: 'utf8', timeout: 590_000 },
        );
        expect(run.status, run.stderr).toBe(0);
        // Printed so CI logs carry the measured comparisons.
        console.log(
          run.stdout
            .split('\n')
            .filter((l) => /^(Lookalike|Cold start) —|^(1|5|10|20) % {2}|^(accuracy|macro-F1) {2}/.test(l))
            .join('\n'),
        );
        expect(run.stderr).not.toMatch(/DeprecationWarning/);
        for (const file of ['partner.csv', 'brand.csv', 'seeds.csv', 'manifest.json'])
          expect(existsSync(join(dir, 'data', file)), file).toBe(true);

        // Lookalike: the brand alone can only target at random; the federated audience finds far more seeds, close to pooled.
        expect(run.stdout).toMatch(/\(retail-lookalike\): completed/);
        const [alone, federated, pooled] = tableRow(run.stdout, 'Lookalike —', '20 %');
        expect(alone).toBe(0.2);
        expect(federated).toBeGreaterThan(0.3);
        expect(Math.abs((federated ?? 0) - (pooled ?? 0))).toBeLessThan(0.1);

        // Cold start: the partner's features lift the brand's category accuracy well above its own, close to pooled.
        expect(run.stdout).toMatch(/\(retail-cold-start\): completed/);
        const [aloneAccuracy, federatedAccuracy, treesAccuracy, pooledAccuracy, pooledTreesAccuracy] = tableRow(
          run.stdout,
          'Cold start —',
          'accuracy',
        );
        expect(federatedAccuracy).toBeGreaterThan((aloneAccuracy ?? 1) + 0.05);
        expect(federatedAccuracy).toBeGreaterThan((pooledAccuracy ?? 1) - 0.03);
        // Federated trees equal trees on the pooled data (the plaintext twin), and beat the brand's own best.
        expect(treesAccuracy).toBe(pooledTreesAccuracy);
        expect(treesAccuracy).toBeGreaterThan(aloneAccuracy ?? 1);
        expect(tableRow(run.stdout, 'Cold start —', 'macro-F1')).toHaveLength(5);

        const jobs = [...run.stdout.matchAll(/job (job-[0-9a-f]+) \((retail-[a-z-]+)\): completed/g)].map((m) => ({
          id: m[1] ?? '',
          name: m[2] ?? '',
        }));
        expect(jobs.map((j) => j.name)).toEqual(['retail-lookalike', 'retail-cold-start', 'retail-cold-start-trees']);
        const reports = [...run.stdout.matchAll(/^report: (.+\.report\.html)$/gm)].map((m) => m[1] ?? '');
        expect(reports).toHaveLength(jobs.length);
        for (const [k, file] of reports.entries()) {
          expect(file).toContain(jobs[k]?.id);
          expect(await readFile(file, 'utf8')).toContain('<svg');
        }
        for (const node of ['coordinator', 'brand', 'partner']) {
          expect(existsSync(join(dir, node, 'audit', `${node}.audit.jsonl`)), node).toBe(true);
          expect(existsSync(join(dir, 'logs', `${node}.log`)), node).toBe(true);
        }

        // The auditor's view of the same run: every chain and signature holds, every hop matches…
        const logs = ['coordinator', 'brand', 'partner'].map((node) => join(dir, node, 'audit', `${node}.audit.jsonl`));
        const trust = ['--ca', join(dir, 'certs', 'ca.crt'), '--certs-dir', join(dir, 'certs')];
        const verify = spawnSync(process.execPath, [BIN, 'audit', 'verify', ...trust, ...logs], { encoding: 'utf8' });
        expect(verify.status, verify.stdout + verify.stderr).toBe(0);
        // …and for each job the report says no row-level plaintext left either party.
        for (const job of jobs) {
          const out = join(dir, 'audit-report');
          const report = spawnSync(
            process.execPath,
            [BIN, 'audit', 'report', '--job', job.id, '--out', out, ...trust, ...logs],
            { encoding: 'utf8' },
          );
          expect(report.status, report.stdout + report.stderr).toBe(0);
          const json = await readFile(join(out, `${job.id}.audit-report.json`), 'utf8');
          expect(json).toContain('No row-level plaintext left brand');
          expect(json).toContain('No row-level plaintext left partner');
        }
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    },
  );
});
