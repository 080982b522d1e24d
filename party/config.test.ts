import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../protocol/errors.ts';
import { loadDataset } from '../data/dataset.ts';
import { loadPartyConfig } from './config.ts';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tandem-party-config-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const node = `node:
  name: brand
  coordinator: 127.0.0.1:7443
  dataDir: ./.tandem/brand
  certs: { ca: ./certs/ca.crt, cert: ./certs/brand.crt, key: ./certs/brand.key }
`;

async function configWith(name: string, text: string): Promise<string> {
  const file = join(dir, name);
  await writeFile(file, text);
  return file;
}

async function failure(file: string): Promise<ConfigError> {
  const error = await loadPartyConfig(file).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ConfigError);
  return error as ConfigError;
}

describe('loadPartyConfig', () => {
  it('fills defaults, resolves paths against the config directory and freezes the result', async () => {
    const file = await configWith(
      'full.yaml',
      `${node}datasets:
  credit:
    file: ../data/guest.csv
    id: id
    label: { column: y, type: binary }
    features: all
`,
    );

    const config = await loadPartyConfig(file);

    expect(config.node).toEqual({
      name: 'brand',
      coordinator: '127.0.0.1:7443',
      coordinatorName: undefined,
      dataDir: join(dir, '.tandem/brand'),
      certs: { ca: join(dir, 'certs/ca.crt'), cert: join(dir, 'certs/brand.crt'), key: join(dir, 'certs/brand.key') },
      heartbeatIntervalMs: 5000,
      cryptoThreads: availableParallelism(),
    });
    expect(config.datasets['credit']).toEqual({
      name: 'credit',
      file: join(dir, '../data/guest.csv'),
      delimiter: ',',
      id: { kind: 'column', column: 'id' },
      label: { column: 'y', type: 'binary', positive: '1', negative: '0' },
      features: 'all',
      missing: { policy: 'mean', tokens: ['', 'NA', 'NaN', 'null'] },
      duplicateIds: 'error',
    });
    expect(Object.isFrozen(config.datasets['credit']?.missing)).toBe(true);
    expect(Object.isFrozen(config.node.certs)).toBe(true);
  });

  it('accepts a node without datasets (the admin CLI reads only the node section)', async () => {
    const file = await configWith('bare.yaml', node);

    const config = await loadPartyConfig(file);

    expect(config.datasets).toEqual({});
  });

  it('reads row-number ids, feature lists, multiclass labels and numeric label values', async () => {
    const file = await configWith(
      'kinds.yaml',
      `${node}datasets:
  shop:
    file: shop.csv
    id: { rowNumber: true }
    label: { column: segment, type: multiclass, classes: [3, 1, 2] }
    features: [{ name: recency, type: numeric }, { name: channel, type: categorical }]
    missing: { policy: indicator, tokens: ["", "-"] }
    duplicateIds: keep-first
  binary:
    file: b.csv
    id: uid
    label: { column: bought, positive: 1, negative: -1 }
    features: all
`,
    );

    const config = await loadPartyConfig(file);

    expect(config.datasets['shop']).toMatchObject({
      id: { kind: 'row-number' },
      label: { type: 'multiclass', classes: ['3', '1', '2'] },
      features: [
        { name: 'recency', type: 'numeric' },
        { name: 'channel', type: 'categorical' },
      ],
      missing: { policy: 'indicator', tokens: ['', '-'] },
      duplicateIds: 'keep-first',
    });
    expect(config.datasets['binary']?.label).toEqual({
      column: 'bought',
      type: 'binary',
      positive: '1',
      negative: '-1',
    });
  });

  it('reads a continuous label, and a dataset without features as features: all', async () => {
    const file = await configWith(
      'continuous.yaml',
      `${node}datasets:
  grades:
    file: ${relative(dir, '/work/shared/data/fate/student_hetero_guest.csv')}
    id: id
    label: { column: y, type: continuous }
`,
    );

    const config = await loadPartyConfig(file);
    const data = await loadDataset(config.datasets['grades']!);

    expect(config.datasets['grades']).toMatchObject({ label: { column: 'y', type: 'continuous' }, features: 'all' });
    expect(data.targets).toHaveLength(395);
    expect(data.inferred?.features).toHaveLength(6);
  });

  it('loads the real hillstrom file through a relative path in the config', async () => {
    const file = await configWith(
      'hillstrom.yaml',
      `${node}datasets:
  members:
    file: ${relative(dir, '/work/shared/data/retail/hillstrom.csv')}
    id: { rowNumber: true }
    label: { column: conversion, type: binary }
    features:
      - { name: recency, type: numeric }
      - { name: history, type: numeric }
      - { name: zip_code, type: categorical }
`,
    );
    const config = await loadPartyConfig(file);

    const data = await loadDataset(config.datasets['members']!);

    expect(data.rowCount).toBe(64_000);
    expect(data.columns.map((c) => c.kind)).toEqual(['numeric', 'numeric', 'categorical']);
  });
});

