import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ConfigError } from '../protocol/errors.ts';
import {
  deepFreeze,
  interpolateEnv,
  loadConfigFile,
  resolveConfigPath,
  validateConfig,
  validateConfigText,
} from './config-file.ts';

const schema = z.strictObject({
  node: z.strictObject({
    name: z.string().regex(/^[a-z]+$/, 'must be lowercase letters'),
    heartbeatIntervalMs: z.number().int().min(100).optional(),
  }),
  datasets: z
    .record(
      z.string(),
      z.strictObject({
        file: z.string().min(1),
        id: z.union([z.string().min(1), z.strictObject({ rowNumber: z.literal(true) })]),
        features: z.union([
          z.literal('all'),
          z.array(z.strictObject({ name: z.string(), type: z.enum(['numeric', 'categorical']) })),
        ]),
      }),
    )
    .optional(),
  seed: z
    .number()
    .refine((n) => n !== 13, { message: 'is unlucky', params: { fix: 'pick any other number' } })
    .optional(),
});

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tandem-config-file-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function fileWith(name: string, text: string): Promise<string> {
  const file = join(dir, name);
  await writeFile(file, text);
  return file;
}

async function rejection(promise: Promise<unknown>): Promise<ConfigError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ConfigError);
  return error as ConfigError;
}

function thrown(action: () => unknown): ConfigError {
  try {
    action();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

const valid = `node:
  name: brand
datasets:
  credit:
    file: ./credit.csv
    id: id
    features:
      - { name: x0, type: numeric }
      - { name: x1, type: numeric }
      - { name: channel, type: categorical }
`;

describe('loadConfigFile', () => {
  it('loads a valid file and deep-freezes the result', async () => {
    const file = await fileWith('valid.yaml', valid);

    const config = await loadConfigFile(file, schema);

    expect(config.datasets?.['credit']?.features).toEqual([
      { name: 'x0', type: 'numeric' },
      { name: 'x1', type: 'numeric' },
      { name: 'channel', type: 'categorical' },
    ]);
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.datasets?.['credit']?.features)).toBe(true);
    expect(Object.isFrozen(config.node)).toBe(true);
  });

  it('names the file, the field path, the line and the allowed values for a wrong enum value', async () => {
    const file = await fileWith('enum.yaml', valid.replace('type: categorical', 'type: categorcal'));

    const error = await rejection(loadConfigFile(file, schema));

    expect(error.code).toBe('CONFIG_INVALID');
    expect(error.file).toBe(file);
    expect(error.field).toBe('datasets.credit.features[2].type');
    expect(error.fix).toBe('use one of: numeric, categorical (did you mean "categorical"?)');
    expect(error.message).toContain(`${file}: datasets.credit.features[2].type: "categorcal" is not allowed (line 10)`);
  });

  it('reports a missing file as CONFIG_NOT_FOUND', async () => {
    const file = join(dir, 'nope.yaml');

    const error = await rejection(loadConfigFile(file, schema));

    expect(error.code).toBe('CONFIG_NOT_FOUND');
    expect(error.message).toContain(`${file}: does not exist. Fix: check the path`);
  });

  it('reports a directory given as the config file as CONFIG_NOT_FOUND', async () => {
    await mkdir(join(dir, 'adir'), { recursive: true });

    const error = await rejection(loadConfigFile(join(dir, 'adir'), schema));

    expect(error.code).toBe('CONFIG_NOT_FOUND');
    expect(error.message).toContain('is a directory, not a file');
  });

  it('names the line of a YAML syntax error', async () => {
    const file = await fileWith('syntax.yaml', 'node:\n  name: brand\ndatasets: [1, 2\nseed: 3\n');

    const error = await rejection(loadConfigFile(file, schema));

    expect(error.code).toBe('CONFIG_INVALID');
    expect(error.field).toBe('');
    expect(error.message).toMatch(
      /syntax\.yaml: is not valid YAML at line 4: .*Fix: correct the YAML syntax on or just before line 4/,
    );
  });

  it('rejects a key written twice', async () => {
    const file = await fileWith('twice.yaml', 'node:\n  name: brand\n  name: other\n');

    const error = await rejection(loadConfigFile(file, schema));

    expect(error.code).toBe('CONFIG_INVALID');
    expect(error.message).toContain('is not valid YAML at line 3: Map keys must be unique');
  });

  it('says an empty file is empty', async () => {
    const file = await fileWith('empty.yaml', '# nothing here\n');

    const error = await rejection(loadConfigFile(file, schema));

    expect(error.code).toBe('CONFIG_INVALID');
    expect(error.message).toBe(`${file}: is empty. Fix: write the configuration as YAML \`key: value\` lines`);
  });
});

