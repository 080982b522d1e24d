/**
 * `npm run bench -- serve`: serving performance.
 *
 * - Federated online scoring: a guest and one host endpoint on loopback
 *   (HTTP/JSON in, HTTPS + mTLS between them), open-loop load at a fixed
 *   request rate for 60 s (5 s with --quick) after a 15 s warm-up at the
 *   first rate (2 s); p50/p99 latency, the median of the p99s of 10 s
 *   windows (robust to a burst of other work on a shared machine), and
 *   achieved throughput.
 * - Batch scoring at the host: a 1M-row pool file (100k with --quick), 10
 *   numeric columns, streamed from CSV into a ranked audience, three times
 *   (once); the median rows/s.
 *
 * The guest and the host endpoint run as separate processes; the load
 * generator is a third, all on the same machine. The bench also runs
 * against commits from before the endpoints had bearer tokens (it sends a
 * token only when the guest wrote a token file), so a change can be
 * measured against its parent in the same session.
 */
import { Agent, request } from 'node:http';
import { spawn, type ChildProcess } from 'node:child_process';
import { pathToFileURL } from 'node:url';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { loadNodeIdentity } from '../runtime/certs.ts';
import { initCertificates } from '../runtime/certificate-authority.ts';
import { exportModel, loadModel } from '../serving/model-bundle.ts';
import type { ModelPart } from '../models/lr/part.ts';
import { scorePool } from '../serving/batch-scoring.ts';
import { jobRecordOf, testCoSigner } from '../test/support/serving.ts';
import { median, type Benchmark, type BenchContext, type BenchOutput } from './harness.ts';

const COLUMNS = 10;
const KEY = 'cd'.repeat(32);

function part(name: string, role: 'guest' | 'host'): ModelPart {
  const names = Array.from({ length: COLUMNS }, (_, j) => `${role[0] ?? 'x'}${j}`);
  return {
    format: 'tandem-model-part/1',
    jobId: 'job-bench',
    jobName: 'bench',
    party: name,
    role,
    parties: [
      { name: 'brand', role: 'guest', dataset: 'd' },
      { name: 'partner', role: 'host', dataset: 'd' },
    ],
    featureNames: names,
    weights: names.map((_, j) => 0.1 * (j + 1) * (j % 2 === 0 ? 1 : -1)),
    intercept: role === 'guest' ? -0.3 : 0,
    link: { degree: 6, clip: 6 },
    rowClip: null,
    scoringKey: KEY,
    summary: {},
    preprocess: {
      format: 'tandem-preprocess/1',
      missingPolicy: 'mean',
      missingTokens: ['', 'NA'],
      fittedRows: 1000,
      columns: names.map((n) => ({ name: n, kind: 'numeric' as const, mean: 0.5, std: 0.3, indicator: false })),
      outputColumns: names,
    },
  };
}

async function writePool(file: string, rows: number, prefix: string): Promise<void> {
  const out = createWriteStream(file);
  const header = ['id', ...Array.from({ length: COLUMNS }, (_, j) => `${prefix}${j}`)].join(',');
  let chunk = [`${header}\n`];
  for (let r = 0; r < rows; r++) {
    const cells = [`u${r}`];
    for (let j = 0; j < COLUMNS; j++) cells.push((((r * 7919 + j * 104729) % 1000) / 1000).toFixed(3));
    chunk.push(`${cells.join(',')}\n`);
    if (chunk.length === 10_000) {
      if (!out.write(chunk.join(''))) await once(out, 'drain');
      chunk = [];
    }
  }
  out.end(chunk.join(''));
  await once(out, 'finish');
}

