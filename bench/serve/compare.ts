/**
 * `npm run bench -- serve --against <worktree>`: this checkout's serving
 * against another commit's, on one machine at one time. Both
 * federations (guest + host each, set up by their own code) run side by
 * side, and the load moves between them in short windows — A B, B A, A B…
 * — so each pair of windows shares the machine's conditions. The side
 * not under load is stopped (SIGSTOP) for the window, so its timers and
 * GC take no CPU from the side that is measured. Run-to-run
 * drift on a shared 2-vCPU machine (the same commit's 60 s p99 moved by
 * 2 ms between runs minutes apart) then falls on both sides of a pair
 * instead of on one commit.
 *
 * Per rate: each side's median over windows of the p50, the p99 and its
 * endpoints' CPU per request, the p99 of all its requests pooled, and per
 * pair the difference (this − against): its median, how many pairs this
 * checkout was lower in, and the two-sided sign test's p-value. Then batch
 * scoring: each side's own `scorePool` over its own model, runs
 * alternating, with the endpoints stopped.
 */
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { median, type BenchContext, type BenchOutput, type Cell } from '../harness.ts';
import { batchScorer, startFederation, writePool, type Federation } from './endpoints.ts';
import { onlineLoad, percentile, type Load } from './load.ts';

const USERS = 100_000;

