/**
 * The `psi-oprf` benchmark: OPRF-PSI (KKRT16, protocol/psi/oprf/) between
 * role processes on loopback, at balanced and unbalanced sizes, with ECDH-PSI
 * in the same harness for comparison. Each role is its own OS process (or
 * several, sharing the buckets), running buckets on worker threads; ids are
 * generated on the fly. Per run: wall seconds from "go" to both roles done,
 * CPU seconds of each role (all its threads) and per id, bytes each way,
 * peak RSS per process, and whether the intersection is exactly the known one.
 *
 * What it leaves out, on purpose: the coordinator relay, sealing and mTLS of
 * a real job (the `psi` benchmark runs whole jobs), and reading ids from a
 * file. Id generation is timed and reported so it can be subtracted.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Benchmark, BenchContext, BenchOutput, Table } from './harness.ts';
import { parseSize } from './scale.ts';
import type { ChildMessage, ParentMessage, RoleConfig, RoleReport } from './psi-oprf/role.ts';
import { receiverResult, senderPositionRows, senderRowsAt } from '../protocol/psi/oprf/results.ts';
import type { ReceiverBucketResult } from '../protocol/psi/oprf/receiver-bucket.ts';
import type { SenderBucketResult } from '../protocol/psi/oprf/sender-bucket.ts';
import type { ReceiverSession, SenderSession } from '../protocol/psi/oprf/session.ts';

const ROLE_SCRIPT = join(import.meta.dirname, 'psi-oprf', 'role.ts');

type Run = {
  readonly protocol: 'oprf' | 'ecdh';
  readonly receiver: number;
  readonly sender: number;
  readonly shared: number;
  readonly processes: number;
  readonly workers: number;
  readonly minBuckets: number;
  readonly spill: boolean;
};

type Row = Run & {
  readonly buckets: number;
  readonly wallSeconds: number;
  readonly receiverCpu: number;
  readonly senderCpu: number;
  readonly receiverBytes: number;
  readonly senderBytes: number;
  readonly receiverPeakRss: number;
  readonly senderPeakRss: number;
  readonly generateSeconds: number;
  readonly matches: number;
  readonly correct: boolean;
  readonly phases: Record<string, number>;
  readonly load: number;
};

type Child = { readonly config: RoleConfig; readonly process: ChildProcess };

function send(child: Child, m: ParentMessage): void {
  child.process.send(m);
}

async function runOnce(ctx: BenchContext, run: Run): Promise<Row> {
  const label = `${run.protocol} ${run.receiver.toLocaleString('en-US')} × ${run.sender.toLocaleString('en-US')}${run.processes > 1 ? `, ${run.processes} processes a side` : ''}`;
  ctx.progress.step(label);
  const spillDirs = run.spill
    ? await Promise.all(['receiver', 'sender'].map((r) => mkdtemp(join(tmpdir(), `tandem-psi-spill-${r}-`))))
    : [];
  const children: Child[] = [];
  try {
    for (const role of ['receiver', 'sender'] as const) {
      for (let index = 0; index < run.processes; index++) {
        const spillDir = spillDirs[role === 'receiver' ? 0 : 1];
        const config: RoleConfig = {
          protocol: run.protocol,
          role,
          index,
          processes: run.processes,
          workers: run.workers,
          minBuckets: run.minBuckets,
          population: { receiver: run.receiver, sender: run.sender, shared: run.shared },
          ...(spillDir === undefined ? {} : { spillDir }),
        };
        // TANDEM_BENCH_CPU_PROF=<dir>: a V8 CPU profile per thread of every role process, for finding hot spots.
        const profile = process.env['TANDEM_BENCH_CPU_PROF'];
        const execArgv = profile === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${profile}/${role}-${index}`];
        const child = {
          config,
          process: fork(ROLE_SCRIPT, [], {
            serialization: 'advanced',
            execArgv,
            stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
          }),
        };
        children.push(child);
        send(child, { type: 'config', config });
      }
    }
    return await drive(ctx, run, children);
  } finally {
    // Children exit on their own once their peer has read everything (and write their CPU profiles); stragglers are stopped.
    await Promise.all(
      children
        .filter((c) => c.process.exitCode === null)
        .map(
          (c) =>
            new Promise((resolve) => {
              const timer = setTimeout(() => c.process.kill(), 10_000);
              c.process.once('exit', () => resolve(clearTimeout(timer)));
            }),
        ),
    );
    await Promise.all(spillDirs.map((dir) => rm(dir, { recursive: true, force: true })));
  }
}

/** Moves IPC messages between the role processes until every one has reported. */
function drive(ctx: BenchContext, run: Run, children: readonly Child[]): Promise<Row> {
  const of = (role: 'receiver' | 'sender'): Child[] => children.filter((c) => c.config.role === role);
  return new Promise((resolve, reject) => {
    let connected = 0;
    let start = 0;
    const spilled = { receiver: 0, sender: 0 };
    const sessions: { receiver?: ReceiverSession; sender?: SenderSession } = {};
    const bucketResults = { receiver: [] as ReceiverBucketResult[], sender: [] as SenderBucketResult[] };
    const reports: RoleReport[] = [];
    let checked: { matches: number; correct: boolean } | undefined;
    const finish = (): void => {
      if (reports.length < children.length || (run.processes > 1 && checked === undefined)) return;
      const wallSeconds = (performance.now() - start) / 1000;
      const side = (role: 'receiver' | 'sender'): RoleReport[] => reports.filter((r) => r.role === role);
      const sum = (role: 'receiver' | 'sender', f: (r: RoleReport) => number): number =>
        side(role).reduce((n, r) => n + f(r), 0);
      const receiverLead = side('receiver').find((r) => r.index === 0);
      const matches = checked?.matches ?? receiverLead?.matches ?? 0;
      const correct = checked?.correct ?? reports.every((r) => r.wrong === 0 && r.matches === run.shared);
      resolve({
        ...run,
        buckets: receiverLead?.buckets ?? 0,
        wallSeconds,
        matches,
        correct,
        load: loadavg()[0] ?? 0,
        receiverCpu: sum('receiver', (r) => r.cpuSeconds),
        senderCpu: sum('sender', (r) => r.cpuSeconds),
        receiverBytes: sum('receiver', (r) => r.bytesSent),
        senderBytes: sum('sender', (r) => r.bytesSent),
        receiverPeakRss: Math.max(...side('receiver').map((r) => r.peakRssBytes)),
        senderPeakRss: Math.max(...side('sender').map((r) => r.peakRssBytes)),
        generateSeconds: sum('receiver', (r) => r.generateSeconds) + sum('sender', (r) => r.generateSeconds),
        phases: Object.fromEntries(
          reports.flatMap((r) =>
            Object.entries(r.phases).map(([phase, ms]) => [`${r.role}${r.index}:${phase}`, ms / 1000]),
          ),
        ),
      });
    };
    const combine = (): void => {
      // Several processes a side: the parent stands in for each party's lead process and checks the whole answer.
      const params = sessions.receiver?.params;
      if (params === undefined || bucketResults.receiver.length + bucketResults.sender.length < 2 * params.buckets)
        return;
      const result = receiverResult('intersection', params, bucketResults.receiver);
      if (result.mode !== 'intersection') return;
      const rows = senderRowsAt(senderPositionRows(params, bucketResults.sender), result.senderPositions);
      const offset = run.receiver - run.shared;
      const correct =
        result.receiverRows.length === run.shared &&
        result.receiverRows.every((r, m) => r === (rows[m] ?? -1) + offset);
      checked = { matches: result.receiverRows.length, correct };
      finish();
    };
    for (const child of children) {
      const { role, index } = child.config;
      child.process.on('exit', (code) => {
        if (code !== 0 && reports.length < children.length)
          reject(new Error(`${role} process ${index} exited with ${code}`));
      });
      child.process.on('message', (m: ChildMessage) => {
        if (m.type === 'listening') {
          const peer = of('sender').find((c) => c.config.index === index);
          if (peer !== undefined) send(peer, { type: 'connect', port: m.port });
        } else if (m.type === 'connected') {
          if (++connected === children.length) {
            ctx.progress.detail('running');
            start = performance.now();
            for (const c of children) send(c, { type: 'go' });
          }
        } else if (m.type === 'session') {
          if (role === 'receiver') sessions.receiver = m.session as ReceiverSession;
          else sessions.sender = m.session as SenderSession;
          for (const sibling of of(role))
            if (sibling.config.index !== 0) send(sibling, { type: 'session', session: m.session });
        } else if (m.type === 'spilled') {
          if (++spilled[role] === run.processes) for (const c of of(role)) send(c, { type: 'run' });
        } else if (m.type === 'buckets') {
          if (role === 'receiver') bucketResults.receiver.push(...(m.results as ReceiverBucketResult[]));
          else bucketResults.sender.push(...(m.results as SenderBucketResult[]));
          combine();
        } else {
          reports.push(m.report);
          ctx.progress.detail(`${reports.length}/${children.length} done`);
          finish();
        }
      });
    }
  });
}

