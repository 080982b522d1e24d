import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DataError } from '../protocol/errors.ts';
import { DEFAULT_MISSING_TOKENS, type DatasetConfig, type FeatureConfig } from '../party/config.ts';
import { describeInference, loadDataset } from './dataset.ts';

const HILLSTROM = '/work/shared/data/retail/hillstrom.csv';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tandem-inference-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function fileWith(name: string, content: string): Promise<string> {
  const file = join(dir, name);
  await writeFile(file, content);
  return file;
}

function config(file: string, overrides: Partial<DatasetConfig> = {}): DatasetConfig {
  return {
    name: 'shop',
    file,
    delimiter: ',',
    id: { kind: 'column', column: 'id' },
    label: undefined,
    features: 'all',
    missing: { policy: 'mean', tokens: DEFAULT_MISSING_TOKENS },
    duplicateIds: 'error',
    ...overrides,
  };
}

async function failure(promise: Promise<unknown>): Promise<DataError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(DataError);
  return error as DataError;
}

const rows = (n: number, row: (i: number) => string): string =>
  Array.from({ length: n }, (_, i) => `${row(i)}\n`).join('');

describe('features: all', () => {
  it('types the real hillstrom file: text columns categorical, the rest numeric, the same rows as a declared list', async () => {
    const hillstrom = config(HILLSTROM, {
      id: { kind: 'row-number' },
      label: { column: 'visit', type: 'binary', positive: '1', negative: '0' },
    });

    const data = await loadDataset(hillstrom);
    const declared = await loadDataset({ ...hillstrom, features: data.inferred?.features ?? [] });

    const categorical = ['history_segment', 'zip_code', 'channel', 'segment'];
    expect(data.inferred?.features).toEqual(
      [
        'recency',
        'history_segment',
        'history',
        'mens',
        'womens',
        'zip_code',
        'newbie',
        'channel',
        'segment',
        'conversion',
        'spend',
      ].map((name): FeatureConfig => ({ name, type: categorical.includes(name) ? 'categorical' : 'numeric' })),
    );
    expect(data.rowCount).toBe(64_000);
    expect(data.features).toEqual(declared.features);
    expect(data.columns).toEqual(declared.columns);
    expect(data.labels).toEqual(declared.labels);
  });

  it('is what a dataset without `features` gets, and reads an all-numeric file once, with every column numeric', async () => {
    const data = await loadDataset(config('/work/shared/data/fate/breast_hetero_host.csv'));

    expect(data.inferred?.features).toHaveLength(20);
    expect(data.inferred?.features.every((f) => f.type === 'numeric')).toBe(true);
    expect(data.inferred?.notes).toEqual([]);
  });

  it('reads booleans, quoted fields with commas and unicode text as categories, and notes constant and mostly-missing columns', async () => {
    const file = await fileWith(
      'crafted.csv',
      `id,flag,city,note,const,sparse,score\n${rows(8, (i) => `${i},${i % 2 === 0 ? 'yes' : 'no'},${i % 3 === 0 ? '"São Paulo, BR"' : 'Zürich'},"say ""hi""",7,${i === 0 ? '1.5' : ''},${i / 2}`)}`,
    );

    const data = await loadDataset(config(file));

    expect(data.inferred?.features).toEqual([
      { name: 'flag', type: 'categorical' },
      { name: 'city', type: 'categorical' },
      { name: 'note', type: 'categorical' },
      { name: 'const', type: 'numeric' },
      { name: 'sparse', type: 'numeric' },
      { name: 'score', type: 'numeric' },
    ]);
    const city = data.columns[1];
    expect(city?.kind === 'categorical' ? city.categories : []).toEqual(['São Paulo, BR', 'Zürich']);
    const note = data.columns[2];
    expect(note?.kind === 'categorical' ? note.categories : []).toEqual(['say "hi"']);
    expect(data.inferred?.notes).toEqual([
      'note: one value in every row (constant)',
      'const: one value in every row (constant)',
      'sparse: one value in every row that has one (constant)',
    ]);
  });

  it('notes a mostly-missing column by its share, never its values', async () => {
    const file = await fileWith('sparse.csv', `id,a,b\n${rows(10, (i) => `${i},${i},${i < 3 ? i * 10 : 'NA'}`)}`);

    const data = await loadDataset(config(file));

    expect(data.inferred?.notes).toEqual(['b: 70 % missing']);
    expect(describeInference(data.inferred ?? { features: [], notes: [] })).toBe(
      'features: all read every column as numeric; look at b: 70 % missing.',
    );
  });

  it('refuses numbers with stray text, naming every such column with its first text, line and count', async () => {
    const file = await fileWith(
      'mixed.csv',
      `id,income,age,city\n${rows(20, (i) => `${i},${i === 4 ? 'n/a' : i * 1000},${i % 7 === 6 ? '?' : 30 + i},${i % 2 ? 'Lyon' : 'Nice'}`)}`,
    );

    const error = await failure(loadDataset(config(file)));

    expect(error).toMatchObject({ code: 'DATA_VALUE_INVALID', line: 6, column: 'income' });
    expect(error.details['columns']).toEqual(['income', 'age']);
    expect(error.message).toContain(
      'line 6, column "income": "n/a" is not a number, in a column of numbers (1 cell of text); 1 more column of numbers holds text too: "age" ("?" on line 8)',
    );
    expect(error.message).toContain('add it to datasets.shop.missing.tokens');
    expect(error.message).toContain('{ name: income, type: categorical }, { name: age, type: categorical }');
  });

  it('refuses text with too many values to encode (an id-like column), naming every such column', async () => {
    const file = await fileWith(
      'emails.csv',
      `id,email,name,y\n${rows(150, (i) => `${i},u${i}@example.com,n${i},${i % 2}`)}`,
    );

    const error = await failure(loadDataset(config(file)));

    expect(error).toMatchObject({ code: 'DATA_VALUE_INVALID', line: 2, column: 'email' });
    expect(error.details['columns']).toEqual(['email', 'name']);
    expect(error.message).toContain('holds text with more than 100 distinct values');
    expect(error.message).toContain('list the features without these columns');
  });
});

