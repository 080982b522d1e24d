import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DataError } from '../protocol/errors.ts';
import type { DatasetConfig, FeatureConfig, MissingConfig } from '../party/config.ts';
import { openCsv } from './csv-reader.ts';
import { loadDataset, type Dataset } from './dataset.ts';
import { fitAndTransformAsync, fitPreprocess, transformRow, transformRows, type PreprocessSpec } from './preprocess.ts';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tandem-preprocess-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const tokens = ['', 'NA'];
const features: FeatureConfig[] = [
  { name: 'a', type: 'numeric' },
  { name: 'b', type: 'numeric' },
  { name: 'c', type: 'categorical' },
];
// Rows 0-3 are fitted; row 4 has an unseen category and row 5 only missing values.
const fixture = 'id,a,b,c\n1,1,5,red\n2,2,5,blue\n3,NA,5,red\n4,5,5,NA\n5,4,5,green\n6,NA,NA,NA\n';
const fitted = Uint32Array.of(0, 1, 2, 3);
const all = Uint32Array.of(0, 1, 2, 3, 4, 5);

function config(file: string, overrides: Partial<DatasetConfig> = {}): DatasetConfig {
  return {
    name: 'test',
    file,
    delimiter: ',',
    id: { kind: 'column', column: 'id' },
    label: undefined,
    features,
    missing: { policy: 'mean', tokens },
    duplicateIds: 'error',
    ...overrides,
  };
}

async function fixtureDataset(): Promise<Dataset> {
  const file = join(dir, 'fixture.csv');
  await writeFile(file, fixture);
  return loadDataset(config(file));
}

function policy(name: MissingConfig['policy']): MissingConfig {
  return { policy: name, tokens };
}

function rowsOf(matrix: Float64Array, width: number): number[][] {
  return Array.from({ length: matrix.length / width }, (_, r) => [...matrix.subarray(r * width, (r + 1) * width)]);
}

