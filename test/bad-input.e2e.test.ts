/**
 * Bad input through the real CLI, as a user meets it: each row writes a few
 * small files into its own temporary directory, runs `node bin/tandem.mjs`
 * there as a child process and checks that the failure
 *   - exits with the catalogued exit code and prints the catalogued code,
 *   - names the file and the field, column or line, and says how to fix it,
 *   - prints no stack trace,
 *   - and leaves the input byte-for-byte as it was, writing nothing new.
 *
 * The rows are in test/bad-input/. Dataset rows use `tandem party-check`, the one command that loads data
 * without a federation.
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ERROR_CATALOG } from '../protocol/errors.ts';
import { GOOD_CSV, JOB_HEAD, TWO_PARTIES, partyWith, type BadInput } from './bad-input/builders.ts';
import { CONFIG_CASES } from './bad-input/config-cases.ts';
import { DATA_CASES } from './bad-input/data-cases.ts';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const CLI = join(ROOT, 'bin', 'tandem.mjs');

// ——— The table (test/bad-input/) and running the CLI ———

const CASES: readonly BadInput[] = [...DATA_CASES, ...CONFIG_CASES];

type Run = { readonly exitCode: number | null; readonly stdout: string; readonly stderr: string };

let root: string;

function tandem(args: readonly string[], cwd: string): Promise<Run> {
  const env = {
    ...process.env,
    // Node 24 first on PATH, for anything the CLI itself might spawn.
    PATH: `${dirname(process.execPath)}${delimiter}${process.env['PATH'] ?? ''}`,
    NO_COLOR: '1',
    FORCE_COLOR: '0',
    // Compiled code cached across the many short runs (outside the rows' directories): about 3x faster start-up.
    NODE_COMPILE_CACHE: join(root, '.compile-cache'),
  };
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [CLI, ...args],
      { cwd, env, timeout: 30_000, maxBuffer: 4 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (error !== null && typeof error.code !== 'number') {
          // Killed by the timeout (a node that started instead of failing) or not spawned at all.
          reject(
            new Error(
              `tandem ${args.join(' ')} did not exit by itself (${error.message})\nstdout: ${stdout}\nstderr: ${stderr}`,
            ),
          );
          return;
        }
        resolve({ exitCode: error === null ? 0 : (error.code as number), stdout, stderr });
      },
    );
  });
}

/** Every file under `dir` with its bytes, by relative path. */
async function snapshot(dir: string): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>();
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    const path = join(entry.parentPath, entry.name);
    out.set(
      path.slice(dir.length + 1) + (entry.isDirectory() ? '/' : ''),
      entry.isDirectory() ? Buffer.alloc(0) : await readFile(path),
    );
  }
  return out;
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'tandem-bad-input-'));
  await tandem(['--version'], root); // fills the compile cache before the rows run in parallel
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('the table', () => {
  it('has at least 20 rows, each with a distinct name', () => {
    expect(CASES.length).toBeGreaterThanOrEqual(20);
    expect(new Set(CASES.map((c) => c.name)).size).toBe(CASES.length);
  });

  it('can reach `tandem party-check`, which the data rows need', async () => {
    // Unregistered, `--help` still exits 0, with the general help: look for the command's own options.
    const run = await tandem(['party-check', '--help'], root);
    expect(run.stdout, 'register partyCheckCommand (cli/commands/party-check.ts) in cli/commands/index.ts').toMatch(
      /tandem party-check[\s\S]*--job/,
    );
  });
});