/** One endpoint in its own process (as in production); resolves with its ports and its token file once listening. */
async function endpoint(
  options: Record<string, unknown>,
): Promise<{ child: ChildProcess; port: number; peerPort?: number; tokenFile?: string }> {
  const source = `
    import { startServing } from '${pathToFileURL(join(import.meta.dirname, '..', 'serving', 'serve.ts')).href}';
    const s = await startServing(${JSON.stringify(options)});
    process.stdout.write(JSON.stringify({ port: s.port, peerPort: s.peerPort, tokenFile: s.tokens?.file }) + '\\n');
    process.on('SIGTERM', () => void s.close());`;
  // SERVE_NODE_FLAGS: node flags for the endpoints, e.g. --cpu-prof (NODE_OPTIONS refuses some of them).
  const flags = (process.env['SERVE_NODE_FLAGS'] ?? '').split(' ').filter((f) => f !== '');
  const child = spawn(process.execPath, [...flags, '--input-type=module', '-e', source], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const line = await new Promise<string>((resolve, reject) => {
    let out = '';
    // SERVE_CHILD_LOG=prefix: each endpoint's stdout (where --trace-gc prints) to prefix-guest.log and prefix-host.log.
    const logTo = process.env['SERVE_CHILD_LOG'];
    const log =
      logTo === undefined
        ? undefined
        : createWriteStream(`${logTo}-${options['peerPort'] === undefined ? 'guest' : 'host'}.log`);
    child.stdout?.on('data', (c: Buffer) => {
      log?.write(c);
      out += c.toString();
      // The first JSON line: node flags such as --trace-gc print to stdout too.
      const line = out.split('\n').find((l, i, all) => l.startsWith('{') && i < all.length - 1);
      if (line !== undefined) resolve(line);
    });
    child.on('exit', (code) => reject(new Error(`endpoint exited with ${code}`)));
  });
  return { child, ...(JSON.parse(line) as { port: number; peerPort?: number; tokenFile?: string }) };
}

/** A process's CPU time so far (user + system), in ms, from /proc (Linux); NaN elsewhere. */
async function cpuMs(pid: number | undefined): Promise<number> {
  try {
    // Fields after the parenthesised command name: utime and stime are the 12th and 13th, in clock ticks (100 per second).
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return NaN;
  }
}

const percentile = (sorted: Float64Array, p: number): number =>
  sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? NaN;

type Load = {
  p50: number;
  p99: number;
  /** The median of the p99s of consecutive windows of `windowSeconds`. */
  windowP99: number;
  max: number;
  sent: number;
  ok: number;
  fallbacks: number;
  throughput: number;
};

async function onlineLoad(
  port: number,
  token: string,
  rate: number,
  seconds: number,
  features: Record<string, string>,
  users: number,
  windowSeconds = seconds,
): Promise<Load> {
  const agent = new Agent({ keepAlive: true, maxSockets: 256 });
  const authorization = token === '' ? {} : { authorization: `Bearer ${token}` };
  // Request k's latency at [k] (NaN: no answer); request k is due at k / rate seconds, so its window is known.
  const latencies = new Float64Array(Math.ceil(seconds * rate) + 1).fill(NaN);
  let ok = 0;
  let fallbacks = 0;
  let sent = 0;
  let outstanding = 0;
  let drained: (() => void) | undefined;
  const settle = (): void => {
    outstanding--;
    if (outstanding === 0) drained?.();
  };
  const started = performance.now();
  const fire = (k: number): void => {
    outstanding++;
    const t0 = performance.now();
    const body = JSON.stringify({ id: `u${k % users}`, features });
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path: '/v1/score',
        method: 'POST',
        agent,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), ...authorization },
      },
      (res) => {
        let text = '';
        res.on('data', (c: Buffer) => (text += c.toString()));
        res.on('end', () => {
          latencies[k] = performance.now() - t0;
          if (res.statusCode === 200) {
            ok++;
            if (!text.includes('"complete":true')) fallbacks++;
          }
          settle();
        });
      },
    );
    req.on('error', settle);
    req.end(body);
  };
  // Open loop: requests are due at fixed times whether or not earlier ones have answered.
  while (performance.now() - started < seconds * 1000) {
    const due = Math.min(latencies.length, Math.floor(((performance.now() - started) / 1000) * rate));
    while (sent < due) fire(sent++);
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
  if (outstanding > 0) await new Promise<void>((resolve) => (drained = resolve));
  const elapsed = (performance.now() - started) / 1000;
  agent.destroy();
  const answered = (from: number, to: number): Float64Array =>
    latencies
      .subarray(from, to)
      .filter((x) => !Number.isNaN(x))
      .sort();
  const sorted = answered(0, sent);
  const perWindow = Math.round(windowSeconds * rate);
  const windows: number[] = [];
  for (let from = 0; from + perWindow <= sent; from += perWindow)
    windows.push(percentile(answered(from, from + perWindow), 0.99));
  return {
    p50: percentile(sorted, 0.5),
    p99: percentile(sorted, 0.99),
    windowP99: windows.length === 0 ? NaN : median(windows),
    max: sorted[sorted.length - 1] ?? NaN,
    sent,
    ok,
    fallbacks,
    throughput: ok / elapsed,
  };
}