describe('fitPreprocess and transformRows', () => {
  it('standardises with the fitted rows only, and one-hot encodes the sorted categories seen in them', async () => {
    const data = await fixtureDataset();

    const spec = fitPreprocess(data, fitted, policy('mean'));
    const { matrix, columns } = transformRows(spec, data, all);

    // a over the fitted rows: 1, 2, 5 → mean 8/3, population std √(26/9).
    const a = spec.columns[0];
    const std = a?.kind === 'numeric' ? a.std : NaN;
    expect(a).toMatchObject({ kind: 'numeric', mean: 8 / 3, indicator: false });
    expect(std).toBeCloseTo(Math.sqrt(26 / 9), 15);
    expect(columns).toEqual(['a', 'b', 'c=blue', 'c=red']);
    expect(rowsOf(matrix, 4)).toEqual([
      [(1 - 8 / 3) / std, 0, 0, 1],
      [(2 - 8 / 3) / std, 0, 1, 0],
      [0, 0, 0, 1],
      [(5 - 8 / 3) / std, 0, 0, 0],
      [(4 - 8 / 3) / std, 0, 0, 0],
      [0, 0, 0, 0],
    ]);
  });

  it('with bins, one-hot encodes each numeric column over quantile bins fitted on the fitted rows, imputing a missing value first', async () => {
    const data = await fixtureDataset();

    const spec = fitPreprocess(data, all, policy('mean'), { bins: 3 });
    const { matrix, columns } = transformRows(spec, data, all);

    // a over all rows: 1, 2, 5, 4 (two missing) → sorted 1 2 4 5, cut at the 1/3 and 2/3 quantiles: 2 and 4; b is constant: one bin.
    expect(spec.columns[0]).toMatchObject({ kind: 'numeric', edges: [2, 4] });
    expect(spec.columns[1]).toMatchObject({ kind: 'numeric', edges: [] });
    expect(columns).toEqual(['a<=2', 'a<=4', 'a>4', 'b>-inf', 'c=blue', 'c=green', 'c=red']);
    expect(rowsOf(matrix, 7).map((r) => r.slice(0, 4))).toEqual([
      [1, 0, 0, 1], // 1
      [1, 0, 0, 1], // 2
      [0, 1, 0, 1], // missing: the mean, 3
      [0, 0, 1, 1], // 5
      [0, 1, 0, 1], // 4
      [0, 1, 0, 1], // missing a and b
    ]);
    // One row at a time (scoring) gives the same numbers.
    expect([...transformRow(spec, { a: '5', b: '5', c: null })]).toEqual(rowsOf(matrix, 7)[3]);
    expect([...transformRow(spec, { a: null, b: null, c: null })]).toEqual(rowsOf(matrix, 7)[5]);
  });

  it('uses a std of 1 for a constant column, so its values become 0', async () => {
    const data = await fixtureDataset();

    const spec = fitPreprocess(data, fitted, policy('mean'));

    expect(spec.columns[1]).toMatchObject({ mean: 5, std: 1 });
  });

  it('imputes a raw 0 under the zero policy', async () => {
    const data = await fixtureDataset();

    const spec = fitPreprocess(data, fitted, policy('zero'));
    const { matrix } = transformRows(spec, data, Uint32Array.of(2));

    expect(matrix[0]).toBeCloseTo((0 - 8 / 3) / Math.sqrt(26 / 9), 14);
  });

  it('adds a __missing column for each column that had missing values in the fitted rows', async () => {
    const data = await fixtureDataset();

    const spec = fitPreprocess(data, fitted, policy('indicator'));
    const { matrix, columns } = transformRows(spec, data, all);

    expect(columns).toEqual(['a', 'a__missing', 'b', 'c=blue', 'c=red', 'c__missing']);
    expect(rowsOf(matrix, 6).map((r) => [r[1], r[5]])).toEqual([
      [0, 0],
      [0, 0],
      [1, 0],
      [0, 1],
      [0, 0],
      [1, 1],
    ]);
    expect(rowsOf(matrix, 6)[2]?.[0]).toBe(0);
  });

  it('rejects a missing value under the error policy and names its line', async () => {
    const data = await fixtureDataset();

    const error = (() => {
      try {
        fitPreprocess(data, fitted, policy('error'));
      } catch (e) {
        return e;
      }
    })();

    expect(error).toBeInstanceOf(DataError);
    expect(error).toMatchObject({ code: 'DATA_VALUE_INVALID', line: 4, column: 'a' });
    expect((error as DataError).message).toContain('the value is missing and missing.policy is error');
  });

  it('reports data that lacks a fitted column as a schema mismatch', async () => {
    const data = await fixtureDataset();
    const spec = fitPreprocess(data, fitted, policy('mean'));
    const other = await loadDataset(config(join(dir, 'fixture.csv'), { features: [{ name: 'a', type: 'numeric' }] }));

    expect(() => transformRows(spec, other, Uint32Array.of(0))).toThrow(DataError);
    expect(() => transformRows(spec, other, Uint32Array.of(0))).toThrow(
      'column "b": the model was fitted with this column but the data has none',
    );
  });

  it('fits the real default-credit guest columns to mean 0 and std 1', async () => {
    const data = await loadDataset(
      config('/work/shared/data/fate/default_credit_hetero_guest.csv', {
        features: 'all',
        label: { column: 'y', type: 'binary', positive: '1', negative: '0' },
      }),
    );
    const rows = Uint32Array.from({ length: data.rowCount }, (_, i) => i);

    const spec = fitPreprocess(data, rows, policy('mean'));
    const { matrix, columns } = transformRows(spec, data, rows);

    const d = columns.length;
    const column = Float64Array.from({ length: data.rowCount }, (_, i) => matrix[i * d + 12] ?? NaN);
    const mean = column.reduce((s, v) => s + v, 0) / column.length;
    const variance = column.reduce((s, v) => s + (v - mean) ** 2, 0) / column.length;
    expect(d).toBe(13);
    expect(mean).toBeCloseTo(0, 10);
    expect(variance).toBeCloseTo(1, 10);
  });

  it('fits and transforms in slices (yielding between them) to the same spec and bits, with sums in row order', async () => {
    const data = await loadDataset(
      config('/work/shared/data/fate/default_credit_hetero_guest.csv', {
        features: 'all',
        label: { column: 'y', type: 'binary', positive: '1', negative: '0' },
      }),
    );
    const rows = Uint32Array.from({ length: data.rowCount }, (_, i) => data.rowCount - 1 - i);
    const fit = rows.filter((_, k) => k % 5 !== 0);
    expect(fit.length).toBeGreaterThan(16_384); // more than one slice of rows

    const sliced = await fitAndTransformAsync(data, fit, policy('mean'), rows);
    const spec = fitPreprocess(data, fit, policy('mean'));

    expect(sliced.spec).toEqual(spec);
    expect(Buffer.from(sliced.matrix.buffer).equals(Buffer.from(transformRows(spec, data, rows).matrix.buffer))).toBe(
      true,
    );
    // The mean is the plain sum over the fitted rows in their order, as a column-by-column pass computes it.
    const d = data.columns.length;
    let sum = 0;
    for (const row of fit) sum += data.features[row * d + 12] ?? NaN;
    expect(spec.columns[12]).toMatchObject({ kind: 'numeric', mean: sum / fit.length });
  });

  it('under the error policy names the first column with a missing value, even when a later column has one on an earlier row', async () => {
    const data = await fixtureDataset();
    const spec = fitPreprocess(data, Uint32Array.of(0, 1), policy('error'));

    // Row 3 (line 5) misses c; row 2 (line 4) misses a, which comes first.
    expect(() => transformRows(spec, data, Uint32Array.of(3, 2))).toThrow(
      expect.objectContaining({ code: 'DATA_VALUE_INVALID', line: 4, column: 'a' }) as Error,
    );
    await expect(fitAndTransformAsync(data, Uint32Array.of(3, 2), policy('error'), all)).rejects.toMatchObject({
      line: 4,
      column: 'a',
    });
  });
});