/** `git describe`-like label of a checkout: its short commit, `+dirty` when it has changes. */
function label(root: string): string {
  try {
    const git = (...args: string[]): string =>
      execFileSync('git', ['-C', root, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    const dirty = git('status', '--porcelain', '--untracked-files=no') !== '';
    return `${git('rev-parse', '--short', 'HEAD')}${dirty ? '+dirty' : ''}`;
  } catch {
    return root;
  }
}

/** Two-sided sign test: the chance of a split at least this uneven if either side were as likely to be lower. */
export function signTestP(lower: number, higher: number): number {
  const n = lower + higher;
  if (n === 0) return 1;
  const k = Math.min(lower, higher);
  let tail = 0;
  let c = 1; // C(n, 0)
  for (let i = 0; i <= k; i++) {
    tail += c;
    c = (c * (n - i)) / (i + 1);
  }
  return Math.min(1, (2 * tail) / 2 ** n);
}

export async function compare(ctx: BenchContext, here: string, against: string): Promise<BenchOutput> {
  const pairs = Number(ctx.options.get('windows') ?? (ctx.quick ? 3 : 12));
  const windowSeconds = ctx.quick ? 2 : 10;
  const warmUpSeconds = ctx.quick ? 2 : 15;
  const rates = ctx.quick ? [500] : [500, 1000];
  if (!Number.isInteger(pairs) || pairs < 1) throw new Error(`--windows must be a positive integer, not ${pairs}`);
  const sides = [
    { name: 'against', root: resolve(against) },
    { name: 'this', root: resolve(here) },
  ] as const;
  const labels = sides.map((s) => label(s.root));
  const dirs: string[] = [];
  const federations: Federation[] = [];
  try {
    for (const [i, side] of sides.entries()) {
      ctx.progress.step(`setup: ${labels[i]} (${side.root})`);
      const dir = await mkdtemp(join(tmpdir(), `tandem-bench-serve-${side.name}-`));
      dirs.push(dir);
      federations.push(await startFederation(side.root, dir, USERS));
    }
    for (const [i, f] of federations.entries()) {
      only(f, federations);
      ctx.progress.step(`warm-up of ${labels[i]} at ${rates[0] ?? 500} req/s for ${warmUpSeconds} s`);
      await onlineLoad(f, rates[0] ?? 500, warmUpSeconds, USERS);
    }
    const rows: Record<string, Cell>[] = [];
    for (const rate of rates) {
      const loads: Load[][] = [[], []];
      for (let w = 0; w < pairs; w++) {
        for (const i of inTurn(w)) {
          ctx.progress.step(`${rate} req/s, pair ${w + 1} of ${pairs}: ${labels[i]} for ${windowSeconds} s`);
          const f = federations[i];
          if (f === undefined) continue;
          only(f, federations);
          loads[i]?.push(await onlineLoad(f, rate, windowSeconds, USERS));
        }
      }
      for (const [i] of sides.entries()) {
        const mine = loads[i] ?? [];
        rows.push({
          rate,
          side: labels[i] ?? '',
          p50: median(mine.map((l) => l.p50)),
          p99: median(mine.map((l) => l.p99)),
          pooledP99: percentile(pooled(mine), 0.99),
          guestCpuUs: median(mine.map((l) => l.guestCpuUs)),
          hostCpuUs: median(mine.map((l) => l.hostCpuUs)),
          fallbacks: mine.reduce((n, l) => n + l.fallbacks + (l.sent - l.ok), 0),
          lowerIn: null,
          signP: null,
        });
      }
      const diff = (key: 'p50' | 'p99' | 'guestCpuUs' | 'hostCpuUs'): number[] =>
        (loads[1] ?? []).map((l, w) => l[key] - (loads[0]?.[w]?.[key] ?? NaN));
      const p99Diff = diff('p99');
      const lower = p99Diff.filter((d) => d < 0).length;
      const higher = p99Diff.filter((d) => d > 0).length;
      rows.push({
        rate,
        side: `${labels[1]} − ${labels[0]}, paired`,
        p50: median(diff('p50')),
        p99: median(p99Diff),
        pooledP99: null,
        guestCpuUs: median(diff('guestCpuUs')),
        hostCpuUs: median(diff('hostCpuUs')),
        fallbacks: null,
        lowerIn: `${lower} of ${pairs}`,
        signP: signTestP(lower, higher),
      });
    }
    // Batch scoring in this process with each side's own code, alternating; the endpoints stay stopped.
    const batchRows = ctx.quick ? 100_000 : 1_000_000;
    const batchPairs = ctx.quick ? 1 : 5;
    for (const f of federations) signal(f, 'SIGSTOP');
    ctx.progress.step(`batch scoring: writing a ${batchRows}-row pool`);
    const pool = join(dirs[0] ?? tmpdir(), 'pool.csv');
    await writePool(pool, batchRows, 'h');
    const scorers = await Promise.all(
      sides.map(async (side, i) => {
        const f = federations[i];
        if (f === undefined) throw new Error(`no federation for ${side.root}`);
        return batchScorer(side.root, f);
      }),
    );
    const rowsPerSecond: number[][] = [[], []];
    for (let k = 0; k < batchPairs; k++) {
      for (const i of inTurn(k)) {
        ctx.progress.step(`batch scoring ${batchRows} rows, pair ${k + 1} of ${batchPairs}: ${labels[i]}`);
        const score = scorers[i];
        if (score !== undefined)
          rowsPerSecond[i]?.push((await score(pool, join(dirs[i] ?? tmpdir(), 'audience.csv'))).rowsPerSecond);
      }
    }
    const batchRowsOut: Record<string, Cell>[] = sides.map((_, i) => ({
      side: labels[i] ?? '',
      rowsPerSecond: median(rowsPerSecond[i] ?? []),
      slowest: Math.min(...(rowsPerSecond[i] ?? [])),
      fastest: Math.max(...(rowsPerSecond[i] ?? [])),
      higherIn: null,
    }));
    const batchDiff = (rowsPerSecond[1] ?? []).map((r, k) => r - (rowsPerSecond[0]?.[k] ?? NaN));
    batchRowsOut.push({
      side: `${labels[1]} − ${labels[0]}, paired`,
      rowsPerSecond: median(batchDiff),
      slowest: null,
      fastest: null,
      higherIn: `${batchDiff.filter((d) => d > 0).length} of ${batchPairs}`,
    });
    return {
      parameters: {
        against: sides[0].root,
        commits: labels,
        pairs,
        windowSeconds,
        warmUpSeconds,
        rates,
        hostUsers: USERS,
        batchRows,
        batchPairs,
      },
      tables: [
        {
          title: `Online scoring, ${labels[1]} against ${labels[0]}, alternating ${windowSeconds} s windows`,
          description:
            'Both federations run side by side and the load alternates between them (A B, B A, …); the side not under load is stopped (SIGSTOP) meanwhile. Per side: medians over its windows, and the p99 of all its requests pooled. The paired row: per pair, this checkout minus the other; "lower in" counts pairs where this checkout\'s window p99 was lower, and the sign test gives the chance of a split at least that uneven if neither were faster. CPU per request is user + system time of each endpoint process over the window, µs.',
          columns: [
            { key: 'rate', label: 'req/s', digits: 0 },
            { key: 'side', label: 'checkout' },
            { key: 'p50', label: 'p50 ms', digits: 2 },
            { key: 'p99', label: 'p99 ms (median of windows)', digits: 2 },
            { key: 'pooledP99', label: 'p99 ms (pooled)', digits: 2 },
            { key: 'guestCpuUs', label: 'guest CPU µs/req', digits: 0 },
            { key: 'hostCpuUs', label: 'host CPU µs/req', digits: 0 },
            { key: 'fallbacks', label: 'fallbacks + errors', digits: 0 },
            { key: 'lowerIn', label: 'p99 lower in' },
            { key: 'signP', label: 'sign test p', digits: 2 },
          ],
          rows,
        },
        {
          title: `Batch scoring of a ${batchRows}-row pool at the host, alternating runs`,
          description: "Each side's own scorePool over its own exported model, in this process, runs alternating.",
          columns: [
            { key: 'side', label: 'checkout' },
            { key: 'rowsPerSecond', label: 'median rows/s', digits: 0 },
            { key: 'slowest', label: 'slowest rows/s', digits: 0 },
            { key: 'fastest', label: 'fastest rows/s', digits: 0 },
            { key: 'higherIn', label: 'this faster in' },
          ],
          rows: batchRowsOut,
        },
      ],
      notes: ["The other checkout runs with its own code and node_modules (link this one's if it has none)."],
    };
  } finally {
    for (const f of federations) signal(f, 'SIGCONT');
    await Promise.all(federations.map((f) => f.stop()));
    await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
  }
}

/** The sides in pair `k`'s order: A B, then B A, so neither always goes first. */
const inTurn = (k: number): readonly (0 | 1)[] => (k % 2 === 0 ? [0, 1] : [1, 0]);

/** Resumes `f`'s endpoints and stops every other federation's. */
function only(f: Federation, all: readonly Federation[]): void {
  for (const other of all) signal(other, other === f ? 'SIGCONT' : 'SIGSTOP');
}

/** Stops or resumes both of a federation's endpoint processes. */
function signal(f: Federation, sig: 'SIGSTOP' | 'SIGCONT'): void {
  for (const pid of [f.guestPid, f.hostPid]) {
    try {
      if (pid !== undefined) process.kill(pid, sig);
    } catch (error) {
      // A process that already exited: stop() reports how.
      if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
    }
  }
}

/** Every answered latency of a side's windows, ascending. */
function pooled(loads: readonly Load[]): Float64Array {
  const all = new Float64Array(loads.reduce((n, l) => n + l.sorted.length, 0));
  let at = 0;
  for (const l of loads) {
    all.set(l.sorted, at);
    at += l.sorted.length;
  }
  return all.sort();
}