describe('loadPartyConfig errors', () => {
  it('names the path of a wrong feature type and the allowed types', async () => {
    const file = await configWith(
      'type.yaml',
      `${node}datasets:
  credit:
    file: a.csv
    id: id
    features: [{ name: a, type: numeric }, { name: b, type: numeric }, { name: c, type: text }]
`,
    );

    const error = await failure(file);

    expect(error.code).toBe('CONFIG_INVALID');
    expect(error.field).toBe('datasets.credit.features[2].type');
    expect(error.message).toContain(
      'type.yaml: datasets.credit.features[2].type: "text" is not allowed (line 10). Fix: use one of: numeric, categorical',
    );
  });

  it('rejects an unknown key under node and lists the allowed ones', async () => {
    const file = await configWith('unknown.yaml', `${node}  port: 7443\n`);

    const error = await failure(file);

    expect(error.field).toBe('node.port');
    expect(error.fix).toBe(
      'remove it; allowed keys here are: name, coordinator, coordinatorName, dataDir, certs, heartbeatIntervalMs, cryptoThreads',
    );
  });

  it('asks for a missing required key', async () => {
    const file = await configWith('missing.yaml', node.replace('  dataDir: ./.tandem/brand\n', ''));

    const error = await failure(file);

    expect(error.field).toBe('node.dataDir');
    expect(error.message).toContain('is missing (line 1). Fix: add it (text)');
  });

  it('rejects a coordinator address without a port', async () => {
    const file = await configWith('address.yaml', node.replace('127.0.0.1:7443', 'localhost'));

    const error = await failure(file);

    expect(error.field).toBe('node.coordinator');
    expect(error.message).toContain('must be host:port, but is "localhost"');
  });

  it('rejects a feature that is also the id or the label column, or listed twice', async () => {
    const file = await configWith(
      'overlap.yaml',
      `${node}datasets:
  credit:
    file: a.csv
    id: id
    label: { column: y }
    features: [{ name: id, type: numeric }, { name: y, type: numeric }, { name: x, type: numeric }, { name: x, type: numeric }]
`,
    );

    const error = await failure(file);

    expect(error.field).toBe('datasets.credit.features[0].name');
    expect(error.message).toContain('is the id column');
    expect(error.details['issues']).toMatchObject([
      { field: 'datasets.credit.features[0].name', fix: 'remove it from features' },
      { field: 'datasets.credit.features[1].name', problem: 'is the label column' },
      { field: 'datasets.credit.features[3].name', problem: 'repeats features[2]', fix: 'list each column once' },
    ]);
  });

  it('rejects label settings that do not fit the label type', async () => {
    const file = await configWith(
      'label.yaml',
      `${node}datasets:
  shop:
    file: a.csv
    id: id
    label: { column: segment, type: multiclass, positive: a, classes: [a, b, a] }
    features: all
`,
    );

    const error = await failure(file);

    expect(error.field).toBe('datasets.shop.label.positive');
    expect(error.fix).toBe('remove it, or set type: binary');
    expect(error.details['issues']).toContainEqual(
      expect.objectContaining({ field: 'datasets.shop.label.classes[2]', problem: 'repeats the class "a"' }),
    );
  });

  it('rejects class or positive/negative settings on a continuous label', async () => {
    const file = await configWith(
      'continuous-bad.yaml',
      `${node}datasets:
  grades:
    file: a.csv
    id: id
    label: { column: y, type: continuous, classes: [1, 2], positive: 1 }
`,
    );

    const error = await failure(file);

    expect(error.field).toBe('datasets.grades.label.classes');
    expect(error.fix).toBe('remove it, or set type: multiclass');
    expect(error.details['issues']).toContainEqual(
      expect.objectContaining({ field: 'datasets.grades.label.positive', problem: 'applies only to binary labels' }),
    );
  });

  it('rejects a dataset name that a job spec could not refer to', async () => {
    const file = await configWith(
      'name.yaml',
      `${node}datasets:\n  my data:\n    file: a.csv\n    id: id\n    features: all\n`,
    );

    const error = await failure(file);

    expect(error.field).toBe('datasets["my data"]');
    expect(error.message).toContain(
      'is not an allowed name (must start with a letter and hold only letters, digits, _ and -)',
    );
  });

  it('reports a missing config file as CONFIG_NOT_FOUND', async () => {
    const error = await failure(join(dir, 'absent.yaml'));

    expect(error.code).toBe('CONFIG_NOT_FOUND');
    expect(error.message).toContain('absent.yaml: does not exist');
  });
});