describe('transformRow', () => {
  it('gives exactly the batch numbers for every row, from the raw CSV text, after a JSON round trip', async () => {
    const data = await fixtureDataset();
    const spec = fitPreprocess(data, fitted, policy('indicator'));
    const { matrix, columns } = transformRows(spec, data, all);
    const exported = JSON.parse(JSON.stringify(spec)) as PreprocessSpec;
    const csv = await openCsv(join(dir, 'fixture.csv'));

    let r = 0;
    for await (const row of csv) {
      const raw = Object.fromEntries(csv.header.map((name, j) => [name, row.fields[j]]));
      expect([...transformRow(exported, raw)]).toEqual([
        ...matrix.subarray(r * columns.length, (r + 1) * columns.length),
      ]);
      r++;
    }
    expect(exported).toEqual(spec);
    expect(r).toBe(6);
  });

  it('matches the batch transform on the real hillstrom file, fitted on half the rows', async () => {
    const file = '/work/shared/data/retail/hillstrom.csv';
    const hillstrom: FeatureConfig[] = [
      { name: 'recency', type: 'numeric' },
      { name: 'history_segment', type: 'categorical' },
      { name: 'history', type: 'numeric' },
      { name: 'zip_code', type: 'categorical' },
      { name: 'newbie', type: 'numeric' },
      { name: 'channel', type: 'categorical' },
    ];
    const data = await loadDataset(config(file, { id: { kind: 'row-number' }, features: hillstrom }));
    const train = Uint32Array.from({ length: 32_000 }, (_, i) => i * 2);
    const spec = fitPreprocess(data, train, policy('mean'));
    const checked = Uint32Array.from({ length: 2000 }, (_, i) => i);
    const { matrix, columns } = transformRows(spec, data, checked);
    const csv = await openCsv(file);

    let r = 0;
    for await (const row of csv) {
      if (r === checked.length) break;
      const raw = Object.fromEntries(csv.header.map((name, j) => [name, row.fields[j]]));
      expect([...transformRow(spec, raw)], `row ${r}`).toEqual([
        ...matrix.subarray(r * columns.length, (r + 1) * columns.length),
      ]);
      r++;
    }
    await csv.close();
    expect(columns).toHaveLength(1 + 7 + 1 + 3 + 1 + 3);
    expect(columns).toContain('channel=Multichannel');
  });

  it('accepts JSON numbers and nulls as a scoring request would send them', async () => {
    const data = await fixtureDataset();
    const spec = fitPreprocess(data, fitted, policy('mean'));

    const fromJson = transformRow(spec, { a: 2, b: null, c: 'blue', extra: 'ignored' });
    const fromText = transformRow(spec, { a: '2', b: 'NA', c: ' blue ' });

    expect([...fromJson]).toEqual([...fromText]);
    expect(fromJson[0]).toBeCloseTo((2 - 8 / 3) / Math.sqrt(26 / 9), 14);
    expect([...fromJson.subarray(1)]).toEqual([0, 1, 0]);
  });

  it('rejects a non-numeric value for a numeric column', async () => {
    const data = await fixtureDataset();
    const spec = fitPreprocess(data, fitted, policy('mean'));

    expect(() => transformRow(spec, { a: 'abc' }, 'request 7')).toThrow(DataError);
    expect(() => transformRow(spec, { a: 'abc' }, 'request 7')).toThrow('request 7, column "a": "abc" is not a number');
  });
});
