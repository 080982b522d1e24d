/**
 * Exporting a lookalike trees model: after a real lookalike job with
 * `model: { family: trees }`, the partner (host) holds the whole model (the
 * trees the brand grew, every split on the partner's own columns), exports
 * it as a co-signed trees bundle, and `tandem model score-pool` re-scores
 * its pool into the job's own audience.csv, line for line (rank, id,
 * score). SQL has no tree walk, and says so with the way out; `tandem
 * serve` refuses the keyless part as it does an LR lookalike part.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { partyConfigFile, runJob, type Federation } from '../support/federation.ts';
import { runCli, writeServingCli } from '../support/serving.ts';
import { lookalikeFederation } from '../support/lookalike.ts';

const POOL_ROWS = 6000;

describe('lookalike trees export: the partner re-scores its pool', () => {
  let fed: Federation;
  let dir: string;
  let cli: string;
  let jobId: string;
  let pool: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tandem-lookalike-trees-export-'));
    ({ fed, pool } = await lookalikeFederation(dir, POOL_ROWS));
    cli = await writeServingCli(fed);
    const result = await runJob(
      fed,
      {
        name: 'lookalike-trees-export',
        kind: 'lookalike',
        seed: 7,
        model: { family: 'trees', rounds: 12, maxDepth: 3 },
        parties: [
          { name: 'brand', role: 'guest', dataset: 'seeds' },
          { name: 'partner', role: 'host', dataset: 'pool' },
        ],
        lookalike: { decoyRatio: 1, audiencePercent: 10 },
      },
      'lookalike-trees.yaml',
    );
    expect(result.stage, result.message).toBe('completed');
    jobId = result.jobId;
  }, 300_000);

  afterAll(async () => {
    await fed.close();
    await rm(dir, { recursive: true, force: true });
  });

  const model = (): string => join(dir, 'partner-model');

  it(
    "exports the partner's trees without a scoring key, and score-pool writes the job's audience.csv exactly",
    { timeout: 120_000 },
    async () => {
      const exported = await runCli(cli, [
        'model',
        'export',
        '--config',
        partyConfigFile(fed, 'partner'),
        '--job',
        jobId,
        '--out',
        model(),
      ]);
      expect(exported.status, exported.stderr).toBe(0);
      expect(exported.stdout).toMatch(
        new RegExp(`exported host part of ${jobId} to .* \\(co-signed by coordinator\\)`),
      );
      expect((await readdir(model())).sort()).toEqual(['manifest.json', 'preprocess.json', 'trees.json']);
      const manifest = JSON.parse(await readFile(join(model(), 'manifest.json'), 'utf8')) as {
        family: string;
        output: string;
      };
      expect(manifest).toMatchObject({ family: 'trees', output: 'logit' });

      const job = (await readFile(join(fed.dir, 'partner', 'jobs', jobId, 'audience.csv'), 'utf8')).trim().split('\n');
      expect(job.length - 1).toBe(Math.ceil(POOL_ROWS * 0.1));
      const out = join(dir, 'rescored.csv');
      const scored = await runCli(cli, [
        'model',
        'score-pool',
        '--config',
        partyConfigFile(fed, 'partner'),
        '--model',
        model(),
        '--pool',
        pool,
        '--out',
        out,
        '--top',
        String(job.length - 1),
      ]);
      expect(scored.status, scored.stderr).toBe(0);
      const rescored = (await readFile(out, 'utf8')).trim().split('\n');
      // Trees give many equal scores: the same ranks, ids and scores line for line means ties broke the same way too.
      // How many distinct scores the audience holds depends on the rows the guest's node secret drew (a CI run once got 4):
      // more than one, so ranks matter, and fewer than the rows, so ties do.
      const scores = rescored.slice(1).map((l) => l.split(',')[2]);
      expect(new Set(scores).size).toBeGreaterThan(1);
      expect(new Set(scores).size).toBeLessThan(scores.length);
      expect(rescored).toEqual(job);
    },
  );

  it('refuses SQL for trees by name, with the bundle as the way out', { timeout: 60_000 }, async () => {
    const run = await runCli(cli, [
      'model',
      'export',
      '--config',
      partyConfigFile(fed, 'partner'),
      '--job',
      jobId,
      '--format',
      'sql',
    ]);
    expect(run.status).toBe(64);
    expect(run.stderr).toContain(
      `error ARGUMENT_INVALID: job ${jobId} trained trees; \`tandem model export --format sql\` supports lr models only`,
    );
    expect(run.stderr).toContain(
      'Fix: export it as a bundle (drop --format sql) and score with `tandem model score-pool`',
    );
  });

  it(
    'refuses to serve the keyless lookalike trees part online, and says how to score it',
    { timeout: 60_000 },
    async () => {
      const run = await runCli(cli, [
        'serve',
        '--model',
        model(),
        '--config',
        partyConfigFile(fed, 'partner'),
        '--port',
        '0',
        '--peer-port',
        '0',
      ]);
      expect(run.status).toBe(64);
      expect(run.stderr).toContain(
        `a lookalike model without a pseudonym key: its users cannot be looked up online, by design. Fix: rank the pool at partner with \`tandem model score-pool --model ${model()}\``,
      );
    },
  );
});
