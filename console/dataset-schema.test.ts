import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DataError } from '../protocol/errors.ts';
import { DEFAULT_MISSING_TOKENS, type DatasetConfig } from '../party/config.ts';
import { inspectDataset } from './dataset-schema.ts';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tandem-console-schema-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const config = (file: string, over: Partial<DatasetConfig> = {}): DatasetConfig => ({
  name: 'members',
  file,
  delimiter: ',',
  id: { kind: 'column', column: 'id' },
  label: { column: 'y', type: 'binary', positive: '1', negative: '0' },
  features: 'all',
  missing: { policy: 'mean', tokens: DEFAULT_MISSING_TOKENS },
  duplicateIds: 'error',
  ...over,
});

describe('inspectDataset', () => {
  it('describes every column of the file by its role, with missing cells, aggregates and the label balance', async () => {
    const file = join(dir, 'members.csv');
    await writeFile(file, 'id,y,age,city,note\nu1,1,30,paris,a\nu2,0,,lyon,b\nu3,0,50,,c\nu4,1,40,paris,d\n');
    const features = [
      { name: 'age', type: 'numeric' as const },
      { name: 'city', type: 'categorical' as const },
    ];

    const schema = await inspectDataset(config(file, { features }));

    expect(schema).toMatchObject({
      name: 'members',
      rows: 4,
      ids: 'column "id"',
      droppedDuplicates: 0,
      labels: [
        { value: '0', rows: 2 },
        { value: '1', rows: 2 },
      ],
    });
    expect(schema.bytes).toBeGreaterThan(50);
    expect(schema.columns).toEqual([
      { name: 'id', role: 'id', type: 'text', missing: 0, distinct: 4, min: null, max: null, mean: null },
      { name: 'y', role: 'label', type: 'label', missing: 0, distinct: 2, min: null, max: null, mean: null },
      { name: 'age', role: 'feature', type: 'numeric', missing: 1, distinct: null, min: 30, max: 50, mean: 40 },
      { name: 'city', role: 'feature', type: 'categorical', missing: 1, distinct: 2, min: null, max: null, mean: null },
      { name: 'note', role: 'unused', type: 'text', missing: null, distinct: null, min: null, max: null, mean: null },
    ]);
  });

  it('fails with the error a job would give, naming the line and column', async () => {
    const file = join(dir, 'bad.csv');
    await writeFile(file, 'id,y,age\nu1,1,30\nu2,0,old\n');

    const error = await inspectDataset(config(file)).then(
      () => undefined,
      (e: unknown) => e,
    );

    expect(error).toBeInstanceOf(DataError);
    expect((error as DataError).code).toBe('DATA_VALUE_INVALID');
    expect((error as DataError).message).toMatch(/line 3, column "age"/);
  });

  it('reads the example breast guest file: 569 rows, 10 numeric features, no missing cells', async () => {
    const schema = await inspectDataset(
      config(join(import.meta.dirname, '..', 'examples', 'data', 'breast_guest.csv.gz')),
    );

    const features = schema.columns.filter((c) => c.role === 'feature');
    expect(schema.rows).toBe(569);
    expect(features).toHaveLength(10);
    expect(
      features.every(
        (c) =>
          c.type === 'numeric' &&
          c.missing === 0 &&
          c.min !== null &&
          c.max !== null &&
          c.min <= (c.mean ?? NaN) &&
          (c.mean ?? NaN) <= c.max,
      ),
    ).toBe(true);
    expect(schema.labels?.reduce((n, l) => n + l.rows, 0)).toBe(569);
  });
});
