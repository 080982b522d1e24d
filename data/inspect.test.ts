import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DataError } from '../protocol/errors.ts';
import { loadPartyConfig } from '../party/config.ts';
import { loadDataset, type Dataset } from './dataset.ts';
import { datasetName, datasetsYaml, inspectFile, type Inspection } from './inspect.ts';

const HILLSTROM = '/work/shared/data/retail/hillstrom.csv';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tandem-inspect-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function fileWith(name: string, content: string | Uint8Array): Promise<string> {
  const file = join(dir, name);
  await writeFile(file, content);
  return file;
}

/** Pastes the suggested block into a node config and loads the dataset through it, as a user would. */
async function loadSuggested(inspection: Inspection): Promise<Dataset> {
  const node =
    'node:\n  name: brand\n  coordinator: 127.0.0.1:7443\n  dataDir: ./state\n  certs: { ca: ca.crt, cert: brand.crt, key: brand.key }\n';
  const file = await fileWith(`${inspection.name}.yaml`, `${node}${datasetsYaml(inspection)}`);
  const config = await loadPartyConfig(file);
  const dataset = config.datasets[inspection.name];
  if (dataset === undefined) throw new Error(`the block defines no dataset ${inspection.name}`);
  return loadDataset(dataset);
}

const kinds = (inspection: Inspection): Record<string, string> =>
  Object.fromEntries(inspection.columns.map((c) => [c.name, c.kind]));

describe('inspectFile on the shared data', () => {
  it('types the real hillstrom file, with levels and counts, and suggests row numbers and a binary label', async () => {
    const inspection = await inspectFile({ file: HILLSTROM, label: 'visit' });

    expect(inspection.rows).toBe(64_000);
    expect(kinds(inspection)).toEqual({
      recency: 'numeric',
      history_segment: 'categorical',
      history: 'numeric',
      mens: 'boolean',
      womens: 'boolean',
      zip_code: 'categorical',
      newbie: 'boolean',
      channel: 'categorical',
      segment: 'categorical',
      visit: 'boolean',
      conversion: 'boolean',
      spend: 'numeric',
    });
    expect(inspection.columns.find((c) => c.name === 'zip_code')?.levels).toEqual([
      { value: 'Surburban', count: 28_776 },
      { value: 'Urban', count: 25_661 },
      { value: 'Rural', count: 9_563 },
    ]);
    expect(inspection.columns.find((c) => c.name === 'recency')?.numbers).toMatchObject({
      min: 1,
      max: 12,
      integers: true,
    });
    expect(inspection.id).toEqual({ column: undefined, note: expect.stringContaining('rows are numbered') as unknown });
    expect(inspection.label?.yaml).toBe('{ column: visit, positive: "1", negative: "0" }');
    expect(inspection.features.filter((f) => f.leftOut !== undefined)).toEqual([]);
  });

  it('counts distinct values past its exact cap with a bounded sketch (hillstrom history: 34,833 distinct)', async () => {
    const inspection = await inspectFile({ file: HILLSTROM });

    const history = inspection.columns.find((c) => c.name === 'history');
    expect(history?.distinctExact).toBe(false);
    expect(Math.abs((history?.distinct ?? 0) / 34_833 - 1)).toBeLessThan(0.03);
    expect(inspection.columns.find((c) => c.name === 'spend')).toMatchObject({ distinct: 429, distinctExact: true });
  });

  it('writes a block that loads the real hillstrom file with the types it printed, as features: all would', async () => {
    const inspection = await inspectFile({ file: HILLSTROM, label: 'visit' });

    const data = await loadSuggested(inspection);
    const all = await loadDataset({
      name: 'h',
      file: HILLSTROM,
      delimiter: ',',
      id: { kind: 'row-number' },
      label: undefined,
      features: 'all',
      missing: { policy: 'mean', tokens: ['', 'NA', 'NaN', 'null'] },
      duplicateIds: 'error',
    });

    expect(data.rowCount).toBe(64_000);
    expect(data.columns.map((c) => [c.name, c.kind])).toEqual(inspection.features.map((f) => [f.name, f.type]));
    expect(all.inferred?.features.filter((f) => f.name !== 'visit')).toEqual(
      inspection.features.map((f) => ({ name: f.name, type: f.type })),
    );
    expect(datasetsYaml(inspection)).toContain(
      '    features:  # features: all gives the same types\n      - { name: recency, type: numeric }\n      - { name: history_segment, type: categorical }  # 7 levels\n',
    );
  });

  it('finds the id column of a FATE file, types every other column numeric, and suggests a continuous label for grades', async () => {
    const inspection = await inspectFile({ file: '/work/shared/data/fate/student_hetero_guest.csv', label: 'y' });

    expect(inspection.id.column).toBe('id');
    expect(inspection.features.map((f) => f.type)).toEqual(Array<string>(6).fill('numeric'));
    expect(inspection.label?.yaml).toBe('{ column: "y", type: continuous }');
    const data = await loadSuggested(inspection);
    expect(data.targets).toHaveLength(395);
  });
});

