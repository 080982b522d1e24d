/**
 * Exporting a lookalike model: after a real lookalike job (brand's seeds,
 * partner's pool of default-credit users), the partner exports its part
 * (co-signed; no scoring key, since a lookalike job agrees none) and
 * `tandem model score-pool` re-scores the pool into the job's own audience:
 * the same ids in the same order, the same scores. The same part as DuckDB
 * SQL scores the pool identically. The brand, which holds no features, is
 * told so and what to do; `tandem serve` refuses the keyless part by name.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { partyConfigFile, runJob, type Federation } from '../support/federation.ts';
import { runCli, writeServingCli } from '../support/serving.ts';
import { lookalikeFederation } from '../support/lookalike.ts';

const POOL_ROWS = 8000;

describe('lookalike export: the partner re-scores its pool', () => {
  let fed: Federation;
  let dir: string;
  let cli: string;
  let jobId: string;
  let pool: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tandem-lookalike-export-'));
    ({ fed, pool } = await lookalikeFederation(dir, POOL_ROWS));
    cli = await writeServingCli(fed);
    const result = await runJob(fed, {
      name: 'lookalike-export',
      kind: 'lookalike',
      seed: 7,
      parties: [
        { name: 'brand', role: 'guest', dataset: 'seeds' },
        { name: 'partner', role: 'host', dataset: 'pool' },
      ],
      lookalike: { decoyRatio: 1, audiencePercent: 10 },
      training: { maxEpochs: 3 },
    });
    expect(result.stage, result.message).toBe('completed');
    jobId = result.jobId;
  }, 300_000);

  afterAll(async () => {
    await fed.close();
    await rm(dir, { recursive: true, force: true });
  });

  const audienceLines = async (file: string): Promise<string[][]> =>
    (await readFile(file, 'utf8'))
      .trim()
      .split('\n')
      .slice(1)
      .map((l) => l.split(','));

  it(
    "exports the partner's part without a scoring key, and score-pool ranks the pool into the job's audience",
    { timeout: 120_000 },
    async () => {
      const model = join(dir, 'partner-model');
      const exported = await runCli(cli, [
        'model',
        'export',
        '--config',
        partyConfigFile(fed, 'partner'),
        '--job',
        jobId,
        '--out',
        model,
      ]);
      expect(exported.status, exported.stderr).toBe(0);
      expect(exported.stdout).toMatch(
        new RegExp(`exported host part of ${jobId} to .* \\(co-signed by coordinator\\)`),
      );
      expect((await readdir(model)).sort()).toEqual([
        'manifest.json',
        'model.json',
        'preprocess.json',
        'scoring.json',
        'weights.bin',
      ]);

      const job = await audienceLines(join(fed.dir, 'partner', 'jobs', jobId, 'audience.csv'));
      expect(job.length).toBe(Math.ceil(POOL_ROWS * 0.1));
      const out = join(dir, 'rescored.csv');
      const scored = await runCli(cli, [
        'model',
        'score-pool',
        '--config',
        partyConfigFile(fed, 'partner'),
        '--model',
        model,
        '--pool',
        pool,
        '--out',
        out,
        '--top',
        String(job.length),
      ]);
      expect(scored.status, scored.stderr).toBe(0);
      const rescored = await audienceLines(out);
      expect(rescored.map((r) => r[1])).toEqual(job.map((r) => r[1]));
      expect(rescored.map((r) => r[0])).toEqual(job.map((r) => r[0]));
      const worst = rescored.reduce((w, r, k) => Math.max(w, Math.abs(Number(r[2]) - Number(job[k]?.[2]))), 0);
      console.log(
        `lookalike re-scoring: top ${job.length} of ${POOL_ROWS} ids equal in order; worst |Δscore| = ${worst.toExponential(2)}`,
      );
      expect(worst).toBeLessThan(1e-6);

      // The same part as SQL, run by DuckDB over the same pool file: the same scores for every row.
      const sql = await runCli(cli, [
        'model',
        'export',
        '--config',
        partyConfigFile(fed, 'partner'),
        '--job',
        jobId,
        '--format',
        'sql',
        '--table',
        `read_csv('${pool}', all_varchar = true)`,
      ]);
      expect(sql.status, sql.stderr).toBe(0);
      expect(sql.stdout).toContain('lookalike model: rank the pool by partial_logit');
      const db = await DuckDBInstance.create(':memory:');
      const c = await db.connect();
      const rows = (
        await c.runAndReadAll(
          `SELECT id, partial_logit FROM (${sql.stdout.trim().replace(/;$/, '')}) ORDER BY partial_logit DESC LIMIT ${job.length}`,
        )
      ).getRowsJson() as unknown[][];
      c.closeSync();
      db.closeSync();
      const viaSql = rows.reduce(
        (w, [, score], k) => Math.max(w, Math.abs(Number(score) - Number(rescored[k]?.[2]))),
        0,
      );
      expect(new Set(rows.map((r) => String(r[0])))).toEqual(new Set(job.map((r) => r[1])));
      expect(viaSql).toBeLessThan(1e-9);
    },
  );

  it(
    'tells the brand it holds no features and the partner exports and scores its pool',
    { timeout: 60_000 },
    async () => {
      for (const format of ['bundle', 'sql']) {
        const run = await runCli(cli, [
          'model',
          'export',
          '--config',
          partyConfigFile(fed, 'brand'),
          '--job',
          jobId,
          '--format',
          format,
        ]);
        expect(run.status).toBe(64);
        expect(run.stderr).toContain(
          `error ARGUMENT_INVALID: job ${jobId} is a lookalike job and brand is its brand (guest): the brand holds no features in a lookalike model`,
        );
        expect(run.stderr).toContain('Fix: the partner (partner) exports its part');
      }
    },
  );

  it('refuses to serve the keyless lookalike part online, and says how to score it', { timeout: 60_000 }, async () => {
    const model = join(dir, 'partner-model');
    const run = await runCli(cli, [
      'serve',
      '--model',
      model,
      '--config',
      partyConfigFile(fed, 'partner'),
      '--port',
      '0',
      '--peer-port',
      '0',
    ]);
    expect(run.status).toBe(64);
    expect(run.stderr).toContain(
      `a lookalike model without a pseudonym key: its users cannot be looked up online, by design. Fix: rank the pool at partner with \`tandem model score-pool --model ${model}\``,
    );
  });
});
