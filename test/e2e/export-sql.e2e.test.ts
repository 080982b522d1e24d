/**
 * `tandem model export --format sql` from the command line, on real files:
 * each party's model part (numeric columns, a categorical one, missing and
 * unseen values in the pool) is written as a DuckDB query, which DuckDB runs
 * over the pool CSV, and every row's partial logit equals what
 * `tandem model score-pool` writes for the same pool with the exported
 * (signed) bundle, to 1e-9; the Spark SQL and BigQuery queries on standard
 * output parse; bad flags and parts without a SQL form are refused by name.
 * The same fixture serves `tandem serve --log-format` (json or pretty lines
 * whatever stderr is).
 */
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import nodeSqlParser from 'node-sql-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initCertificates } from '../../runtime/certificate-authority.ts';
import { Random } from '../../protocol/random.ts';
import type { ModelPart } from '../../models/lr/part.ts';
import {
  runCli,
  serve,
  syntheticServing,
  writeServingCli,
  SYNTHETIC_GUEST_COLUMNS,
  writeServingFixture,
} from '../support/serving.ts';

const JOB = 'job-5e5e5e5e5e';

let dir: string;
let cli: string;
let parts: { guest: ModelPart; host: ModelPart };
const pools = { brand: '', partner: '' };

/** Writes a part where the job left it: `<dataDir>/jobs/<job>/model-part.json`. */
async function placePart(name: string, part: object, jobId = JOB): Promise<void> {
  const jobDir = join(dir, `${name}-data`, 'jobs', jobId);
  await mkdir(jobDir, { recursive: true, mode: 0o700 });
  await writeFile(join(jobDir, 'model-part.json'), JSON.stringify(part), { mode: 0o600 });
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tandem-export-sql-'));
  await initCertificates({ outDir: join(dir, 'certs'), parties: ['brand', 'partner'] });
  const synthetic = syntheticServing({ hosts: 300, shared: 200, guestOnly: 100 });
  parts = { guest: { ...synthetic.parts.guest, jobId: JOB }, host: { ...synthetic.parts.host, jobId: JOB } };
  // The bundles `model score-pool` scores with, and the node configs (dataDir ./<name>-data).
  await writeServingFixture(dir, parts, synthetic.data, '{ column: y }');
  await placePart('brand', parts.guest);
  await placePart('partner', parts.host);
  cli = await writeServingCli({
    write: async (name, value) => {
      await writeFile(join(dir, name), String(value));
      return join(dir, name);
    },
  });
  // Pools with what scoring must handle: missing tokens, blanks, padded numbers, unseen, missing and padded categories.
  // (Rows score-pool refuses, such as "n/a?" in a number column, stop score-pool; sql-export.test.ts shows SQL scores them NULL.)
  const r = new Random('export-sql-pool');
  const cell = (k: number): string => {
    const u = r.nextFloat();
    const x = (10 * k - 20 + (1 + k / 4) * r.nextGaussian()).toFixed(6);
    return u < 0.04 ? 'NA' : u < 0.08 ? '' : u < 0.1 ? ` ${x} ` : x;
  };
  const channels = ['web', 'app', 'store', 'kiosk', 'NA', ' web '];
  const brandRows = Array.from({ length: 500 }, (_, i) =>
    [
      `b${i}`,
      ...SYNTHETIC_GUEST_COLUMNS.map((_, k) => cell(k)),
      channels[Math.floor(r.nextFloat() * channels.length)] ?? '',
    ].join(','),
  );
  const partnerRows = Array.from({ length: 500 }, (_, i) => [`p${i}`, 'extra', ...[0, 1, 2, 3].map(cell)].join(','));
  pools.brand = join(dir, 'brand-pool.csv');
  pools.partner = join(dir, 'partner-pool.csv');
  await writeFile(pools.brand, `${['id', ...SYNTHETIC_GUEST_COLUMNS, 'channel'].join(',')}\n${brandRows.join('\n')}\n`);
  await writeFile(pools.partner, `id,ignored,z0,z1,z2,z3\n${partnerRows.join('\n')}\n`);
}, 60_000);

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function duckdb(sql: string): Promise<Map<string, number>> {
  const db = await DuckDBInstance.create(':memory:');
  const c = await db.connect();
  try {
    const rows = (await c.runAndReadAll(sql)).getRowsJson() as unknown[][];
    return new Map(rows.map((row) => [String(row[0]), Number(row[1])]));
  } finally {
    c.closeSync();
    db.closeSync();
  }
}

async function scorePoolCsv(name: 'brand' | 'partner'): Promise<Map<string, number>> {
  const out = join(dir, `${name}-audience.csv`);
  const run = await runCli(cli, [
    'model',
    'score-pool',
    '--config',
    join(dir, `${name}.yaml`),
    '--model',
    join(dir, `${name}-model`),
    '--pool',
    pools[name],
    '--out',
    out,
  ]);
  expect(run.status, run.stderr).toBe(0);
  const lines = (await readFile(out, 'utf8')).trim().split('\n').slice(1);
  return new Map(lines.map((l) => l.split(',')).map(([, id, score]) => [id ?? '', Number(score)]));
}

