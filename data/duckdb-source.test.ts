/**
 * Datasets from Parquet, JSON and SQL through DuckDB load exactly as the
 * same rows from CSV do (same ids, values, labels, inferred types), and bad
 * input gets the same kind of error, naming the source.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, DataError } from '../protocol/errors.ts';
import { validateConfig } from '../runtime/config-file.ts';
import { compilePartyConfig, partyConfigSchema } from '../party/config.ts';
import { loadDataset } from './dataset.ts';

const CREDIT = join(import.meta.dirname, '../../shared/data/fate/default_credit_hetero_guest.csv');
let dir: string;

/** The datasets of a node config written in `dir` (paths relative to it). */
function datasets(d: Record<string, unknown>) {
  const raw = {
    node: {
      name: 'brand',
      coordinator: '127.0.0.1:7443',
      dataDir: 'data',
      certs: { ca: 'ca.crt', cert: 'b.crt', key: 'b.key' },
    },
    datasets: d,
  };
  return compilePartyConfig(validateConfig(raw, partyConfigSchema, join(dir, 'brand.yaml')), join(dir, 'brand.yaml'))
    .datasets;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tandem-duckdb-'));
  const db = await DuckDBInstance.create(':memory:');
  const c = await db.connect();
  await c.run(`COPY (SELECT * FROM read_csv('${CREDIT}')) TO '${join(dir, 'credit.parquet')}' (FORMAT parquet)`);
  await c.run(`COPY (SELECT * FROM read_csv('${CREDIT}') LIMIT 500) TO '${join(dir, 'credit.json')}' (FORMAT json)`);
  c.closeSync();
  db.closeSync();
  await writeFile(join(dir, 'mixed.csv'), 'id,y,city,spend\nu1,1,paris,3.5\nu2,0,,\nu3,1,lyon,7\n');
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('datasets through DuckDB', () => {
  it('loads a Parquet file exactly as the same rows from CSV', async () => {
    const d = datasets({
      csv: { file: CREDIT, id: 'id', label: { column: 'y' } },
      parquet: { source: { parquet: 'credit.parquet' }, id: 'id', label: { column: 'y' } },
    });
    const [fromCsv, fromParquet] = await Promise.all([loadDataset(d['csv']!), loadDataset(d['parquet']!)]);
    expect(fromParquet.rowCount).toBe(30_000);
    expect(fromParquet.ids).toEqual(fromCsv.ids);
    expect(fromParquet.columns).toEqual(fromCsv.columns);
    expect(Buffer.from(fromParquet.features.buffer).equals(Buffer.from(fromCsv.features.buffer))).toBe(true);
    expect([...fromParquet.labels!]).toEqual([...fromCsv.labels!]);
  });

  it('takes a SQL query over files, relative to the config, and types text and nulls as a CSV would', async () => {
    const d = datasets({
      q: {
        source: { sql: "SELECT id, y, city, spend FROM read_csv('mixed.csv', all_varchar = true) WHERE id <> 'u3'" },
        id: 'id',
        label: { column: 'y' },
      },
      json: { source: { json: 'credit.json' }, id: 'id', label: { column: 'y' } },
    });
    const q = await loadDataset(d['q']!);
    expect(q.ids).toEqual(['u1', 'u2']);
    expect(q.columns.map((c) => [c.name, c.kind])).toEqual([
      ['city', 'categorical'],
      ['spend', 'numeric'],
    ]);
    expect(Number.isNaN(q.features[3])).toBe(true); // u2's spend: NULL is a missing value
    expect((await loadDataset(d['json']!)).rowCount).toBe(500);
  });

  it("names the source and DuckDB's reason when the query fails, and a bad value by row and column", async () => {
    const d = datasets({
      broken: { source: { sql: 'SELEC nothing' }, id: 'id' },
      missing: { source: { parquet: 'nowhere.parquet' }, id: 'id' },
      text: { source: { sql: "SELECT 'u1' AS id, 'abc' AS x" }, id: 'id', features: [{ name: 'x', type: 'numeric' }] },
    });
    const broken = await loadDataset(d['broken']!).catch((e: unknown) => e);
    expect(broken).toBeInstanceOf(DataError);
    expect((broken as DataError).message).toMatch(
      /brand\.yaml \(datasets\.broken\.source\.sql\): DuckDB could not run the dataset's query: .*syntax error/i,
    );
    expect(((await loadDataset(d['missing']!).catch((e: unknown) => e)) as DataError).message).toMatch(
      /nowhere\.parquet: DuckDB could not run/,
    );
    const text = (await loadDataset(d['text']!).catch((e: unknown) => e)) as DataError;
    expect(text.code).toBe('DATA_VALUE_INVALID');
    expect(text.message).toContain('"x"');
  });

  it('refuses a dataset with both file and source, or a source with two keys', () => {
    expect(() => datasets({ a: { file: 'x.csv', source: { parquet: 'x.parquet' }, id: 'id' } })).toThrow(ConfigError);
    expect(() => datasets({ a: { source: { parquet: 'x.parquet', sql: 'select 1' }, id: 'id' } })).toThrow(
      /exactly one of parquet, csv, json, sql/,
    );
    expect(() => datasets({ a: { id: 'id' } })).toThrow(/file.*is missing/);
  });
});
