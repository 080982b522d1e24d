/**
 * A brand's first hour on its own table, through the real CLI as issue #19
 * met it: a marketing-response file with text columns (`job`, `marital`,
 * `default: yes/no`…) and a yes/no outcome. `data inspect` describes it and
 * writes a `datasets:` block; pasted into a node config it passes
 * `party-check`; `features: all` types the text columns instead of stopping
 * at the first; declaring every column numeric fails once, naming all the
 * text columns. Then an operator certificate is added to the existing CA.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Random, seedFrom } from '../../protocol/random.ts';

const CLI = join(import.meta.dirname, '..', '..', 'bin', 'tandem.mjs');

type Run = { readonly exitCode: number; readonly stdout: string; readonly stderr: string };

let dir: string;

function tandem(...args: string[]): Promise<Run> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [CLI, ...args],
      { cwd: dir, timeout: 60_000, env: { ...process.env, NO_COLOR: '1' } },
      (error, stdout, stderr) => {
        if (error !== null && typeof error.code !== 'number')
          reject(new Error(`tandem ${args.join(' ')} did not exit by itself: ${stderr}`, { cause: error }));
        else resolve({ exitCode: error === null ? 0 : (error.code as number), stdout, stderr });
      },
    );
  });
}

const NODE =
  'node:\n  name: brand\n  coordinator: 127.0.0.1:7443\n  dataDir: ./state\n  certs: { ca: certs/ca.crt, cert: certs/brand.crt, key: certs/brand.key }\n';
const TEXT_COLUMNS = ['job', 'marital', 'education', 'default', 'housing', 'contact'];

/** 600 seeded rows shaped like a bank's campaign export: 11 columns, 6 of them text, and a yes/no outcome. */
function marketingCsv(): string {
  const random = new Random(seedFrom('first-hour'));
  const pick = <T>(values: readonly T[]): T => values[Math.floor(random.nextFloat() * values.length)] as T;
  const lines = ['customer,age,job,marital,education,default,balance,housing,contact,duration,campaign,y'];
  for (let i = 0; i < 600; i++) {
    const duration = Math.floor(random.nextFloat() * 900);
    lines.push(
      [
        `c${(100_000 + i * 7).toString(36)}`,
        20 + Math.floor(random.nextFloat() * 50),
        pick(['admin.', 'blue-collar', 'technician', 'services', 'management']),
        pick(['married', 'single', 'divorced']),
        pick(['primary', 'secondary', 'tertiary', 'unknown']),
        pick(['no', 'no', 'no', 'yes']),
        Math.round((random.nextFloat() - 0.2) * 5000),
        pick(['yes', 'no']),
        pick(['cellular', 'telephone', '']),
        duration,
        1 + Math.floor(random.nextFloat() * 5),
        duration > 600 && random.nextFloat() < 0.7 ? 'yes' : 'no',
      ].join(','),
    );
  }
  return `${lines.join('\n')}\n`;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tandem-first-hour-'));
  await writeFile(join(dir, 'brand.csv'), marketingCsv());
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('a new table, through the CLI', () => {
  it('data inspect types every column and writes a block that party-check accepts as it is', async () => {
    const inspect = await tandem('data', 'inspect', 'brand.csv', '--label', 'y', '--name', 'campaign');
    const block = /^datasets:\n[\s\S]*$/m.exec(inspect.stdout)?.[0] ?? '';
    await writeFile(join(dir, 'inspected.yaml'), `${NODE}${block}`);
    const check = await tandem('party-check', '--config', 'inspected.yaml');

    expect(inspect.exitCode, inspect.stderr).toBe(0);
    expect(inspect.stdout).toMatch(/^customer \[id\]\s+id-like\s+0\s+600\s/m);
    expect(inspect.stdout).toMatch(/^marital\s+categorical\s+0\s+3\s+/m);
    expect(inspect.stdout).toMatch(/^contact\s+categorical\s+\d+ \(\d+\.\d %\)\s+2\s+/m);
    expect(inspect.stdout).toMatch(/^default\s+boolean\s+/m);
    expect(block).toContain(
      '    id: customer\n    label: { column: "y", positive: "yes", negative: "no" }\n    features:  # features: all gives the same types\n',
    );
    expect(block).toContain('      - { name: job, type: categorical }  # 5 levels\n');
    expect(check.exitCode, check.stderr).toBe(0);
    expect(check.stdout).toMatch(/^campaign\s+brand\.csv\s+600\s+column "customer"\s+4 numeric, 6 categorical\s/m);
  });

  it('prints the same as JSON for machines', async () => {
    const run = await tandem('data', 'inspect', 'brand.csv', '--label', 'y', '--json');

    const parsed = JSON.parse(run.stdout) as { rows: number; columns: { name: string; kind: string }[]; yaml: string };
    expect(parsed.rows).toBe(600);
    expect(parsed.columns.filter((c) => c.kind === 'categorical' || c.kind === 'boolean').map((c) => c.name)).toEqual([
      ...TEXT_COLUMNS,
      'y',
    ]);
    expect(parsed.yaml).toMatch(/^datasets:\n {2}brand:\n/);
  });

  it('features: all loads the text columns as categories and says so; declaring them numeric fails once, naming all six', async () => {
    await writeFile(
      join(dir, 'all.yaml'),
      `${NODE}datasets:\n  campaign:\n    file: brand.csv\n    id: customer\n    label: { column: y, positive: "yes", negative: "no" }\n`,
    );
    const numeric = ['age', ...TEXT_COLUMNS, 'balance'].map((c) => `      - { name: ${c}, type: numeric }\n`).join('');
    await writeFile(
      join(dir, 'numeric.yaml'),
      `${NODE}datasets:\n  campaign:\n    file: brand.csv\n    id: customer\n    label: { column: y, positive: "yes", negative: "no" }\n    features:\n${numeric}`,
    );

    const all = await tandem('party-check', '--config', 'all.yaml');
    const declared = await tandem('party-check', '--config', 'numeric.yaml');

    expect(all.exitCode, all.stderr).toBe(0);
    expect(all.stdout).toContain(
      `campaign: features: all read ${TEXT_COLUMNS.join(', ')} as categorical, the rest as numeric.`,
    );
    expect(declared.exitCode).toBe(65);
    expect(declared.stderr).toMatch(
      /^tandem: error DATA_VALUE_INVALID: \S+brand\.csv, line 2, column "job": "[^"]+" is not a number; 5 more columns declared numeric hold text too: "marital" \("[^"]+" on line 2\), "education"/m,
    );
    expect(declared.stderr).toContain(
      `declare them ${TEXT_COLUMNS.map((c) => `{ name: ${c}, type: categorical }`).join(', ')}`,
    );
  });

  it('says what is wrong with a file it cannot read', async () => {
    const run = await tandem('data', 'inspect', 'nowhere.csv');

    expect(run.exitCode).toBe(66);
    expect(run.stderr).toBe(
      `tandem: error DATA_FILE_NOT_FOUND: nowhere.csv: does not exist. Fix: check the path in the FILE argument (relative paths start from the current directory)\n`,
    );
  });
});