describe('one report for every column with the same problem', () => {
  it('names every text column of the real hillstrom file declared numeric, with a fix to paste for all of them', async () => {
    const numeric = ['recency', 'history_segment', 'history', 'zip_code', 'channel', 'segment'].map(
      (name): FeatureConfig => ({ name, type: 'numeric' }),
    );

    const error = await failure(loadDataset(config(HILLSTROM, { id: { kind: 'row-number' }, features: numeric })));

    expect(error).toMatchObject({ code: 'DATA_VALUE_INVALID', line: 2, column: 'history_segment' });
    expect(error.details['columns']).toEqual(['history_segment', 'zip_code', 'channel', 'segment']);
    expect(error.message).toContain(
      '"2) $100 - $200" is not a number; 3 more columns declared numeric hold text too: "zip_code" ("Surburban" on line 2), "channel" ("Phone" on line 2), "segment" ("Womens E-Mail" on line 2)',
    );
    expect(error.message).toContain(
      'declare them { name: history_segment, type: categorical }, { name: zip_code, type: categorical }, { name: channel, type: categorical }, { name: segment, type: categorical }',
    );
  });

  it('names every column with a missing value under policy error', async () => {
    const file = await fileWith('strict.csv', 'id,a,b,c\n1,1,,x\n2,,2,\n3,3,3,y\n');

    const error = await failure(
      loadDataset(
        config(file, {
          features: [
            { name: 'a', type: 'numeric' },
            { name: 'b', type: 'numeric' },
            { name: 'c', type: 'categorical' },
          ],
          missing: { policy: 'error', tokens: [''] },
        }),
      ),
    );

    expect(error).toMatchObject({ code: 'DATA_VALUE_INVALID', line: 2, column: 'b' });
    expect(error.details['columns']).toEqual(['b', 'a', 'c']);
    expect(error.message).toContain(
      'the value is missing and missing.policy is error; 2 more columns have missing values too: "a" (line 3), "c" (line 3)',
    );
  });

  it('reports bad cells met before a later failure first, since they come earlier in the file', async () => {
    const file = await fileWith('text-then-dup.csv', 'id,a\n1,x\n2,2\n1,3\n');

    const error = await failure(loadDataset(config(file, { features: [{ name: 'a', type: 'numeric' }] })));

    expect(error).toMatchObject({ code: 'DATA_VALUE_INVALID', line: 2, column: 'a' });
  });
});