describe('tandem model export --format sql', () => {
  it.each(['brand', 'partner'] as const)(
    "writes %s's part as a DuckDB query that scores the pool as model score-pool does (1e-9)",
    { timeout: 60_000 },
    async (name) => {
      const file = join(dir, 'sql-out', `${name}.sql`);
      const table = `read_csv('${pools[name]}', all_varchar = true)`;
      const run = await runCli(cli, [
        'model',
        'export',
        '--config',
        join(dir, `${name}.yaml`),
        '--job',
        JOB,
        '--format',
        'sql',
        '--dialect',
        'duckdb',
        '--table',
        table,
        '--out',
        file,
      ]);
      expect(run.status, run.stderr).toBe(0);
      expect(run.stdout).toContain(`as duckdb SQL to ${file}: reads ${table}, returns id, partial_logit`);
      expect((await stat(file)).mode & 0o777).toBe(0o600);
      expect((await stat(join(dir, 'sql-out'))).mode & 0o777).toBe(0o700);
      const sql = await readFile(file, 'utf8');
      expect(sql).toMatch(name === 'brand' ? /guest\) part, with the intercept/ : /host\) part, without an intercept/);
      const viaSql = await duckdb(sql);
      const viaScorer = await scorePoolCsv(name);
      expect(viaScorer.size).toBe(500);
      expect(viaSql.size).toBe(500);
      let worst = 0;
      for (const [id, score] of viaScorer) worst = Math.max(worst, Math.abs(score - (viaSql.get(id) ?? NaN)));
      console.log(`${name}: SQL vs score-pool, worst |Δ| over 500 rows = ${worst.toExponential(2)}`);
      expect(worst).toBeLessThan(1e-9);
    },
  );

  it(
    "prints Spark SQL and BigQuery queries on standard output that a SQL parser accepts, reading the party's dataset by default",
    { timeout: 60_000 },
    async () => {
      const parser = new nodeSqlParser.Parser();
      for (const [dialect, database] of [
        ['spark', 'hive'],
        ['bigquery', 'bigquery'],
      ] as const) {
        const run = await runCli(cli, [
          'model',
          'export',
          '--config',
          join(dir, 'brand.yaml'),
          '--job',
          JOB,
          '--format',
          'sql',
          '--dialect',
          dialect,
          ...(dialect === 'bigquery' ? ['--table', 'crm.users', '--id', 'user_id'] : []),
        ]);
        expect(run.status, run.stderr).toBe(0);
        expect(run.stdout).toContain(dialect === 'bigquery' ? 'FROM crm.users' : 'FROM d\n');
        expect(run.stdout).toContain(dialect === 'bigquery' ? '`user_id` AS id' : '`id` AS id');
        // The parser's Hive grammar (the closest to Spark SQL it has) lacks Spark 3.2's TRY_CAST.
        const sql = dialect === 'spark' ? run.stdout.replaceAll('TRY_CAST(', 'CAST(') : run.stdout;
        expect(() => parser.astify(sql, { database }), dialect).not.toThrow();
      }
    },
  );

  it(
    'refuses an unknown dialect, SQL flags without --format sql, and a part whose family has no SQL form, saying what works',
    { timeout: 60_000 },
    async () => {
      const base = ['model', 'export', '--config', join(dir, 'partner.yaml'), '--job', JOB];
      const oracle = await runCli(cli, [...base, '--format', 'sql', '--dialect', 'oracle']);
      expect(oracle.status).toBe(64);
      expect(oracle.stderr).toContain(
        'error ARGUMENT_INVALID: --dialect oracle: no such SQL dialect. Fix: use one of: duckdb, spark, bigquery',
      );
      const noFormat = await runCli(cli, [...base, '--dialect', 'spark']);
      expect(noFormat.status).toBe(64);
      expect(noFormat.stderr).toContain('--dialect applies to --format sql only');
      const csv = await runCli(cli, [...base, '--format', 'csv']);
      expect(csv.stderr).toContain('--format csv: no such export format. Fix: use one of: bundle, sql');
      // A part of another model family (as a tree model's would be): its header is valid, its family is not linear.
      const trees = 'job-7ee7ee7ee7';
      const { featureNames: _f, weights: _w, intercept: _i, preprocess: _p, ...header } = parts.host;
      await placePart('partner', { ...header, jobId: trees, kind: 'hetero', family: 'trees', trees: [] }, trees);
      const tree = await runCli(cli, [
        'model',
        'export',
        '--config',
        join(dir, 'partner.yaml'),
        '--job',
        trees,
        '--format',
        'sql',
      ]);
      expect(tree.status).toBe(64);
      expect(tree.stderr).toContain(
        `job ${trees} trained trees; \`tandem model export --format sql\` supports lr models only`,
      );
      expect(tree.stderr).toContain('Fix: export it as a bundle');
    },
  );
});

describe('tandem serve --log-format', () => {
  it.each(['json', 'pretty'] as const)(
    'writes %s log lines on stderr whatever stderr is (here a pipe)',
    { timeout: 60_000 },
    async (format) => {
      const served = await serve(
        cli,
        ['--model', join(dir, 'partner-model'), '--config', join(dir, 'partner.yaml'), '--log-format', format],
        'info',
      );
      served.child.kill('SIGTERM');
      await served.exited;
      // The start-up line: "serving" with the job id.
      const serving = served
        .stderr()
        .split('\n')
        .find((l) => l.includes(JOB) && /\bserving\b(?!\/)/.test(l));
      expect(serving, served.stderr()).toBeDefined();
      if (format === 'json') expect(JSON.parse(serving ?? '')).toMatchObject({ msg: 'serving', job: JOB });
      else expect(() => JSON.parse(serving ?? '') as unknown, serving).toThrow();
    },
  );
});