function parsePair(text: string): { receiver: number; sender: number } {
  const [r, s] = text.split('x');
  const receiver = parseSize(r ?? '');
  return { receiver, sender: s === undefined ? receiver : parseSize(s) };
}

const mb = (bytes: number): number => bytes / 2 ** 20;

function tables(rows: readonly Row[]): Table[] {
  return [
    {
      title: 'OPRF-PSI and ECDH-PSI, each role its own process on loopback',
      description:
        '*wall s*: from "go" to both roles done (ids generated on the fly inside that span: *gen s* is the CPU spent generating them). *core-s*: CPU seconds of all a role\'s threads; *µs/id*: core-µs per own id, and in total per id of both sides. *MB →*: bytes each role wrote. *RSS*: peak resident set of a role\'s largest process. *ok*: the intersection is exactly the known one, rows aligned on both sides.',
      columns: [
        { key: 'protocol', label: 'psi' },
        { key: 'receiver', label: 'receiver ids', digits: 0 },
        { key: 'sender', label: 'sender ids', digits: 0 },
        { key: 'layout', label: 'procs × workers' },
        { key: 'buckets', label: 'buckets', digits: 0 },
        { key: 'wall', label: 'wall s', digits: 2 },
        { key: 'rCpu', label: 'core-s recv.', digits: 2 },
        { key: 'sCpu', label: 'core-s send.', digits: 2 },
        { key: 'rPerId', label: 'µs/id recv.', digits: 2 },
        { key: 'sPerId', label: 'µs/id send.', digits: 2 },
        { key: 'perId', label: 'µs/id total', digits: 2 },
        { key: 'rMb', label: 'MB recv. →', digits: 1 },
        { key: 'sMb', label: 'MB send. →', digits: 1 },
        { key: 'rRss', label: 'RSS recv. MB', digits: 0 },
        { key: 'sRss', label: 'RSS send. MB', digits: 0 },
        { key: 'gen', label: 'gen s', digits: 2 },
        { key: 'ok', label: 'ok' },
        { key: 'load', label: 'load', digits: 2 },
      ],
      rows: rows.map((r) => ({
        protocol: r.protocol,
        receiver: r.receiver,
        sender: r.sender,
        layout: `${r.processes} × ${r.workers}${r.spill ? ' (spill)' : ''}`,
        buckets: r.buckets,
        wall: r.wallSeconds,
        rCpu: r.receiverCpu,
        sCpu: r.senderCpu,
        rPerId: (r.receiverCpu * 1e6) / r.receiver,
        sPerId: (r.senderCpu * 1e6) / r.sender,
        perId: ((r.receiverCpu + r.senderCpu) * 1e6) / (r.receiver + r.sender),
        rMb: mb(r.receiverBytes),
        sMb: mb(r.senderBytes),
        rRss: mb(r.receiverPeakRss),
        sRss: mb(r.senderPeakRss),
        gen: r.generateSeconds,
        ok: r.correct ? `yes (${r.matches})` : `NO (${r.matches} of ${r.shared})`,
        load: r.load,
      })),
    },
    {
      title: 'Phases (seconds from go, per process)',
      description:
        'OPRF: *session* the opening (base OTs), *digest* ids digested and partitioned (or spilled), *buckets* every bucket of the process done, *result* the shared order exchanged. ECDH: *own set* own set blinded and sent, *result* done.',
      columns: [
        { key: 'run', label: 'run' },
        { key: 'phases', label: 'phases' },
      ],
      rows: rows.map((r) => ({
        run: `${r.protocol} ${r.receiver}×${r.sender} ${r.processes}×${r.workers}`,
        phases: Object.entries(r.phases)
          .map(([k, v]) => `${k} ${v.toFixed(2)}`)
          .join(', '),
      })),
    },
  ];
}

