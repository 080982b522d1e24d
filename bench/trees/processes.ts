/**
 * Issue #18's end-to-end bar: a default-credit trees model trained with the
 * three roles as separate processes, as a user runs them from the README —
 * `tandem certs init`, `tandem coordinator start`, `tandem party start` for
 * the brand and the partner (gRPC with mTLS on loopback), and `tandem job
 * submit --wait` — in ≤ 60 s on two cores, PSI included. Measured per run:
 * wall time of the submit command and of the job (the coordinator's created
 * → updated), phases from the parties' logs, CPU seconds and peak RSS of
 * each process from /proc, bytes from the audit logs. The same spec then
 * runs once more with every role in this process (the in-process trees
 * bench) and the two must grow the same trees with the same AUC.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { isDeepStrictEqual } from 'node:util';
import { stringify } from 'yaml';
import { startFederation, writeTestNodeSecret } from '../../test/support/federation.ts';
import { freePort } from '../../test/support/processes.ts';
import type { JobStatus } from '../../runtime/admin-client.ts';
import type { BenchContext, Cell, Progress, Table } from '../harness.ts';
import { startRole, UsageSampler, type RoleProcess, type RoleUsage } from '../scale/processes.ts';
import { jobBytes, runMeasuredJob } from './jobs.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const BIN = join(ROOT, 'bin', 'tandem.mjs');
const EXAMPLES = join(ROOT, 'examples', 'data');
const GUEST = 'brand';
const HOST = 'partner';
const ROLES = ['coordinator', GUEST, HOST] as const;
const DATASET = 'default-credit';
const MB = 1e6;
const MIB = 2 ** 20;

/** The brand's and the partner's halves of default-credit (FATE's split: 13 columns and the label; 10 columns). */
const DATASETS = {
  [GUEST]: {
    file: join(EXAMPLES, 'default_credit_guest.csv.gz'),
    id: 'id',
    label: { column: 'y' },
    features: 'all',
  },
  [HOST]: { file: join(EXAMPLES, 'default_credit_host.csv.gz'), id: 'id', features: 'all' },
};

export type ProcessRun = {
  readonly run: number;
  readonly loadBefore: number;
  readonly loadAfter: number;
  readonly stage: string;
  readonly message: string;
  /** `tandem job submit --wait` from spawn to exit: what the user waits for. */
  readonly submitSeconds: number;
  /** The job's own span at the coordinator, created → last update. */
  readonly jobSeconds: number;
  readonly phases: Record<string, number | null>;
  readonly rounds: number | null;
  readonly auc: number | null;
  readonly trees: unknown;
  readonly cpuSeconds: Record<string, number>;
  readonly peakRssMiB: Record<string, number>;
  readonly bytes: { total: number; psi: number; tree: number } | null;
};

