/**
 * The SQL export scores like `tandem model score-pool`: DuckDB runs the
 * query on the pool file and every row's partial logit matches the scorer
 * to 1e-9 (standardised and binned numbers, one-hot categories, unseen and
 * missing values, indicators, row clipping, several outputs), and the rows
 * the scorer refuses score NULL; Spark SQL and BigQuery queries are parsed
 * by an independent SQL parser.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import nodeSqlParser from 'node-sql-parser';
import { DEFAULT_MISSING_TOKENS, type DatasetConfig } from '../party/config.ts';
import { loadDataset } from '../data/dataset.ts';
import { fitPreprocess, type PreprocessSpec } from '../data/preprocess.ts';
import { Random } from '../protocol/random.ts';
import { partialScore, partialScores } from './scorer.ts';
import { modelSql, type SqlModel } from './sql-export.ts';

let dir: string;
let pool: string;
const rows: Record<string, string>[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tandem-sql-'));
  const r = new Random('sql-export');
  const cities = ['paris', 'lyon', 'nice', "o'hare"];
  const lines = ['id,age,spend,city'];
  for (let i = 0; i < 400; i++) {
    const row = {
      id: `u${i}`,
      age: r.nextFloat() < 0.05 ? 'NA' : String(18 + Math.floor(r.nextFloat() * 60)),
      spend: r.nextFloat() < 0.05 ? '' : (r.nextGaussian() * 100 + 250).toFixed(3),
      // Unseen categories (rome) and missing ones appear only after the fitted rows.
      city: i >= 300 && i % 7 === 0 ? 'rome' : i >= 300 && i % 11 === 0 ? 'NA' : (cities[i % 4] ?? ''),
    };
    rows.push(row);
    lines.push(`${row.id},${row.age},${row.spend},"${row.city.replaceAll('"', '""')}"`);
  }
  pool = join(dir, 'pool.csv');
  await writeFile(pool, `${lines.join('\n')}\n`);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function spec(policy: 'mean' | 'zero' | 'indicator', bins?: number): Promise<PreprocessSpec> {
  const config: DatasetConfig = {
    name: 'pool',
    file: pool,
    delimiter: ',',
    id: { kind: 'column', column: 'id' },
    label: undefined,
    features: [
      { name: 'age', type: 'numeric' },
      { name: 'spend', type: 'numeric' },
      { name: 'city', type: 'categorical' },
    ],
    missing: { policy, tokens: DEFAULT_MISSING_TOKENS },
    duplicateIds: 'error',
  };
  return fitPreprocess(
    await loadDataset(config),
    Uint32Array.from({ length: 300 }, (_, i) => i),
    config.missing,
    bins === undefined ? {} : { bins },
  );
}

function model(preprocess: PreprocessSpec, outputs: number, rowClip: number | null): SqlModel {
  const r = new Random(`weights-${outputs}-${preprocess.outputColumns.length}`);
  return {
    preprocess,
    outputs,
    rowClip,
    weights: Float64Array.from({ length: outputs * preprocess.outputColumns.length }, () => r.nextGaussian()),
    intercepts: Float64Array.from({ length: outputs }, () => r.nextGaussian()),
  };
}

async function viaDuckDb(sql: string): Promise<Map<string, number[]>> {
  return new Map([...(await viaDuckDbNullable(sql))].map(([id, values]) => [id, values.map(Number)]));
}

async function viaDuckDbNullable(sql: string): Promise<Map<string, (number | null)[]>> {
  const db = await DuckDBInstance.create(':memory:');
  const c = await db.connect();
  const result = await c.runAndReadAll(sql);
  const out = new Map(
    (result.getRowsJson() as unknown[][]).map((row) => [
      String(row[0]),
      row.slice(1).map((v) => (v === null ? null : Number(v))),
    ]),
  );
  c.closeSync();
  db.closeSync();
  return out;
}

describe('scoring as SQL', () => {
  const cases = [
    { name: 'standardised, mean imputation', policy: 'mean', bins: undefined, outputs: 1, clip: null },
    { name: 'indicators for missing values', policy: 'indicator', bins: undefined, outputs: 1, clip: null },
    { name: 'quantile bins, zero imputation', policy: 'zero', bins: 5, outputs: 1, clip: null },
    { name: 'three outputs with a DP row clip', policy: 'mean', bins: 4, outputs: 3, clip: 1.5 },
  ] as const;

  it.each(cases)(
    'matches the scorer to 1e-9 on every row in DuckDB: $name',
    async ({ policy, bins, outputs, clip }) => {
      const m = model(await spec(policy, bins), outputs, clip);
      const sql = modelSql(m, { dialect: 'duckdb', table: `read_csv('${pool}', all_varchar = true)` });
      const got = await viaDuckDb(sql);
      expect(got.size).toBe(rows.length);
      let worst = 0;
      for (const row of rows) {
        const expected =
          outputs === 1
            ? [
                partialScore(
                  {
                    preprocess: m.preprocess,
                    weights: Float64Array.from(m.weights),
                    intercept: m.intercepts[0] ?? 0,
                    rowClip: clip,
                  },
                  row,
                ),
              ]
            : [
                ...partialScores(
                  {
                    preprocess: m.preprocess,
                    weights: Float64Array.from(m.weights),
                    intercept: 0,
                    intercepts: Float64Array.from(m.intercepts),
                    outputs,
                    rowClip: clip,
                  },
                  row,
                ),
              ];
        const actual = got.get(row['id'] ?? '') ?? [];
        expect(actual).toHaveLength(outputs);
        expected.forEach((e, c) => (worst = Math.max(worst, Math.abs(e - (actual[c] ?? NaN)))));
      }
      expect(worst).toBeLessThan(1e-9);
    },
  );

  it.each(['mean', 'error'] as const)(
    'scores NULL exactly the rows the scorer refuses (missing policy %s)',
    async (policy) => {
      // Fitted with mean imputation; 'error' is then what a job with missing.policy error would have saved.
      const fitted = await spec('mean', policy === 'mean' ? 3 : undefined);
      const m = model({ ...fitted, missingPolicy: policy }, 1, null);
      const file = join(dir, `refused-${policy}.csv`);
      const cells = [
        ['ok', '30', '100.5', 'paris'],
        ['word', 'thirty', '100', 'lyon'],
        ['spaces', ' ', '100', 'nice'],
        ['na', 'NA', '', 'nice'],
        ['hex', '0x1A', '1', 'paris'],
        ['inf', '40', 'Infinity', 'lyon'],
        ['nan', 'nan', '1', 'lyon'],
        ['huge', '1e400', '1', 'lyon'],
        ['underscore', '1_000', '1', 'lyon'],
        ['city-na', '50', '7', 'NA'],
        ['padded', ' 41 ', ' 2.5e1 ', ' lyon '],
      ];
      await writeFile(file, `id,age,spend,city\n${cells.map((r) => r.join(',')).join('\n')}\n`);
      const got = await viaDuckDbNullable(
        modelSql(m, { dialect: 'duckdb', table: `read_csv('${file}', all_varchar = true)` }),
      );
      const refused: string[] = [];
      for (const [id, age, spend, city] of cells) {
        let expected: number | null;
        try {
          expected = partialScore(
            {
              preprocess: m.preprocess,
              weights: Float64Array.from(m.weights),
              intercept: m.intercepts[0] ?? 0,
              rowClip: null,
            },
            { age, spend, city },
          );
        } catch {
          expected = null;
          refused.push(id ?? '');
        }
        const actual = got.get(id ?? '')?.[0];
        // JavaScript reads hexadecimal; the SQL casts refuse it (documented in sql-export.ts): NULL, never a wrong score.
        if (expected === null || id === 'hex') expect(actual, id).toBeNull();
        else expect(Math.abs(expected - (actual ?? NaN)), id).toBeLessThan(1e-9);
      }
      // The scorer itself refuses these (so the test compares something): non-numbers, and under 'error' every missing value.
      expect(refused).toEqual(
        policy === 'mean'
          ? ['word', 'inf', 'nan', 'huge', 'underscore']
          : ['word', 'spaces', 'na', 'inf', 'nan', 'huge', 'underscore', 'city-na'],
      );
    },
  );

  it('writes Spark SQL and BigQuery queries a SQL parser accepts', async () => {
    const m = model(await spec('indicator', 4), 2, 2);
    const parser = new nodeSqlParser.Parser();
    for (const [dialect, database] of [
      ['bigquery', 'bigquery'],
      ['spark', 'hive'],
    ] as const) {
      const sql = modelSql(m, { dialect, table: 'crm.users', idColumn: 'user_id' });
      // The parser's Hive grammar (the closest to Spark SQL it has) lacks Spark 3.2's TRY_CAST; the rest must parse.
      const parsed = dialect === 'spark' ? sql.replaceAll('TRY_CAST(', 'CAST(') : sql;
      expect(() => parser.astify(parsed, { database }), dialect).not.toThrow();
      expect(sql).toContain(dialect === 'bigquery' ? 'SAFE_CAST' : 'TRY_CAST');
    }
  });
});