describe('inspectFile on crafted files', () => {
  const crafted = (): string => {
    const lines = ['customer_id,"prénom, nom",vip,opted_in,region,note,country,bonus,score,email,segment'];
    for (let i = 0; i < 60; i++) {
      const region = ['Île-de-France', '東京', '"Rhône, Alpes"'][i % 3] ?? '';
      const note = i % 10 === 0 ? '"line one\nline two"' : '';
      const score = i === 7 ? 'n/a' : i === 8 ? '?' : String(i * 1.5);
      lines.push(
        [
          `C${1000 + i}`,
          `"Nom ""${i}"""`,
          i % 4 === 0 ? 'TRUE' : 'false',
          i % 3 === 0 ? 'yes' : 'no',
          region,
          note,
          'FR',
          '',
          score,
          `u${i}@example.com`,
          i % 5 === 0 ? 'gold' : 'silver',
        ].join(','),
      );
    }
    return `${lines.join('\r\n')}\r\n`;
  };

  it('tells booleans, ids, constants, empty and mostly-missing columns, numbers with stray text, and unicode categories apart', async () => {
    const file = await fileWith('crafted.csv.gz', gzipSync(crafted()));

    const inspection = await inspectFile({ file, label: 'segment' });

    expect(kinds(inspection)).toEqual({
      customer_id: 'id',
      'prénom, nom': 'id',
      vip: 'boolean',
      opted_in: 'boolean',
      region: 'categorical',
      note: 'constant',
      country: 'constant',
      bonus: 'empty',
      score: 'mixed',
      email: 'id',
      segment: 'categorical',
    });
    expect(inspection.columns.find((c) => c.name === 'note')).toMatchObject({
      mostlyMissing: true,
      missing: 54,
      levels: [{ value: 'line one\nline two', count: 6 }],
    });
    expect(
      inspection.columns
        .find((c) => c.name === 'region')
        ?.levels.map((l) => l.value)
        .sort(),
    ).toEqual(['Rhône, Alpes', 'Île-de-France', '東京']);
    // Line 10, not 9: the first row's note is quoted across two lines.
    expect(inspection.columns.find((c) => c.name === 'score')?.texts).toEqual({
      count: 2,
      examples: ['?', 'n/a'],
      firstLine: 10,
    });
    expect(inspection.id.column).toBe('customer_id');
    expect(inspection.id.note).toBe('also id-like: prénom, nom, email');
    expect(inspection.label?.yaml).toBe('{ column: segment, positive: "gold", negative: "silver" }');
    expect(inspection.label?.note).toBe('positive is the rarer value "gold": check it');
  });

  it('suggests only usable features, lists the rest with the reason, and the block loads', async () => {
    const file = await fileWith('crafted.csv', crafted());
    const inspection = await inspectFile({ file, label: 'segment' });

    const yaml = datasetsYaml(inspection);
    const data = await loadSuggested(inspection);

    expect(inspection.features.filter((f) => f.leftOut === undefined).map((f) => [f.name, f.type])).toEqual([
      ['vip', 'categorical'],
      ['opted_in', 'categorical'],
      ['region', 'categorical'],
    ]);
    expect(yaml).toContain(
      '      # - { name: "prénom, nom", type: categorical }  # a distinct value in every row: an id, not a feature\n',
    );
    expect(yaml).toContain(
      '      # - { name: score, type: numeric }  # numbers with 2 text cell(s) ("?", "n/a", first on line 10): add them to missing.tokens if they mark missing values, or correct them\n',
    );
    expect(yaml).toContain('      # - { name: bonus, type: numeric }  # every value is missing\n');
    expect(data.columns.map((c) => c.name)).toEqual(['vip', 'opted_in', 'region']);
    expect(data.labelClasses).toEqual(['silver', 'gold']);
  });

  it('reads only --max-rows rows when asked, and refuses an --id that is not a column', async () => {
    const file = await fileWith('crafted-2.csv', crafted());

    const head = await inspectFile({ file, maxRows: 10 });
    const error = await inspectFile({ file, id: 'customer' }).then(
      () => undefined,
      (e: unknown) => e,
    );

    expect(head).toMatchObject({ rows: 10, truncated: true });
    expect(error).toBeInstanceOf(DataError);
    expect(error).toMatchObject({ code: 'DATA_COLUMN_MISSING', column: 'customer' });
    expect((error as DataError).message).toContain('Fix: name one of: customer_id, prénom, nom, vip');
  });

  it('warns about an --id whose values repeat', async () => {
    const file = await fileWith('dup.csv', 'k,a\n1,1\n1,2\n2,3\n');

    const inspection = await inspectFile({ file, id: 'k' });

    expect(inspection.id).toEqual({
      column: 'k',
      note: '1 id(s) repeat an earlier one: a job refuses that unless duplicateIds: keep-first',
    });
  });
});

describe('datasetName', () => {
  it('makes a name a job spec can refer to from the file name', () => {
    expect([
      datasetName('/x/hillstrom.csv'),
      datasetName('a/default_credit_guest.csv.gz'),
      datasetName('2024 members.CSV'),
      datasetName('ventes-été.tsv'),
    ]).toEqual(['hillstrom', 'default_credit_guest', 'd_2024_members', 'ventes-_t_']);
  });
});