function run(
  command: readonly string[],
  cwd: string,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...command], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString('utf8')));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
    child.once('error', reject);
    child.once('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

/** Configs as in examples/default-credit (paths relative to nothing: absolute), certificates from the CLI. */
async function writeFederation(dir: string): Promise<{ files: Record<string, string> }> {
  const certs = await run(['certs', 'init', '--out', join(dir, 'certs'), '--parties', `${GUEST},${HOST}`], dir);
  if (certs.code !== 0) throw new Error(`tandem certs init failed: ${certs.stderr}`);
  const certsOf = (n: string) => ({
    ca: join(dir, 'certs', 'ca.crt'),
    cert: join(dir, 'certs', `${n}.crt`),
    key: join(dir, 'certs', `${n}.key`),
  });
  const address = `127.0.0.1:${await freePort()}`;
  const files: Record<string, string> = {};
  const write = async (name: string, value: unknown): Promise<string> => {
    const file = join(dir, name);
    await writeFile(file, stringify(value));
    return file;
  };
  files['coordinator'] = await write('coordinator.yaml', {
    coordinator: {
      name: 'coordinator',
      listen: address,
      dataDir: join(dir, 'coordinator'),
      certs: certsOf('coordinator'),
      admins: [GUEST],
      parties: [GUEST, HOST],
    },
  });
  for (const name of [GUEST, HOST] as const) {
    // The node secret keys the guest's validation split: fixed as in the in-process bench, so both split alike.
    await writeTestNodeSecret(join(dir, name), name);
    files[name] = await write(`${name}.yaml`, {
      node: {
        name,
        coordinator: address,
        coordinatorName: 'coordinator',
        dataDir: join(dir, name),
        certs: certsOf(name),
      },
      datasets: { [DATASET]: DATASETS[name] },
    });
  }
  return { files };
}

const load1 = (): number => loadavg()[0] ?? NaN;

/** First and last time each phase was logged, across the parties' logs. */
async function phaseSpans(roles: readonly RoleProcess[], jobId: string): Promise<Record<string, number | null>> {
  const times = new Map<string, number[]>();
  let done = NaN;
  for (const r of roles.filter((x) => x.name !== 'coordinator')) {
    for (const line of (await readFile(r.log, 'utf8')).split('\n')) {
      if (!line.startsWith('{')) continue;
      const rec = JSON.parse(line) as { job?: string; phase?: string; time?: number; msg?: string };
      if (rec.job !== jobId || typeof rec.time !== 'number') continue;
      if (rec.msg?.startsWith('job finished') === true) done = Math.max(Number.isNaN(done) ? 0 : done, rec.time);
      if (typeof rec.phase === 'string') times.set(rec.phase, [...(times.get(rec.phase) ?? []), rec.time]);
    }
  }
  const first = (p: string): number => Math.min(...(times.get(p) ?? [NaN]));
  const span = (a: number, b: number): number | null =>
    Number.isFinite(a) && Number.isFinite(b) ? (b - a) / 1000 : null;
  return {
    setup: span(first('setup'), first('psi')),
    psi: span(first('psi'), first('training')),
    training: span(first('training'), first('evaluation')),
    evaluation: span(first('evaluation'), done),
  };
}

async function oneRun(ctx: BenchContext, index: number, model: Record<string, unknown>): Promise<ProcessRun> {
  const { progress } = ctx;
  const dir = await mkdtemp(join(tmpdir(), 'tandem-bench-trees-procs-'));
  const roles: RoleProcess[] = [];
  const profile = process.env['TANDEM_BENCH_CPU_PROF'] ?? '';
  try {
    progress.step(`run ${index}: certs init, coordinator and two party processes`);
    const { files } = await writeFederation(dir);
    roles.push(
      await startRole(
        'coordinator',
        ['coordinator', 'start', '--config', files['coordinator'] ?? '', '--log-format', 'json'],
        join(dir, 'coordinator.log'),
        'listening',
        profile === '' ? '' : join(profile, `run${index}`),
      ),
    );
    for (const name of [GUEST, HOST])
      roles.push(
        await startRole(
          name,
          ['party', 'start', '--config', files[name] ?? '', '--log-format', 'json'],
          join(dir, `${name}.log`),
          'connected to the coordinator',
          profile === '' ? '' : join(profile, `run${index}`),
        ),
      );
    progress.done(dir);

    const specFile = join(dir, 'job.yaml');
    await writeFile(specFile, stringify(jobSpec(model)));
    progress.step(`run ${index}: tandem job submit --wait (load ${load1().toFixed(2)})`);
    const loadBefore = load1();
    const sampler = new UsageSampler(roles);
    await sampler.sample();
    const before = await usages(roles);
    const t0 = performance.now();
    const submitted = await run(['job', 'submit', specFile, '--config', files[GUEST] ?? '', '--wait', '--json'], dir);
    const submitSeconds = (performance.now() - t0) / 1000;
    const after = await usages(roles);
    await sampler.sample();
    sampler.stop();
    const loadAfter = load1();
    const final = JSON.parse(submitted.stdout.trim().split('\n').at(-1) ?? '{}') as Partial<JobStatus>;
    const jobId = final.jobId ?? '';
    const stage = final.stage ?? `exit ${submitted.code}`;
    const completed = stage === 'completed';
    const summary = completed
      ? (JSON.parse(final.summaryJson ?? '{}') as Record<string, { epochs?: number; metrics?: { auc?: number } }>)
      : {};
    const part = completed
      ? (JSON.parse(await readFile(join(dir, GUEST, 'jobs', jobId, 'model-part.json'), 'utf8')) as { trees?: unknown })
      : {};
    const by = completed ? (await jobBytes(dir, jobId, [GUEST, HOST])).byStep : new Map<string, number>();
    const sum = (prefix: string): number =>
      [...by].filter(([s]) => s.startsWith(prefix)).reduce((n, [, b]) => n + b, 0);
    const result: ProcessRun = {
      run: index,
      loadBefore,
      loadAfter,
      stage,
      message: final.message ?? submitted.stderr.slice(-500),
      submitSeconds,
      jobSeconds: ((final.updatedAtMs ?? NaN) - (final.createdAtMs ?? NaN)) / 1000,
      phases: completed ? await phaseSpans(roles, jobId) : {},
      rounds: summary[GUEST]?.epochs ?? null,
      auc: summary[GUEST]?.metrics?.auc ?? null,
      trees: part.trees,
      cpuSeconds: Object.fromEntries(
        ROLES.map((r) => [r, (after[r]?.cpuSeconds ?? NaN) - (before[r]?.cpuSeconds ?? NaN)]),
      ),
      peakRssMiB: Object.fromEntries(ROLES.map((r) => [r, (after[r]?.peakRssBytes ?? NaN) / MIB])),
      bytes: completed
        ? { total: [...by.values()].reduce((a, b) => a + b, 0), psi: sum('psi-'), tree: sum('tree-') }
        : null,
    };
    progress.done(
      completed
        ? `AUC ${result.auc?.toFixed(4)}, ${result.rounds} rounds, ${submitSeconds.toFixed(1)} s (load ${loadBefore.toFixed(2)} → ${loadAfter.toFixed(2)})`
        : `${stage}: ${result.message}`,
    );
    return result;
  } finally {
    for (const r of roles.toReversed()) {
      if (r.child.exitCode !== null) continue;
      const exited = new Promise((resolve) => r.child.once('exit', resolve));
      r.child.kill('SIGTERM');
      await exited;
    }
    if (process.env['TANDEM_KEEP_BENCH_DIR'] === undefined) await rm(dir, { recursive: true, force: true });
    else process.stderr.write(`kept ${dir}\n`);
  }
}

async function usages(roles: readonly RoleProcess[]): Promise<Record<string, RoleUsage>> {
  return Object.fromEntries(await Promise.all(roles.map(async (r) => [r.name, await r.usage()] as const)));
}

/** The in-process bench's default-credit job, word for word. */
function jobSpec(model: Record<string, unknown>): Record<string, unknown> {
  return {
    name: `bench-trees-${DATASET}`,
    kind: 'hetero-lr',
    parties: [
      { name: GUEST, role: 'guest', dataset: DATASET },
      { name: HOST, role: 'host', dataset: DATASET },
    ],
    seed: 42,
    model,
  };
}

/** The same job with every role in this process (bench/trees.ts's federation): the reference AUC and trees. */
async function inProcessReference(
  model: Record<string, unknown>,
  progress: Progress,
): Promise<{ auc: number | null; trees: unknown; wallSeconds: number }> {
  progress.step('in-process reference run (same spec, same node secrets)');
  const fed = await startFederation({
    parties: [
      { name: GUEST, datasets: { [DATASET]: DATASETS[GUEST] } },
      { name: HOST, datasets: { [DATASET]: DATASETS[HOST] } },
    ],
  });
  const admin = await fed.admin();
  try {
    const r = await runMeasuredJob(fed, admin, jobSpec(model), 'trees-reference.yaml', progress);
    const metrics = (r.guest?.['metrics'] ?? {}) as { auc?: number };
    const part =
      r.stage === 'completed'
        ? (JSON.parse(await readFile(join(fed.dir, GUEST, 'jobs', r.jobId, 'model-part.json'), 'utf8')) as {
            trees?: unknown;
          })
        : {};
    progress.done(`AUC ${metrics.auc?.toFixed(4)}, ${r.wallSeconds.toFixed(1)} s`);
    return { auc: metrics.auc ?? null, trees: part.trees, wallSeconds: r.wallSeconds };
  } finally {
    admin.close();
    await fed.close();
  }
}

/** `--roles processes`: `runs` runs as processes, then the in-process reference; tables and notes. */
export async function processesBench(
  ctx: BenchContext,
  model: Record<string, unknown>,
): Promise<{ parameters: Record<string, unknown>; tables: Table[]; notes: string[] }> {
  const runs = Number(ctx.options.get('runs') ?? '1');
  if (!Number.isInteger(runs) || runs < 1) throw new RangeError(`--runs: "${ctx.options.get('runs')}" is not a count`);
  const results: ProcessRun[] = [];
  for (let k = 1; k <= runs; k++) results.push(await oneRun(ctx, k, model));
  const reference = await inProcessReference(model, ctx.progress);
  const same = (r: ProcessRun): string =>
    r.stage !== 'completed'
      ? '—'
      : r.auc === reference.auc && isDeepStrictEqual(r.trees, reference.trees)
        ? 'yes'
        : `NO (AUC ${r.auc} vs ${reference.auc})`;
  const wall: Table = {
    title: 'default-credit trees, three roles as processes',
    description: [
      "`tandem certs init`, `coordinator start`, `party start` × 2 (mTLS on loopback), then `tandem job submit --wait` with the in-process bench's spec (seed 42).",
      "*submit s*: the submit command from spawn to exit (what the user waits for: PSI, training, evaluation, the guest's own-data models, CLI start-up); *job s*: created → completed at the coordinator.",
      "Phases from the parties' logs: setup (dataset load, sealing keys) → PSI → training → evaluation (and own-data baselines, model files). *load*: 1-min load average before → after.",
    ].join(' '),
    columns: [
      { key: 'run', label: 'run' },
      { key: 'stage', label: 'stage' },
      { key: 'load', label: 'load' },
      { key: 'submit', label: 'submit s', digits: 1 },
      { key: 'job', label: 'job s', digits: 1 },
      { key: 'setup', label: 'setup s', digits: 1 },
      { key: 'psi', label: 'PSI s', digits: 1 },
      { key: 'training', label: 'training s', digits: 1 },
      { key: 'evaluation', label: 'evaluation s', digits: 1 },
      { key: 'rounds', label: 'rounds' },
      { key: 'auc', label: 'AUC', digits: 4 },
      { key: 'same', label: 'same as in-process' },
      { key: 'target', label: '≤ 60 s' },
    ],
    rows: results.map((r): Record<string, Cell> => ({
      run: r.run,
      stage: r.stage === 'completed' ? r.stage : `${r.stage}: ${r.message}`,
      load: `${r.loadBefore.toFixed(2)} → ${r.loadAfter.toFixed(2)}`,
      submit: r.submitSeconds,
      job: r.jobSeconds,
      setup: r.phases['setup'] ?? null,
      psi: r.phases['psi'] ?? null,
      training: r.phases['training'] ?? null,
      evaluation: r.phases['evaluation'] ?? null,
      rounds: r.rounds,
      auc: r.auc,
      same: same(r),
      target: r.stage !== 'completed' ? '—' : r.submitSeconds <= 60 ? 'met' : 'MISSED',
    })),
  };
  const cost: Table = {
    title: 'CPU, memory and bytes per process',
    description:
      '*CPU s*: user + system seconds of each process (all its threads) from /proc/<pid>/stat, submit to exit of the submit command. *peak RSS*: VmHWM from /proc/<pid>/status (since the process started). *MB*: envelope bytes every node originated for the job, from the audit logs (10⁶ bytes).',
    columns: [
      { key: 'run', label: 'run' },
      ...ROLES.map((r) => ({ key: `cpu-${r}`, label: `${r} CPU s`, digits: 1 })),
      { key: 'cpu', label: 'total CPU s', digits: 1 },
      ...ROLES.map((r) => ({ key: `rss-${r}`, label: `${r} peak RSS MiB`, digits: 0 })),
      { key: 'mb', label: 'MB', digits: 1 },
      { key: 'psiMb', label: 'PSI MB', digits: 1 },
      { key: 'treeMb', label: 'tree MB', digits: 1 },
    ],
    rows: results.map((r): Record<string, Cell> => ({
      run: r.run,
      ...Object.fromEntries(ROLES.map((role) => [`cpu-${role}`, r.cpuSeconds[role] ?? null])),
      cpu: ROLES.reduce((s, role) => s + (r.cpuSeconds[role] ?? 0), 0),
      ...Object.fromEntries(ROLES.map((role) => [`rss-${role}`, r.peakRssMiB[role] ?? null])),
      mb: r.bytes === null ? null : r.bytes.total / MB,
      psiMb: r.bytes === null ? null : r.bytes.psi / MB,
      treeMb: r.bytes === null ? null : r.bytes.tree / MB,
    })),
  };
  const notes = [
    `In-process reference (coordinator and both nodes in this process, same spec and node secrets): AUC ${reference.auc}, ${reference.wallSeconds.toFixed(1)} s wall.`,
    ...results
      .filter((r) => r.stage === 'completed' && same(r) !== 'yes')
      .map((r) => `Run ${r.run} did not grow the in-process run's trees: ${same(r)}.`),
    'TANDEM_BENCH_CPU_PROF=<dir> writes a V8 CPU profile per process and run (node --cpu-prof); TANDEM_KEEP_BENCH_DIR=1 keeps configs, logs and data directories.',
  ];
  return {
    parameters: { roles: 'processes', runs, dataset: DATASET, datasets: DATASETS, spec: jobSpec(model) },
    tables: [wall, cost],
    notes,
  };
}
