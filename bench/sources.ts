/**
 * The `sources` benchmark: loading a party's dataset from a CSV file with
 * Tandem's own streaming parser, from the same CSV through DuckDB, and from
 * Parquet through DuckDB (data/duckdb-source.ts), each in its own
 * process: wall and CPU seconds, rows per second and peak RSS. Data: the
 * `scale` benchmark's seeded generator (ids, a label, 10 numeric columns).
 * It decides whether CSV keeps its own reader (issue #20: keep one path for
 * CSV unless the numbers say otherwise).
 */
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import type { Benchmark, BenchContext, BenchOutput } from './harness.ts';
import { writeSynthetic } from './scale/data.ts';
import { parseSize } from './scale.ts';
import { DEFAULT_MISSING_TOKENS, type DatasetConfig } from '../party/config.ts';
import { sourceQuery } from '../data/duckdb-source.ts';

const CHILD = join(import.meta.dirname, 'sources', 'load-one.ts');

type Measured = { rows: number; columns: number; seconds: number; cpuSeconds: number; peakRssMiB: number };

function load(config: DatasetConfig): Measured {
  return JSON.parse(
    execFileSync(process.execPath, [CHILD, JSON.stringify(config)], { encoding: 'utf8', maxBuffer: 1 << 20 }),
  ) as Measured;
}

export const sourcesBenchmark: Benchmark = {
  name: 'sources',
  description:
    "loading a dataset: CSV with Tandem's parser, CSV through DuckDB, Parquet through DuckDB (time, rows/s, peak RSS)",
  options: { rows: 'rows to generate (default 1M; --quick: 100k)' },
  async run(ctx: BenchContext): Promise<BenchOutput> {
    const rows = parseSize(ctx.options.get('rows') ?? (ctx.quick ? '100k' : '1M'));
    const work = await mkdtemp(join(tmpdir(), 'tandem-sources-'));
    try {
      ctx.progress.step(`${rows.toLocaleString('en-US')} rows: synthetic CSV`);
      const data = await writeSynthetic(
        { ids: rows, overlap: 1, guestFeatures: 10, hostFeatures: 1, seed: 'bench-sources' },
        join(work, 'guest.csv'),
        join(work, 'host.csv'),
        (done, total) => ctx.progress.detail(`${Math.round((100 * done) / total)} %`),
      );
      const parquet = join(work, 'guest.parquet');
      const db = await DuckDBInstance.create(':memory:');
      const c = await db.connect();
      await c.run(
        `COPY (SELECT * FROM read_csv('${data.guestFile}', all_varchar = true)) TO '${parquet}' (FORMAT parquet)`,
      );
      c.closeSync();
      db.closeSync();
      const base: DatasetConfig = {
        name: 'bench',
        file: data.guestFile,
        delimiter: ',',
        id: { kind: 'column', column: 'id' },
        label: { column: 'y', type: 'binary', positive: '1', negative: '0' },
        features: 'all',
        missing: { policy: 'mean', tokens: DEFAULT_MISSING_TOKENS },
        duplicateIds: 'error',
      };
      const variants: Array<[string, DatasetConfig]> = [
        ["CSV, Tandem's parser", base],
        [
          'CSV through DuckDB',
          { ...base, source: { kind: 'duckdb', sql: sourceQuery({ csv: data.guestFile }), searchPath: work } },
        ],
        [
          'Parquet through DuckDB',
          { ...base, file: parquet, source: { kind: 'duckdb', sql: sourceQuery({ parquet }), searchPath: work } },
        ],
      ];
      const out = [];
      for (const [reader, config] of variants) {
        ctx.progress.step(reader);
        const m = load(config);
        out.push({
          reader,
          rows: m.rows,
          fileMiB: (await stat(config.file)).size / 2 ** 20,
          seconds: m.seconds,
          cpuSeconds: m.cpuSeconds,
          rowsPerSecond: m.rows / m.seconds,
          peakRssMiB: m.peakRssMiB,
        });
      }
      return {
        parameters: { rows, columns: 10, label: 'binary', features: 'all', loadAverage: loadavg()[0] },
        tables: [
          {
            title: `Loading ${rows.toLocaleString('en-US')} rows × 10 columns`,
            description:
              'Each reader in its own process; the dataset loader (typing, missing values, labels, checks) is the same for all three.',
            columns: [
              { key: 'reader', label: 'reader' },
              { key: 'fileMiB', label: 'file MiB', digits: 1 },
              { key: 'seconds', label: 'wall s', digits: 2 },
              { key: 'cpuSeconds', label: 'CPU s', digits: 2 },
              { key: 'rowsPerSecond', label: 'rows/s', digits: 0 },
              { key: 'peakRssMiB', label: 'peak RSS MiB', digits: 0 },
            ],
            rows: out,
          },
        ],
        notes: [`load average at the end: ${loadavg()[0]?.toFixed(2)}`],
      };
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  },
};
