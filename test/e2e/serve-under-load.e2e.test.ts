/**
 * The issue's load test: the guest's and the host's scoring endpoints
 * (`tandem serve`, separate processes) answer a steady stream of requests for
 * 60 s while the same federation trains one job after another. Every answer
 * must be a 200 with the host's part included, every job must complete, and
 * neither endpoint's resident memory may keep growing.
 *
 * Why an e2e test and not a benchmark: it asserts a property (no errors, no
 * leak), which CI must check on every change; `npm run bench -- serve`
 * measures latency and throughput, which have no pass mark.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import {
  EXAMPLE_DATA,
  exampleParties,
  lrSpec,
  partyConfigFile,
  runJob,
  startFederation,
  type Federation,
} from '../support/federation.ts';
import { bearerToken, runCli } from '../support/serving.ts';

const BIN = join(import.meta.dirname, '..', '..', 'bin', 'tandem.mjs');
const LOAD_MS = 60_000;
const SAMPLE_MS = 5000;

type Endpoint = { child: ChildProcess; port: number; peerPort: number; tokenFile: string };

async function serve(args: string[]): Promise<Endpoint> {
  const child = spawn(
    process.execPath,
    [BIN, 'serve', '--port', '0', '--peer-port', '0', '--log-level', 'warn', ...args],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const line = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout?.on('data', (c: Buffer) => {
      out += c.toString();
      if (out.includes('\n')) resolve(out.split('\n')[0] ?? '');
    });
    child.once('exit', (code) => reject(new Error(`serve exited with ${code}`)));
  });
  const ports = JSON.parse(line) as { port: number; peerPort: number; tokenFile: string };
  return { child, port: ports.port, peerPort: ports.peerPort, tokenFile: ports.tokenFile };
}

async function rssMiB(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? NaN) / 1024;
}

describe('scoring endpoints under load while a job trains', () => {
  let fed: Federation;
  let guest: Endpoint;
  let host: Endpoint;
  let rows: Array<{ id: string; features: Record<string, string> }>;
  let token: string;

  beforeAll(async () => {
    fed = await startFederation({ parties: exampleParties('breast') });
    const first = await runJob(fed, lrSpec({ training: { maxEpochs: 3 } }));
    expect(first.stage, first.message).toBe('completed');
    const models: Record<string, string> = {};
    for (const name of ['brand', 'partner']) {
      models[name] = join(fed.dir, `${name}-model`);
      // Not spawnSync: export asks the coordinator, which runs in this process, to co-sign.
      const run = await runCli(BIN, [
        'model',
        'export',
        '--config',
        partyConfigFile(fed, name),
        '--job',
        first.jobId,
        '--out',
        models[name] ?? '',
      ]);
      expect(run.status, run.stderr).toBe(0);
    }
    host = await serve(['--model', models['partner'] ?? '', '--config', partyConfigFile(fed, 'partner')]);
    guest = await serve([
      '--model',
      models['brand'] ?? '',
      '--config',
      partyConfigFile(fed, 'brand'),
      '--host-endpoint',
      `partner=https://127.0.0.1:${host.peerPort}`,
      '--host-timeout-ms',
      '10000',
    ]);
    token = await bearerToken(guest.tokenFile);
    const [header = '', ...lines] = gunzipSync(await readFile(join(EXAMPLE_DATA, 'breast_guest.csv.gz')))
      .toString('utf8')
      .trim()
      .split('\n');
    const columns = header.split(',');
    rows = lines.map((line) => {
      const cells = Object.fromEntries(columns.map((c, k) => [c, line.split(',')[k] ?? '']));
      const { id = '', y: _label, ...features } = cells;
      return { id, features };
    });
  }, 180_000);

  afterAll(async () => {
    for (const e of [guest, host]) e?.child.kill('SIGTERM');
    await fed?.close();
  });

  it('answers every request for 60 s, with flat memory, while jobs train', { timeout: 240_000 }, async () => {
    const end = Date.now() + LOAD_MS;
    const failures: string[] = [];
    let answered = 0;
    // Four clients, each one request at a time with a short pause: a steady load that leaves the trainer CPU.
    const client = async (k: number): Promise<void> => {
      for (let i = k; Date.now() < end; i += 4) {
        const row = rows[i % rows.length] as (typeof rows)[number];
        try {
          const res = await fetch(`http://127.0.0.1:${guest.port}/v1/score`, {
            method: 'POST',
            body: JSON.stringify(row),
            headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
          });
          const body = (await res.json()) as { complete?: boolean; hosts?: Record<string, string> };
          if (res.status !== 200 || body.complete !== true || body.hosts?.['partner'] !== 'ok')
            failures.push(`${res.status} ${JSON.stringify(body)}`);
        } catch (error) {
          failures.push(String(error));
        }
        answered += 1;
        await new Promise((r) => setTimeout(r, 10));
      }
    };
    const samples: Array<{ atMs: number; guest: number; host: number }> = [];
    const started = Date.now();
    const sampler = setInterval(() => {
      void Promise.all([rssMiB(guest.child.pid ?? 0), rssMiB(host.child.pid ?? 0)]).then(([g, h]) =>
        samples.push({ atMs: Date.now() - started, guest: g, host: h }),
      );
    }, SAMPLE_MS);
    // Jobs back to back for as long as the load lasts.
    const jobs: string[] = [];
    const training = (async () => {
      while (Date.now() < end)
        jobs.push((await runJob(fed, lrSpec({ training: { maxEpochs: 20, tolerance: 0 } }), 'load-job.yaml')).stage);
    })();
    await Promise.all([0, 1, 2, 3].map(client));
    clearInterval(sampler);
    await training;

    console.log(
      `load: ${answered} requests in ${LOAD_MS / 1000} s, ${failures.length} failed; ${jobs.length} jobs (${jobs.join(', ')}); RSS MiB (guest/host) ${samples.map((s) => `${Math.round(s.atMs / 1000)}s ${s.guest.toFixed(0)}/${s.host.toFixed(0)}`).join(', ')}`,
    );
    expect(failures.slice(0, 5)).toEqual([]);
    expect(answered).toBeGreaterThan(500);
    expect(jobs.length).toBeGreaterThan(0);
    expect(jobs.every((stage) => stage === 'completed')).toBe(true);
    // Flat memory: after a 15 s warm-up, neither endpoint grows by more than 20 %.
    const warm = samples.filter((s) => s.atMs >= 15_000);
    expect(warm.length).toBeGreaterThanOrEqual(8);
    for (const side of ['guest', 'host'] as const) {
      const first = warm[0]?.[side] ?? NaN;
      const last = warm.at(-1)?.[side] ?? NaN;
      expect(last, `${side} RSS ${first.toFixed(0)} → ${last.toFixed(0)} MiB`).toBeLessThan(first * 1.2);
    }
  });
});