describe('validateConfigText', () => {
  it('rejects an unknown key and lists the keys allowed there', () => {
    const error = thrown(() => validateConfigText('node:\n  name: brand\n  colour: red\n', schema, 'node.yaml'));

    expect(error.field).toBe('node.colour');
    expect(error.fix).toBe('remove it; allowed keys here are: name, heartbeatIntervalMs');
    expect(error.message).toContain('node.yaml: node.colour: is not a known key (line 3)');
  });

  it('suggests the key a typo probably meant, instead of also reporting it missing', () => {
    const error = thrown(() => validateConfigText('node:\n  nme: brand\n', schema, 'node.yaml'));

    expect(error.field).toBe('node.nme');
    expect(error.fix).toBe(
      'remove it (or rename it to "name" if that is what you meant); allowed keys here are: name, heartbeatIntervalMs',
    );
    expect(error.details['issues']).toHaveLength(1);
  });

  it('asks for a missing key to be added', () => {
    const error = thrown(() =>
      validateConfigText(
        'node:\n  name: brand\ndatasets:\n  credit:\n    id: id\n    features: all\n',
        schema,
        'node.yaml',
      ),
    );

    expect(error.field).toBe('datasets.credit.file');
    expect(error.message).toContain('datasets.credit.file: is missing (line 4). Fix: add it (text)');
  });

  it('follows the union branch the author was writing', () => {
    const error = thrown(() =>
      validateConfigText(
        'node: { name: brand }\ndatasets:\n  c:\n    file: f\n    id: { rownumber: true }\n    features: all\n',
        schema,
        'node.yaml',
      ),
    );

    expect(error.field).toBe('datasets.c.id.rownumber');
    expect(error.fix).toContain('rename it to "rowNumber"');
  });

  it('lists the alternatives when no branch of a union fits', () => {
    const error = thrown(() =>
      validateConfigText(
        'node: { name: brand }\ndatasets:\n  c: { file: f, id: id, features: al }\n',
        schema,
        'node.yaml',
      ),
    );

    expect(error.field).toBe('datasets.c.features');
    expect(error.message).toContain('must be "all" or a list, but is "al"');
  });

  it('explains a number written with a unit, and a number in quotes', () => {
    const withUnit = thrown(() =>
      validateConfigText('node: { name: brand, heartbeatIntervalMs: 5s }\n', schema, 'n.yaml'),
    );
    const quoted = thrown(() =>
      validateConfigText('node: { name: brand, heartbeatIntervalMs: "5000" }\n', schema, 'n.yaml'),
    );

    expect(withUnit.fix).toBe('write the number alone; the unit is part of the field name');
    expect(quoted.fix).toBe('remove the quotes: 5000');
  });

  it('explains a value out of range and a pattern mismatch', () => {
    const range = thrown(() =>
      validateConfigText('node: { name: brand, heartbeatIntervalMs: 10 }\n', schema, 'n.yaml'),
    );
    const pattern = thrown(() => validateConfigText('node: { name: Brand }\n', schema, 'n.yaml'));

    expect(range.message).toContain(
      'node.heartbeatIntervalMs: must be at least 100, but is 10 (line 1). Fix: use a value that is at least 100',
    );
    expect(pattern.message).toContain('node.name: must be lowercase letters, but is "Brand"');
    expect(pattern.fix).toBe('write a value that matches /^[a-z]+$/');
  });

  it('refuses a YAML alias bomb instead of expanding it', () => {
    const levels = ['a: &a [x, x, x, x, x, x, x, x, x]'];
    for (const [from, to] of [
      ['a', 'b'],
      ['b', 'c'],
      ['c', 'd'],
    ] as const)
      levels.push(`${to}: &${to} [${Array(9).fill(`*${from}`).join(', ')}]`);

    const error = thrown(() => validateConfigText(`${levels.join('\n')}\n`, schema, 'bomb.yaml'));

    expect(error.code).toBe('CONFIG_INVALID');
    expect(error.message).toContain('bomb.yaml: cannot be expanded');
  });

  it("uses a refinement's own fix", () => {
    const error = thrown(() => validateConfigText('node: { name: brand }\nseed: 13\n', schema, 'n.yaml'));

    expect(error.message).toBe('n.yaml: seed: is unlucky (line 2). Fix: pick any other number');
  });

  it('reports the first problem in file order and keeps every problem in details', () => {
    const error = thrown(() => validateConfigText('seed: x\nnode:\n  name: brand\n  extra: 1\n', schema, 'n.yaml'));

    expect(error.field).toBe('seed');
    expect(error.message).toContain('(1 more: node.extra is not a known key (line 4))');
    expect(error.details['issues']).toEqual([
      { field: 'seed', problem: 'must be a number, but is "x"', fix: 'write a number', line: 1 },
      {
        field: 'node.extra',
        problem: 'is not a known key',
        fix: 'remove it; allowed keys here are: name, heartbeatIntervalMs',
        line: 4,
      },
    ]);
  });
});