// Controls: the same building blocks, unbroken, pass. Without these a row could
// pass because everything fails.
describe.concurrent('good input through the same CLI', () => {
  it('party-check accepts the unbroken party config and data, and prints rows, ids, features and label balance', async () => {
    const dir = join(root, 'good-party');
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'party.yaml'), partyWith());
    await writeFile(join(dir, 'data.csv'), GOOD_CSV);
    const run = await tandem(['party-check', '--config', 'party.yaml'], dir);
    expect(run.exitCode, run.stderr).toBe(0);
    expect(run.stderr).toBe('');
    expect(run.stdout).toMatch(
      /^credit\s+data\.csv\s+4\s+column "id"\s+2 numeric\s+0\s+0: 2 \(50\.0%\), 1: 2 \(50\.0%\)\s+ok$/m,
    );
    expect(run.stdout).toContain('1 dataset(s) load cleanly.');
  });

  it('party-check --job accepts the unbroken job spec', async () => {
    const dir = join(root, 'good-job');
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'party.yaml'), partyWith());
    await writeFile(join(dir, 'data.csv'), GOOD_CSV);
    await writeFile(join(dir, 'job.yaml'), `${JOB_HEAD}${TWO_PARTIES}training: { maxEpochs: 5, batchSize: 64 }\n`);
    const run = await tandem(['party-check', '--config', 'party.yaml', '--job', 'job.yaml'], dir);
    expect(run.exitCode, run.stderr).toBe(0);
    expect(run.stdout).toContain(
      'brand is a guest of job "default-credit-lr" (job.yaml) with dataset "credit": ready.',
    );
  });

  it("party-check loads the example federation's real data", async () => {
    const run = await tandem(
      [
        'party-check',
        '--config',
        join(ROOT, 'examples/default-credit/brand.yaml'),
        '--job',
        join(ROOT, 'examples/default-credit/job.yaml'),
      ],
      root,
    );
    expect(run.exitCode, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^credit\s+\S+default_credit_guest\.csv\.gz\s+30000\s/m);
  });

  it('party-check reports every dataset, and exits with the code of the first that fails', async () => {
    const dir = join(root, 'mixed');
    await mkdir(dir, { recursive: true });
    await writeFile(
      join(dir, 'party.yaml'),
      `${partyWith()}  second:\n    file: second.csv\n    id: id\n    features: all\n`,
    );
    await writeFile(join(dir, 'data.csv'), 'id,y,a,b\n1,0,1,2\n1,1,2,3\n');
    await writeFile(join(dir, 'second.csv'), 'id,a\n1,5\n2,6\n');
    const run = await tandem(['party-check', '--config', 'party.yaml'], dir);
    expect(run.exitCode).toBe(ERROR_CATALOG.DATA_ID_DUPLICATE.exitCode);
    expect(run.stdout).toMatch(/^credit\s+data\.csv\s+FAILED \(DATA_ID_DUPLICATE\)$/m);
    expect(run.stdout).toMatch(/^second\s+second\.csv\s+2\s.*ok$/m);
    expect(run.stderr).toContain(`tandem: error DATA_ID_DUPLICATE: ${join(dir, 'data.csv')}, line 3, column "id"`);
  });
});

describe.concurrent('bad input through the real CLI', () => {
  it.each(CASES.map((c, i) => ({ ...c, index: i })))('$name', async (c) => {
    const dir = join(root, String(c.index).padStart(2, '0'));
    await mkdir(dir, { recursive: true });
    for (const [name, content] of Object.entries(c.files)) {
      await mkdir(dirname(join(dir, name)), { recursive: true });
      await writeFile(join(dir, name), content);
    }
    const before = await snapshot(dir);

    const run = await tandem(c.args, dir);

    const context = `tandem ${c.args.join(' ')}\nexit ${String(run.exitCode)}\nstderr:\n${run.stderr}\nstdout:\n${run.stdout}`;
    expect(run.exitCode, context).toBe(ERROR_CATALOG[c.code].exitCode);
    expect(run.stderr, context).toContain(`tandem: error ${c.code}: `);
    for (const text of c.says) expect(run.stderr, context).toContain(text.replaceAll('{dir}', dir));
    const fix = /Fix: (.*)$/m.exec(run.stderr)?.[1] ?? '';
    expect(fix, context).toContain(c.fix);
    // No stack trace, no internal-error banner.
    expect(run.stderr, context).not.toMatch(/^\s+at .+[(:]\d+/m);
    expect(run.stderr, context).not.toMatch(/unexpected internal error|node:internal|\.ts:\d+:\d+/);
    // The input is untouched and nothing was written: not a state dir, a database, nor a certificate.
    const after = await snapshot(dir);
    expect([...after.keys()].sort(), context).toEqual([...before.keys()].sort());
    for (const [name, bytes] of before) expect(after.get(name)?.equals(bytes), `${name} changed`).toBe(true);
  });
});