async function run(ctx: BenchContext): Promise<BenchOutput> {
  const sizes = (ctx.options.get('sizes') ?? (ctx.quick ? '20k' : '100k,1M')).split(',').map(parsePair);
  const ecdhSizes = (ctx.options.get('ecdh') ?? (ctx.quick ? '' : '100k'))
    .split(',')
    .filter((s) => s !== '')
    .map(parsePair);
  const processes = Number(ctx.options.get('processes') ?? '1');
  const workers = Number(ctx.options.get('workers') ?? '1');
  const minBuckets = Number(ctx.options.get('buckets') ?? '1');
  const overlap = Number(ctx.options.get('overlap') ?? '0.5');
  const spillAbove = parseSize(ctx.options.get('spill-above') ?? '20M');
  if (!(overlap >= 0 && overlap <= 1)) throw new RangeError('--overlap must be in [0, 1]');
  const loadBefore = loadavg();
  const rows: Row[] = [];
  const runs: Run[] = [
    ...sizes.map((s): Run => ({
      protocol: 'oprf',
      ...s,
      shared: Math.round(Math.min(s.receiver, s.sender) * overlap),
      processes,
      workers,
      minBuckets,
      spill: processes > 1 || Math.max(s.receiver, s.sender) > spillAbove,
    })),
    ...ecdhSizes.map((s): Run => ({
      protocol: 'ecdh',
      ...s,
      shared: Math.round(Math.min(s.receiver, s.sender) * overlap),
      processes: 1,
      workers: 1,
      minBuckets: 1,
      spill: false,
    })),
  ];
  for (const r of runs) {
    const row = await runOnce(ctx, r);
    ctx.progress.done(`${row.wallSeconds.toFixed(2)} s, ${row.correct ? 'correct' : 'WRONG'}`);
    process.stderr.write(`psi-oprf result: ${JSON.stringify(row)}\n`);
    rows.push(row);
  }
  return {
    parameters: { sizes, ecdhSizes, processes, workers, minBuckets, overlap, spillAbove, rows },
    tables: tables(rows),
    notes: [
      `Load average (1, 5, 15 min) before: ${loadBefore.map((v) => v.toFixed(2)).join(', ')}; ${availableParallelism()} cores, shared with other work.`,
      'Both roles run on this machine: their CPU adds up against the same cores, so wall time is bounded below by (core-s recv. + core-s send.) / cores.',
    ],
  };
}

export const psiOprfBenchmark: Benchmark = {
  name: 'psi-oprf',
  description:
    'OPRF-PSI (KKRT16 OT extension) between role processes on loopback, balanced and unbalanced, with ECDH-PSI in the same harness.',
  options: {
    sizes:
      'OPRF runs: sizes per side, or RxS pairs (receiver × sender), comma-separated; default 100k,1M (20k with --quick)',
    ecdh: 'ECDH-PSI runs in the same harness, same syntax; default 100k (none with --quick); 1M takes ~2 minutes',
    processes: 'processes per role, sharing the buckets (several imply spilling digests to disk); default 1',
    workers: 'worker threads per process running buckets; default 1',
    buckets: 'at least this many buckets (a power of two; more when a side exceeds 2^20 ids per bucket); default 1',
    overlap: 'shared ids as a fraction of the smaller side; default 0.5',
    'spill-above': 'spill digests to disk when a side has more ids than this; default 20M',
  },
  run,
};
