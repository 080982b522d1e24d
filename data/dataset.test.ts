import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DataError } from '../protocol/errors.ts';
import { DEFAULT_MISSING_TOKENS, type DatasetConfig } from '../party/config.ts';
import { loadDataset, numericCellParser } from './dataset.ts';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tandem-dataset-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function fileWith(name: string, content: string | Uint8Array): Promise<string> {
  const file = join(dir, name);
  await writeFile(file, content);
  return file;
}

function config(file: string, overrides: Partial<DatasetConfig> = {}): DatasetConfig {
  return {
    name: 'test',
    file,
    delimiter: ',',
    id: { kind: 'column', column: 'id' },
    label: { column: 'y', type: 'binary', positive: '1', negative: '0' },
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

describe('loadDataset', () => {
  it('loads ids, a row-major matrix of raw values and binary labels', async () => {
    const file = await fileWith('small.csv', 'id,y,a,b\nu1,1,1.5,-2\nu2,0,3,4e2\n');

    const data = await loadDataset(config(file));

    expect(data.ids).toEqual(['u1', 'u2']);
    expect([...data.features]).toEqual([1.5, -2, 3, 400]);
    expect(data.columns).toEqual([
      { name: 'a', kind: 'numeric' },
      { name: 'b', kind: 'numeric' },
    ]);
    expect([...(data.labels ?? [])]).toEqual([1, 0]);
    expect(data.labelClasses).toEqual(['0', '1']);
    expect([...data.lines]).toEqual([2, 3]);
  });

  it('loads the real default-credit guest file: 30,000 rows, 13 numeric features, 22.1% positive', async () => {
    const data = await loadDataset(config('/work/shared/data/fate/default_credit_hetero_guest.csv'));

    const positives = (data.labels ?? new Int32Array()).reduce((sum, y) => sum + y, 0);
    expect(data.rowCount).toBe(30_000);
    expect(data.columns.map((c) => c.name)).toEqual(Array.from({ length: 13 }, (_, i) => `x${i}`));
    expect(data.features).toHaveLength(30_000 * 13);
    expect(positives / data.rowCount).toBeCloseTo(0.221, 3);
    expect(data.ids[0]).toBe('25115');
  });

  it('loads the real hillstrom file with row-number ids and categorical columns as codes', async () => {
    const data = await loadDataset(
      config('/work/shared/data/retail/hillstrom.csv', {
        id: { kind: 'row-number' },
        label: { column: 'visit', type: 'binary', positive: '1', negative: '0' },
        features: [
          { name: 'recency', type: 'numeric' },
          { name: 'zip_code', type: 'categorical' },
          { name: 'channel', type: 'categorical' },
        ],
      }),
    );

    const channel = data.columns[2];
    expect(data.rowCount).toBe(64_000);
    expect(data.ids.slice(0, 3)).toEqual(['1', '2', '3']);
    expect(channel?.kind === 'categorical' ? [...channel.categories].sort() : []).toEqual([
      'Multichannel',
      'Phone',
      'Web',
    ]);
    expect(channel?.kind === 'categorical' ? channel.categories[channel.codes[0] ?? -1] : undefined).toBe('Phone');
    expect(data.features[2]).toBe(channel?.kind === 'categorical' ? channel.codes[0] : NaN);
  });

  it('maps unlisted multiclass labels to the sorted distinct values (the real vehicle file has 4)', async () => {
    const data = await loadDataset(
      config('/work/shared/data/fate/vehicle_scale_hetero_guest.csv', {
        label: { column: 'y', type: 'multiclass', classes: undefined },
      }),
    );

    expect(data.labelClasses).toEqual(['0', '1', '2', '3']);
    expect(new Set(data.labels)).toEqual(new Set([0, 1, 2, 3]));
  });

  it('sorts numeric classes as numbers and keeps listed classes in their listed order', async () => {
    const file = await fileWith('multi.csv', 'id,y,a\n1,10,0\n2,2,0\n3,9,0\n');

    const sorted = await loadDataset(config(file, { label: { column: 'y', type: 'multiclass', classes: undefined } }));
    const listed = await loadDataset(
      config(file, { label: { column: 'y', type: 'multiclass', classes: ['10', '9', '2'] } }),
    );

    expect(sorted.labelClasses).toEqual(['2', '9', '10']);
    expect([...(sorted.labels ?? [])]).toEqual([2, 0, 1]);
    expect([...(listed.labels ?? [])]).toEqual([0, 2, 1]);
  });

  it('accepts configured binary values, and a numerically equal spelling of them', async () => {
    const words = await fileWith('words.csv', 'id,y,a\n1,yes,0\n2,no,0\n');
    const floats = await fileWith('floats.csv', 'id,y,a\n1,1.0,0\n2,0.0,0\n');

    const fromWords = await loadDataset(
      config(words, { label: { column: 'y', type: 'binary', positive: 'yes', negative: 'no' } }),
    );
    const fromFloats = await loadDataset(config(floats));

    expect([...(fromWords.labels ?? [])]).toEqual([1, 0]);
    expect([...(fromFloats.labels ?? [])]).toEqual([1, 0]);
  });

  it('records missing values as NaN and code -1, using the configured tokens', async () => {
    const file = await fileWith('missing.csv', 'id,y,a,c\n1,1,NA,red\n2,0,,\n3,0,  ,-\n4,1,7,blue\n');

    const data = await loadDataset(
      config(file, {
        features: [
          { name: 'a', type: 'numeric' },
          { name: 'c', type: 'categorical' },
        ],
        missing: { policy: 'mean', tokens: ['', 'NA', '-'] },
      }),
    );

    const c = data.columns[1];
    expect([...data.features].map((v) => (Number.isNaN(v) ? 'NaN' : v))).toEqual([
      'NaN',
      0,
      'NaN',
      'NaN',
      'NaN',
      'NaN',
      7,
      1,
    ]);
    expect(c?.kind === 'categorical' ? [...c.codes] : []).toEqual([0, -1, -1, 1]);
  });

  it('keeps the first row of a repeated id when told to, and counts the dropped rows', async () => {
    const file = await fileWith('dups.csv', 'id,y,a\n1,1,10\n2,0,20\n1,0,30\n');

    const data = await loadDataset(config(file, { duplicateIds: 'keep-first' }));

    expect(data.ids).toEqual(['1', '2']);
    expect([...data.features]).toEqual([10, 20]);
    expect(data.droppedDuplicates).toBe(1);
  });

  it('grows past its initial capacity without losing values, and reads gzip', async () => {
    const lines = Array.from({ length: 5000 }, (_, i) => `${i},${i % 2},${i * 0.5},${-i}`);
    const file = await fileWith('many.csv.gz', gzipSync(`id,y,a,b\n${lines.join('\n')}\n`));

    const data = await loadDataset(config(file));

    expect(data.rowCount).toBe(5000);
    expect(data.features).toHaveLength(10_000);
    expect(data.features[2 * 4999]).toBe(2499.5);
    expect(data.features[2 * 4999 + 1]).toBe(-4999);
    expect(data.lines[4999]).toBe(5001);
  });
});

describe('loadDataset errors', () => {
  it('rejects a configured column the header lacks and lists the available ones', async () => {
    const file = await fileWith('cols.csv', 'id,y,a,b\n1,1,2,3\n');

    const error = await failure(
      loadDataset(
        config(file, {
          features: [
            { name: 'a', type: 'numeric' },
            { name: 'z', type: 'numeric' },
          ],
        }),
      ),
    );

    expect(error).toMatchObject({ code: 'DATA_COLUMN_MISSING', column: 'z' });
    expect(error.message).toContain(
      'the header has no column "z" (dataset "test"). Fix: use column names from the header: id, y, a, b',
    );
  });

  it('rejects an empty id and names its line', async () => {
    const file = await fileWith('noid.csv', 'id,y,a\n1,1,2\n ,0,3\n');

    const error = await failure(loadDataset(config(file)));

    expect(error).toMatchObject({ code: 'DATA_ID_MISSING', line: 3, column: 'id' });
    expect(error.message).toContain('line 3, column "id": the id is empty');
  });

  it('rejects a duplicate id and names both lines', async () => {
    const file = await fileWith('dup.csv', 'id,y,a\n1,1,2\n2,0,3\n1,0,4\n');

    const error = await failure(loadDataset(config(file)));

    expect(error).toMatchObject({ code: 'DATA_ID_DUPLICATE', line: 4 });
    expect(error.message).toContain('line 4, column "id": repeats the id already used on line 2');
    expect(error.message).toContain('duplicateIds: keep-first');
  });

  it('rejects a non-numeric value in a numeric column, naming line, column and value', async () => {
    const file = await fileWith('text.csv', 'id,y,a,b\n1,1,2,3\n2,0,3,abc\n');

    const error = await failure(loadDataset(config(file)));

    expect(error).toMatchObject({ code: 'DATA_VALUE_INVALID', line: 3, column: 'b' });
    expect(error.message).toContain('line 3, column "b": "abc" is not a number');
  });

  it('rejects a binary label outside the configured pair, naming line and value', async () => {
    const file = await fileWith('badlabel.csv', 'id,y,a\n1,1,2\n2,2,3\n');

    const error = await failure(loadDataset(config(file)));

    expect(error).toMatchObject({ code: 'DATA_LABEL_INVALID', line: 3, column: 'y' });
    expect(error.message).toContain('"2" is neither the positive value "1" nor the negative value "0"');
  });

  it('rejects an empty label and a multiclass label that is not listed', async () => {
    const file = await fileWith('labels.csv', 'id,y,a\n1,a,2\n2,,3\n3,c,4\n');

    const empty = await failure(
      loadDataset(config(file, { label: { column: 'y', type: 'multiclass', classes: undefined } })),
    );
    const unlisted = await failure(
      loadDataset(config(file, { label: { column: 'y', type: 'multiclass', classes: ['a', 'b'] } })),
    );

    expect(empty).toMatchObject({ code: 'DATA_LABEL_INVALID', line: 3 });
    expect(empty.message).toContain('the label is empty');
    expect(unlisted).toMatchObject({ code: 'DATA_LABEL_INVALID', line: 3 });
  });

  it('rejects a missing value when the policy is error', async () => {
    const file = await fileWith('strict.csv', 'id,y,a\n1,1,2\n2,0,NA\n');

    const error = await failure(loadDataset(config(file, { missing: { policy: 'error', tokens: ['NA'] } })));

    expect(error).toMatchObject({ code: 'DATA_VALUE_INVALID', line: 3, column: 'a' });
    expect(error.message).toContain('the value is missing and missing.policy is error');
  });

  it('reports a missing data file as DATA_FILE_NOT_FOUND', async () => {
    const error = await failure(loadDataset(config(join(dir, 'absent.csv'))));

    expect(error.code).toBe('DATA_FILE_NOT_FOUND');
  });
});

describe('numericCellParser', () => {
  it('parses numbers, treats tokens and blanks as missing, and refuses the rest', () => {
    const parse = numericCellParser(['', 'NA', '-999']);

    expect([parse('1.5'), parse(' 2 '), parse('0'), parse('-1e-3')]).toEqual([1.5, 2, 0, -0.001]);
    expect([parse(''), parse('   '), parse('NA'), parse(' NA '), parse('-999')].every(Number.isNaN)).toBe(true);
    expect([parse('abc'), parse('Infinity'), parse('NaN')]).toEqual([undefined, undefined, undefined]);
  });
});