describe('validateConfig', () => {
  it('raises the given code for an already-parsed object, without line numbers', () => {
    const error = thrown(() =>
      validateConfig({ node: { name: 'brand', port: 1 } }, schema, 'job spec', 'JOB_SPEC_INVALID'),
    );

    expect(error.code).toBe('JOB_SPEC_INVALID');
    expect(error.message).toBe(
      'job spec: node.port: is not a known key. Fix: remove it; allowed keys here are: name, heartbeatIntervalMs',
    );
  });

  it('returns a frozen copy of a valid object', () => {
    const result = validateConfig({ node: { name: 'brand' } }, schema, 'job spec');

    expect(result).toEqual({ node: { name: 'brand' } });
    expect(Object.isFrozen(result.node)).toBe(true);
  });
});

describe('resolveConfigPath', () => {
  it('resolves a relative path against the config file directory, not the working directory', () => {
    expect(resolveConfigPath('/etc/tandem/brand.yaml', '../data/a.csv')).toBe('/etc/data/a.csv');
    expect(resolveConfigPath('/etc/tandem/brand.yaml', './certs/ca.crt')).toBe('/etc/tandem/certs/ca.crt');
  });

  it('keeps an absolute path as it is', () => {
    expect(resolveConfigPath('/etc/tandem/brand.yaml', '/srv/data/a.csv')).toBe('/srv/data/a.csv');
  });
});

describe('deepFreeze', () => {
  it('freezes nested objects and arrays but leaves typed arrays writable', () => {
    const value = deepFreeze({ a: [{ b: 1 }], t: new Float64Array(2) });

    expect(Object.isFrozen(value.a[0])).toBe(true);
    value.t[0] = 5;
    expect(value.t[0]).toBe(5);
  });
});

describe('environment variables in node configs', () => {
  it('substitutes set variables and defaults, and names an unset one with its line', () => {
    const env = { TANDEM_LISTEN: '127.0.0.1:9000' };
    expect(
      interpolateEnv('listen: ${TANDEM_LISTEN}\nport: ${TANDEM_PORT:-7443}\n', 'c.yaml', 'CONFIG_INVALID', env),
    ).toBe('listen: 127.0.0.1:9000\nport: 7443\n');
    expect(() => interpolateEnv('a: 1\nb: ${TANDEM_MISSING}\n', 'c.yaml', 'CONFIG_INVALID', env)).toThrow(
      /c\.yaml: line 2: uses \$\{TANDEM_MISSING\}, but the environment variable TANDEM_MISSING is not set\. Fix: set TANDEM_MISSING/,
    );
    expect(interpolateEnv('plain: $HOME and {x}', 'c.yaml', 'CONFIG_INVALID', env)).toBe('plain: $HOME and {x}');
  });
});
