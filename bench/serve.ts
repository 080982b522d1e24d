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
 * generator is a third, all on the same machine. With `--against <worktree>`
 * it compares online scoring with another commit instead, both running and
 * the load alternating between them (serve/compare.ts); that commit sets up
 * and runs its endpoints with its own code, back to commits from before the
 * endpoints had bearer tokens (a token is sent only when the guest wrote a
 * token file).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { median, type Benchmark, type BenchContext, type BenchOutput } from './harness.ts';
import { compare } from './serve/compare.ts';
import { batchScorer, COLUMNS, startFederation, writePool, type Federation } from './serve/endpoints.ts';
import { onlineLoad } from './serve/load.ts';

const ROOT = dirname(dirname(fileURLToPath(import.meta.url)));

async function run(ctx: BenchContext): Promise<BenchOutput> {
  const against = ctx.options.get('against');
  if (against !== undefined) return compare(ctx, ROOT, against);
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
    const federation: Federation = await startFederation(ROOT, dir, users);
    const online = [];
    try {
      // Long enough for the JIT to settle: the endpoints' CPU per request keeps falling for the first ~15 s.
      ctx.progress.step(`warm-up at ${rates[0] ?? 500} req/s for ${warmUpSeconds} s`);
      await onlineLoad(federation, rates[0] ?? 500, warmUpSeconds, users);
      for (const rate of rates) {
        ctx.progress.step(`online scoring at ${rate} req/s for ${seconds} s`);
        const r = await onlineLoad(federation, rate, seconds, users, windowSeconds);
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
          guestCpuUs: r.guestCpuUs,
          hostCpuUs: r.hostCpuUs,
        });
      }
    } finally {
      await federation.stop();
    }

    ctx.progress.step(`batch scoring: writing a ${poolRows}-row pool`);
    const pool = join(dir, 'pool.csv');
    await writePool(pool, poolRows, 'h');
    const score = await batchScorer(ROOT, federation);
    const runs = [];
    for (let k = 0; k < batchRuns; k++) {
      ctx.progress.step(`batch scoring ${poolRows} rows (${k + 1} of ${batchRuns})`);
      runs.push(await score(pool, join(dir, 'audience.csv'), (n) => ctx.progress.detail(`${n} rows`)));
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
  options: {
    against:
      "another commit's worktree: compare online scoring with it, both running, the load alternating in 10 s windows",
    windows: 'with --against: window pairs per rate (default 12)',
  },
  run,
};