async function run(ctx: BenchContext): Promise<BenchOutput> {
  const dir = await mkdtemp(join(tmpdir(), 'tandem-bench-serve-'));
  const seconds = ctx.quick ? 5 : 60;
  const windowSeconds = ctx.quick ? 1 : 10;
  const warmUpSeconds = ctx.quick ? 2 : 15;
  const batchRuns = ctx.quick ? 1 : 3;
  const poolRows = ctx.quick ? 100_000 : 1_000_000;
  const rates = ctx.quick ? [500] : [500, 1000];
  const users = 100_000;
  try {
    ctx.progress.step('setup: certificates, models, host data');
    const certs = join(dir, 'certs');
    await initCertificates({ outDir: certs, parties: ['brand', 'partner'] });
    const certsOf = (n: string) => ({
      ca: join(certs, 'ca.crt'),
      cert: join(certs, `${n}.crt`),
      key: join(certs, `${n}.key`),
    });
    await writePool(join(dir, 'host.csv'), users, 'h');
    const configs: Record<string, string> = {};
    const coordinator = await loadNodeIdentity(certsOf('coordinator'));
    const job = jobRecordOf([part('brand', 'guest'), part('partner', 'host')]);
    for (const [name, role] of [
      ['brand', 'guest'],
      ['partner', 'host'],
    ] as const) {
      const file = join(dir, `${name}.yaml`);
      await writeFile(
        file,
        stringify({
          node: { name, coordinator: '127.0.0.1:1', dataDir: join(dir, name), certs: certsOf(name) },
          datasets: { d: { file: join(dir, 'host.csv'), id: 'id', features: 'all' } },
        }),
      );
      configs[name] = file;
      await exportModel({
        part: part(name, role),
        identity: await loadNodeIdentity(certsOf(name)),
        outDir: join(dir, `${name}-model`),
        coSign: testCoSigner(coordinator, name, [job]),
      });
    }
    const host = await endpoint({
      modelDir: join(dir, 'partner-model'),
      configFile: configs['partner'] ?? '',
      port: 0,
      peerPort: 0,
    });
    const guest = await endpoint({
      modelDir: join(dir, 'brand-model'),
      configFile: configs['brand'] ?? '',
      port: 0,
      hostEndpoints: { partner: `https://127.0.0.1:${host.peerPort ?? 0}` },
      hostTimeoutMs: 100,
    });
    const stop = async (c: ChildProcess): Promise<void> => {
      const exited = once(c, 'exit');
      c.kill('SIGTERM');
      await exited;
    };
    const features = Object.fromEntries(Array.from({ length: COLUMNS }, (_, j) => [`g${j}`, String(0.1 * j)]));
    // As the brand's web stack: with a token from the guest endpoint's token file.
    const token =
      guest.tokenFile === undefined
        ? ''
        : ((await readFile(guest.tokenFile, 'utf8')).split('\n').find((l) => l !== '' && !l.startsWith('#')) ?? '');
    const online = [];
    try {
      // Long enough for the JIT to settle: the endpoints' CPU per request keeps falling for the first ~15 s.
      ctx.progress.step(`warm-up at ${rates[0] ?? 500} req/s for ${warmUpSeconds} s`);
      await onlineLoad(guest.port, token, rates[0] ?? 500, warmUpSeconds, features, users);
      for (const rate of rates) {
        ctx.progress.step(`online scoring at ${rate} req/s for ${seconds} s`);
        const cpuBefore = await Promise.all([cpuMs(guest.child.pid), cpuMs(host.child.pid)]);
        const r = await onlineLoad(guest.port, token, rate, seconds, features, users, windowSeconds);
        const cpuAfter = await Promise.all([cpuMs(guest.child.pid), cpuMs(host.child.pid)]);
        const perRequestUs = (i: 0 | 1): number => ((cpuAfter[i] - cpuBefore[i]) * 1000) / Math.max(1, r.sent);
        online.push({
          rate,
          seconds,
          sent: r.sent,
          ok: r.ok,
          fallbacks: r.fallbacks,
          throughput: r.throughput,
          p50: r.p50,
          p99: r.p99,
          windowP99: r.windowP99,
          max: r.max,
          guestCpuUs: perRequestUs(0),
          hostCpuUs: perRequestUs(1),
        });
      }
    } finally {
      await stop(guest.child);
      await stop(host.child);
    }

    ctx.progress.step(`batch scoring: writing a ${poolRows}-row pool`);
    const pool = join(dir, 'pool.csv');
    await writePool(pool, poolRows, 'h');
    const model = await loadModel(join(dir, 'partner-model'), {
      caPem: (await loadNodeIdentity(certsOf('partner'))).caPem,
    });
    const runs = [];
    for (let k = 0; k < batchRuns; k++) {
      ctx.progress.step(`batch scoring ${poolRows} rows (${k + 1} of ${batchRuns})`);
      runs.push(
        await scorePool({
          model,
          poolFile: pool,
          outFile: join(dir, 'audience.csv'),
          onProgress: (n) => ctx.progress.detail(`${n} rows`),
        }),
      );
    }
    const rowsPerSecond = median(runs.map((r) => r.rowsPerSecond));
    return {
      parameters: {
        seconds,
        windowSeconds,
        warmUpSeconds,
        rates,
        poolRows,
        batchRuns,
        columnsPerParty: COLUMNS,
        hostUsers: users,
        hostTimeoutMs: 100,
        topology:
          'guest endpoint, host endpoint and load generator in three processes on one 2-core machine, loopback; guest→host HTTPS with mTLS, keep-alive',
      },
      tables: [
        {
          title: 'Federated online scoring (POST /v1/score at the guest, one host)',
          description:
            "Open-loop load at a fixed rate. Latency is end to end at the client, including the guest→host mTLS call. CPU per request is each endpoint process's user + system time over the run (kernel socket work included), from /proc.",
          columns: [
            { key: 'rate', label: 'target req/s', digits: 0 },
            { key: 'seconds', label: 's', digits: 0 },
            { key: 'sent', label: 'sent', digits: 0 },
            { key: 'ok', label: '200 OK', digits: 0 },
            { key: 'fallbacks', label: 'fallbacks', digits: 0 },
            { key: 'throughput', label: 'achieved req/s', digits: 0 },
            { key: 'p50', label: 'p50 ms', digits: 2 },
            { key: 'p99', label: 'p99 ms', digits: 2 },
            { key: 'windowP99', label: `median p99 of ${windowSeconds} s windows, ms`, digits: 2 },
            { key: 'max', label: 'max ms', digits: 1 },
            { key: 'guestCpuUs', label: 'guest CPU µs/req', digits: 0 },
            { key: 'hostCpuUs', label: 'host CPU µs/req', digits: 0 },
          ],
          rows: online,
        },
        {
          title: 'Batch scoring of a pool file at the host',
          columns: [
            { key: 'rows', label: 'rows', digits: 0 },
            { key: 'runs', label: 'runs', digits: 0 },
            { key: 'seconds', label: 'median s', digits: 2 },
            { key: 'rowsPerSecond', label: 'median rows/s', digits: 0 },
            { key: 'slowest', label: 'slowest rows/s', digits: 0 },
            { key: 'fastest', label: 'fastest rows/s', digits: 0 },
          ],
          rows: [
            {
              rows: runs[0]?.rows ?? 0,
              runs: batchRuns,
              seconds: median(runs.map((r) => r.seconds)),
              rowsPerSecond,
              slowest: Math.min(...runs.map((r) => r.rowsPerSecond)),
              fastest: Math.max(...runs.map((r) => r.rowsPerSecond)),
            },
          ],
        },
      ],
      notes: [
        'Targets (issue #4): p99 ≤ 10 ms at 1,000 req/s; batch ≥ 200k rows/s.',
        'Batch time includes CSV parsing, preprocessing every row, sorting and writing the ranked audience.',
        'On a shared machine, compare runs taken back to back (see bench/README.md, "serve"), and note the load average.',
      ],
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export const serveBenchmark: Benchmark = {
  name: 'serve',
  description:
    'Serving: federated online scoring latency/throughput (guest + 1 host, loopback) and batch scoring rows/s of a pool file',
  run,
};
