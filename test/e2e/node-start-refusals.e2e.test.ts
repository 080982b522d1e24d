/**
 * Starts that must be refused, with real processes (issue #16): a second
 * `party start` or `coordinator start` on a data directory a running node
 * holds (two nodes would share its inbox, checkpoints and job store and
 * take each other's messages), and a coordinator on a damaged job store
 * (a catalogued error naming the file and the fix, not a stack trace). The
 * nodes that were running carry on and train a model; an empty store
 * starts with a warning.
 */
import { spawn } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { exampleParties, lrSpec } from '../support/federation.ts';
import { startProcessFederation, type ProcessFederation } from '../support/processes.ts';

const BIN = resolve(import.meta.dirname, '..', '..', 'bin', 'tandem.mjs');

type Run = { code: number | null; out: string };

/** Runs `tandem …` until it exits, or stops it with SIGTERM once `until` matches its output. */
function tandem(args: readonly string[], until?: RegExp, timeoutMs = 30_000): Promise<Run> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, FORCE_COLOR: '0' },
    });
    let out = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      fail(new Error(`tandem ${args.join(' ')} did not finish in ${timeoutMs} ms:\n${out}`));
    }, timeoutMs);
    const read = (chunk: Buffer): void => {
      out += chunk.toString();
      if (until?.test(out) === true) child.kill('SIGTERM');
    };
    child.stdout.on('data', read);
    child.stderr.on('data', read);
    child.on('exit', (code) => {
      clearTimeout(timer);
      done({ code, out });
    });
  });
}

async function waitForLog(fed: ProcessFederation, name: string, text: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if ((await readFile(join(fed.dir, 'logs', `${name}.log`), 'utf8').catch(() => '')).includes(text)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${name} never logged "${text}"`);
}

describe('starting a node', () => {
  let fed: ProcessFederation;
  beforeAll(async () => {
    fed = await startProcessFederation(exampleParties('breast'));
    for (const name of ['brand', 'partner']) await waitForLog(fed, name, 'connected to the coordinator');
  }, 60_000);
  afterAll(async () => {
    await fed.close();
  });

  it(
    'on a data directory a running node holds is refused, naming its pid and the lock file, and the running nodes still train a model',
    { timeout: 120_000 },
    async () => {
      for (const [name, command] of [
        ['brand', 'party'],
        ['coordinator', 'coordinator'],
      ] as const) {
        const pid = fed.nodes.get(name)?.child.pid;
        const second = await tandem([command, 'start', '--config', join(fed.dir, `${name}.yaml`)]);
        expect(second.code, second.out).toBe(75);
        expect(second.out).toContain('tandem: error NODE_ALREADY_RUNNING:');
        expect(second.out).toContain(`(pid ${pid}, since `);
        expect(second.out).toContain(`lock file ${join(fed.dir, name, 'node.lock')}`);
        expect(second.out).not.toContain('please report');
      }
      const admin = await fed.admin();
      try {
        const { jobId } = await admin.submit(
          await fed.write('job.yaml', lrSpec({ training: { maxEpochs: 2, tolerance: 0 } })),
        );
        const final = await admin.watch(jobId, () => undefined);
        expect(final.stage, final.message).toBe('completed');
      } finally {
        admin.close();
      }
    },
  );

  it(
    'on a damaged job store is refused with the file and the fix, no stack trace; an empty store starts, with a warning',
    { timeout: 60_000 },
    async () => {
      const config = async (name: string, store: string | Uint8Array): Promise<string> => {
        const dataDir = join(fed.dir, name);
        await mkdir(dataDir, { recursive: true });
        await writeFile(join(dataDir, 'jobs.sqlite'), store);
        const certs = join(fed.dir, 'certs');
        return fed.write(
          `${name}.yaml`,
          stringify({
            coordinator: {
              listen: '127.0.0.1:0',
              dataDir,
              certs: {
                ca: join(certs, 'ca.crt'),
                cert: join(certs, 'coordinator.crt'),
                key: join(certs, 'coordinator.key'),
              },
              admins: ['admin'],
            },
          }),
        );
      };
      const damaged = await tandem([
        'coordinator',
        'start',
        '--config',
        await config('damaged', 'SQLite format 3\0'.padEnd(8192, 'x')),
      ]);
      expect(damaged.code, damaged.out).toBe(74);
      expect(damaged.out).toContain(
        `tandem: error STORE_CORRUPT: ${join(fed.dir, 'damaged', 'jobs.sqlite')} is not a readable job store (SQLite: `,
      );
      expect(damaged.out).toContain('Fix: restore it from a backup of the data directory, or move it away');
      expect(damaged.out).not.toContain('please report');
      expect(damaged.out).not.toMatch(/\n\s+at /);

      const empty = await tandem(
        ['coordinator', 'start', '--config', await config('empty', '')],
        /coordinator listening/,
      );
      expect(empty.out).toContain('the job store is an empty file: starting with no jobs');
      expect(empty.out).toContain('coordinator listening');
    },
  );
});