describe('one more identity for an existing federation', () => {
  it('certs init refuses to run over a CA and points at certs add, which adds an operator and leaves every other file as it was', async () => {
    await tandem('certs', 'init', '--parties', 'brand,partner', '--out', 'certs');
    const files = ['ca.crt', 'ca.key', 'coordinator.crt', 'brand.crt', 'brand.key', 'partner.key'];
    const before = await Promise.all(files.map((f) => readFile(join(dir, 'certs', f), 'utf8')));

    const again = await tandem('certs', 'init', '--parties', 'brand,partner', '--out', 'certs');
    const add = await tandem('certs', 'add', 'operator', '--out', 'certs');
    const after = await Promise.all(files.map((f) => readFile(join(dir, 'certs', f), 'utf8')));

    expect(again.exitCode).toBe(73);
    expect(again.stderr).toContain(
      'Fix: to add an identity signed by this CA, run `tandem certs add <name> --out certs`',
    );
    expect(again.stderr).toContain(
      '--force replaces the CA, after which every certificate it signed and every model exported under it no longer verifies',
    );
    expect(add.exitCode, add.stderr).toBe(0);
    expect(add.stdout).toMatch(/^operator\s+certs\/operator\.key\s+private key\s+0600$/m);
    expect(after).toEqual(before);
  });
});
