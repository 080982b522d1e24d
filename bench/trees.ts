/**
 * The `trees` benchmark: are federated gradient-boosted trees as accurate
 * as trees on pooled data, and what do they cost? Per dataset (breast,
 * default-credit: binary; vehicle: 4 classes; student: a continuous grade)
 * a real federated trees job next to its plaintext twin, scikit-learn's
 * HistGradientBoosting on all columns and on the guest's alone (same rows
 * and split), a federated LR job on the same data and the guest's own best;
 * the bars as pass/fail. Then the secret-shared histogram alone at
 * growing row counts, so we know how it scales.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startFederation } from '../test/support/federation.ts';
import { guestSplitSeed } from '../examples/pooled-reference.ts';
import { treesOptions } from '../models/trees/spec.ts';
import type { Benchmark, BenchContext, BenchOutput, Cell, Table } from './harness.ts';
import { parseSize } from './scale.ts';
import { histogramTable, secureHistogramTimings, type Shape } from './trees/histogram.ts';
import { paillierTable, paillierTimings } from './trees/paillier.ts';
import { writeWideSet } from './trees/generated.ts';
import { processesBench } from './trees/processes.ts';
import { metricIn, metricOf, runMeasuredJob, sklearnScores, twinOf, type JobRun, type Task } from './trees/jobs.ts';

const ROOT = join(import.meta.dirname, '..');
const EXAMPLES = join(ROOT, 'examples', 'data');
/** FATE's example data (student): `TANDEM_FATE_DATA`, or shared/data/fate beside the checkout (a worktree sits one level deeper). */
const FATE =
  process.env['TANDEM_FATE_DATA'] ??
  [join(ROOT, '..', 'shared', 'data', 'fate'), join(ROOT, '..', '..', 'shared', 'data', 'fate')].find((d) =>
    existsSync(d),
  ) ??
  join(ROOT, '..', 'shared', 'data', 'fate');
const GUEST = 'brand';
const HOST = 'partner';
const MB = 1e6;

type Case = {
  readonly name: string;
  readonly guest: string;
  readonly host: string;
  readonly label: Record<string, unknown>;
  readonly kind: 'hetero-lr' | 'cold-start';
  readonly task: Task;
  readonly outputs: number;
  /** Written into the scratch folder at the start of the run (guest and host are then file names there). */
  readonly generated?: (dir: string) => Promise<{ guest: string; host: string }>;
  /** Merged over the run's model block for this case. */
  readonly model?: Record<string, unknown>;
  /** Whether to run the federated LR job too. @default true */
  readonly lr?: boolean;
};

const CASES: readonly Case[] = [
  {
    name: 'breast',
    guest: join(EXAMPLES, 'breast_guest.csv.gz'),
    host: join(EXAMPLES, 'breast_host.csv.gz'),
    label: { column: 'y' },
    kind: 'hetero-lr',
    task: 'binary',
    outputs: 1,
  },
  {
    name: 'vehicle',
    guest: join(EXAMPLES, 'vehicle_guest.csv.gz'),
    host: join(EXAMPLES, 'vehicle_host.csv.gz'),
    label: { column: 'y', type: 'multiclass' },
    kind: 'cold-start',
    task: 'multiclass',
    outputs: 4,
  },
  {
    name: 'student',
    guest: join(FATE, 'student_hetero_guest.csv'),
    host: join(FATE, 'student_hetero_host.csv'),
    label: { column: 'y', type: 'continuous' },
    kind: 'hetero-lr',
    task: 'regression',
    outputs: 1,
  },
  {
    name: 'default-credit',
    guest: join(EXAMPLES, 'default_credit_guest.csv.gz'),
    host: join(EXAMPLES, 'default_credit_host.csv.gz'),
    label: { column: 'y' },
    kind: 'hetero-lr',
    task: 'binary',
    outputs: 1,
  },
  {
    // The 100k rows × (10 + 100) columns; 10 rounds keep it to minutes (every round costs the same).
    name: 'wide',
    guest: 'wide_guest.csv',
    host: 'wide_host.csv',
    label: { column: 'y' },
    kind: 'hetero-lr',
    task: 'binary',
    outputs: 1,
    generated: (dir) => writeWideSet(dir),
    model: { rounds: 10 },
    lr: false,
  },
];
const QUICK_CASES = ['breast', 'vehicle', 'student'];
/** Run unless named in --datasets: minutes of CPU, not seconds. */
const OPT_IN = new Set(['wide']);

/** The bars: federated trees against scikit-learn on all columns, and against the guest's own best. */
const BARS: readonly {
  readonly dataset: string;
  readonly against: 'sklearn' | 'guestOnly';
  readonly margin: number;
}[] = [
  { dataset: 'default-credit', against: 'sklearn', margin: -0.005 },
  { dataset: 'breast', against: 'sklearn', margin: -0.01 },
  { dataset: 'vehicle', against: 'sklearn', margin: -0.02 },
  { dataset: 'default-credit', against: 'guestOnly', margin: 0.04 },
];

type Result = {
  readonly c: Case;
  readonly trees: JobRun;
  readonly lr: JobRun | null;
  readonly fed: number | null;
  readonly twin: number | null;
  readonly identical: boolean | null;
  readonly sk: Awaited<ReturnType<typeof sklearnScores>> | null;
  readonly lrMetric: number | null;
  readonly guestOnly: number | null;
  readonly guestOnlyModel: string | null;
  readonly sameSplit: boolean | null;
  readonly rows: { train: number; validation: number } | null;
};

function spec(c: Case, name: string, extra: Record<string, unknown>): Record<string, unknown> {
  return {
    name,
    kind: c.kind,
    parties: [
      { name: GUEST, role: 'guest', dataset: c.name },
      { name: HOST, role: 'host', dataset: c.name },
    ],
    seed: 42,
    ...extra,
  };
}

async function runCase(
  ctx: BenchContext,
  fed: Awaited<ReturnType<typeof startFederation>>,
  c: Case,
  model: Record<string, unknown>,
  scratch: string,
): Promise<Result> {
  const { progress, quick } = ctx;
  const admin = await fed.admin();
  try {
    progress.step(`${c.name}: federated trees`);
    const treesSpec = spec(c, `bench-trees-${c.name}`, { model: { ...model, ...c.model } });
    const trees = await runMeasuredJob(fed, admin, treesSpec, `trees-${c.name}.yaml`, progress);
    const key = metricOf(c.task);
    const fedMetric = metricIn(trees.guest, key);
    progress.done(
      trees.stage === 'completed'
        ? `${key} ${fedMetric?.toFixed(4)}, ${String(trees.guest?.['epochs'])} rounds, ${trees.wallSeconds.toFixed(1)} s`
        : `${trees.stage}: ${trees.message}`,
    );

    let twin: Awaited<ReturnType<typeof twinOf>> | undefined;
    let sk: Result['sk'] = null;
    if (trees.stage === 'completed') {
      progress.step(`${c.name}: plaintext twin and scikit-learn`);
      twin = await twinOf(
        fed,
        join(fed.dir, `trees-${c.name}.yaml`),
        GUEST,
        [GUEST, HOST],
        trees.jobId,
        c.task,
        c.outputs,
      );
      sk = await sklearnScores(
        twin.data,
        c.task,
        treesOptions({ ...model, ...c.model }),
        join(scratch, `${c.name}.csv`),
      );
      progress.done(
        `twin ${twin.metric.toFixed(4)} (${twin.identical ? 'same trees' : 'DIFFERENT trees'}), sklearn ${sk.allMatched.toFixed(4)}, guest-only sklearn ${sk.guestMatched.toFixed(4)}`,
      );
    }

    let lr: JobRun | null = null;
    if (c.lr !== false) {
      progress.step(`${c.name}: federated LR`);
      const lrSpec = spec(c, `bench-trees-lr-${c.name}`, quick ? { training: { maxEpochs: 2 } } : {});
      lr = await runMeasuredJob(fed, admin, lrSpec, `lr-${c.name}.yaml`, progress);
      progress.done(
        lr.stage === 'completed'
          ? `${key} ${metricIn(lr.guest, key)?.toFixed(4)}, ${lr.wallSeconds.toFixed(1)} s`
          : `${lr.stage}: ${lr.message}`,
      );
    }
    const lrMetric = lr === null ? null : metricIn(lr.guest, key);

    // Same seed, same guest: the LR job aligns and splits exactly as the trees job; checked (the guest's split seeds), not assumed.
    const guestFile = join(fed.dir, `${GUEST}.yaml`);
    const sameSplit =
      trees.stage === 'completed' && lr?.stage === 'completed'
        ? (await guestSplitSeed(guestFile, trees.jobId)) === (await guestSplitSeed(guestFile, lr.jobId))
        : null;
    const guestOnly = trees.guest?.['guestOnly'] as { model?: string } | undefined;
    const rows = trees.guest?.['rows'] as { train: number; validation: number } | undefined;
    return {
      c,
      trees,
      lr,
      fed: fedMetric,
      twin: twin?.metric ?? null,
      identical: twin?.identical ?? null,
      sk,
      lrMetric,
      guestOnly: metricIn(guestOnly, key),
      guestOnlyModel: guestOnly?.model ?? null,
      sameSplit,
      rows: rows ?? null,
    };
  } finally {
    admin.close();
  }
}

function accuracyTable(results: readonly Result[]): Table {
  return {
    title: 'Accuracy: federated trees against pooled references',
    description: [
      "Validation metric on the guest's held-out rows (AUC for binary, accuracy for vehicle, R² for student), all on the same aligned rows and split.",
      "*twin*: the plaintext booster on the pooled columns with the job's seed (*same trees*: the guest's saved trees equal the twin's).",
      "*sklearn*: HistGradientBoosting with the job's rounds, depth, learning rate, bins and λ (early stopping on 10 % of training rows, min_samples_leaf 20), on all columns and on the guest's alone;",
      '*sklearn defaults*: HistGradientBoosting() as a data scientist would call it (255 bins, 31 leaves, no depth limit).',
      '*federated LR*: a normal LR job (hetero-lr; cold-start for vehicle) with the same seed; *guest best*: the trees job\'s "your data alone", the better of own LR and own trees.',
    ].join(' '),
    columns: [
      { key: 'dataset', label: 'dataset' },
      { key: 'metric', label: 'metric' },
      { key: 'rows', label: 'train/valid rows' },
      { key: 'fed', label: 'federated trees', digits: 4 },
      { key: 'twin', label: 'twin', digits: 4 },
      { key: 'same', label: 'same trees' },
      { key: 'skAll', label: 'sklearn all', digits: 4 },
      { key: 'skGuest', label: 'sklearn guest', digits: 4 },
      { key: 'skDefAll', label: 'sklearn defaults all', digits: 4 },
      { key: 'skDefGuest', label: 'sklearn defaults guest', digits: 4 },
      { key: 'lr', label: 'federated LR', digits: 4 },
      { key: 'guestBest', label: 'guest best', digits: 4 },
      { key: 'guestModel', label: 'guest best is' },
    ],
    rows: results.map((r): Record<string, Cell> => ({
      dataset: r.c.name,
      metric: metricOf(r.c.task),
      rows: r.rows === null ? null : `${r.rows.train}/${r.rows.validation}`,
      fed: r.fed,
      twin: r.twin,
      same: r.identical === null ? null : r.identical ? 'yes' : 'NO',
      skAll: r.sk?.allMatched ?? null,
      skGuest: r.sk?.guestMatched ?? null,
      skDefAll: r.sk?.allDefaults ?? null,
      skDefGuest: r.sk?.guestDefaults ?? null,
      lr: r.lr === null ? 'not run' : r.lr.stage === 'completed' ? r.lrMetric : `${r.lr.stage}: ${r.lr.message}`,
      guestBest: r.guestOnly,
      guestModel: r.guestOnlyModel,
    })),
  };
}

function costTable(results: readonly Result[]): Table {
  const row = (r: Result, family: string, run: JobRun): Record<string, Cell> => {
    const by = run.bytes?.byStep ?? new Map<string, number>();
    const psi = [...by].filter(([s]) => s.startsWith('psi-')).reduce((n, [, b]) => n + b, 0);
    const tree = [...by].filter(([s]) => s.startsWith('tree-')).reduce((n, [, b]) => n + b, 0);
    return {
      dataset: r.c.name,
      family,
      stage: run.stage,
      wall: run.wallSeconds,
      rounds: typeof run.guest?.['epochs'] === 'number' ? run.guest['epochs'] : null,
      perRound: typeof run.guest?.['epochs'] === 'number' ? run.wallSeconds / run.guest['epochs'] : null,
      total: run.bytes === null ? null : run.bytes.total / MB,
      psi: run.bytes === null ? null : psi / MB,
      tree: run.bytes === null ? null : tree / MB,
      masked: (by.get('tree-masked-bins') ?? 0) / MB,
      vectors: (by.get('tree-vectors') ?? 0) / MB,
      rss: run.peakRssMiB,
    };
  };
  return {
    title: 'Cost of each job',
    description: [
      "*wall s*: submit to completion (setup, PSI, training, evaluation, the guest's own-data models). *rounds*: trees rounds kept after early stopping (LR: epochs, summed over classes for vehicle).",
      "*MB*: envelope bytes every node originated, from the audit logs (MB = 10⁶ bytes; gRPC/TLS framing adds a little); *PSI*, *tree* (all tree-* steps), of which the host's masked bins (once per job) and the guest's masked g/h vectors.",
      "*peak RSS*: of the one process running the coordinator, both nodes and the benchmark, when the job ended — a high-water mark since the benchmark started, not the job's own.",
    ].join(' '),
    columns: [
      { key: 'dataset', label: 'dataset' },
      { key: 'family', label: 'model' },
      { key: 'stage', label: 'stage' },
      { key: 'wall', label: 'wall s', digits: 1 },
      { key: 'rounds', label: 'rounds' },
      { key: 'perRound', label: 'wall s per round', digits: 2 },
      { key: 'total', label: 'MB', digits: 2 },
      { key: 'psi', label: 'PSI MB', digits: 2 },
      { key: 'tree', label: 'tree MB', digits: 2 },
      { key: 'masked', label: 'masked bins MB', digits: 2 },
      { key: 'vectors', label: 'vectors MB', digits: 2 },
      { key: 'rss', label: 'peak RSS MiB', digits: 0 },
    ],
    rows: results.flatMap((r) => [row(r, 'trees', r.trees), ...(r.lr === null ? [] : [row(r, 'LR', r.lr)])]),
  };
}

function barsTable(results: readonly Result[]): Table {
  const rows = BARS.flatMap((b): Record<string, Cell>[] => {
    const r = results.find((x) => x.c.name === b.dataset);
    if (r === undefined) return [];
    const reference = b.against === 'sklearn' ? (r.sk?.allMatched ?? null) : r.guestOnly;
    const needed = reference === null ? null : reference + b.margin;
    const pass = r.fed === null || needed === null ? 'no result' : r.fed >= needed ? 'pass' : 'FAIL';
    const text =
      b.against === 'sklearn' ? `federated ≥ sklearn all ${b.margin}` : `federated ≥ guest best + ${b.margin}`;
    return [
      {
        dataset: b.dataset,
        bar: text,
        fed: r.fed,
        reference,
        needed,
        margin: r.fed === null || reference === null ? null : r.fed - reference,
        result: pass,
      },
    ];
  });
  return {
    title: 'Bars from the issue',
    description:
      "*sklearn all* is HistGradientBoosting with the job's tree options on all columns (the first sklearn column above); *margin* = federated − reference.",
    columns: [
      { key: 'dataset', label: 'dataset' },
      { key: 'bar', label: 'bar' },
      { key: 'fed', label: 'federated', digits: 4 },
      { key: 'reference', label: 'reference', digits: 4 },
      { key: 'needed', label: 'needed', digits: 4 },
      { key: 'margin', label: 'margin', digits: 4 },
      { key: 'result', label: 'result' },
    ],
    rows,
  };
}

/** "100kx100": 100,000 training rows × 100 host columns. */
function parseShape(text: string): Shape {
  const [rows, columns] = text.split('x');
  const c = Number(columns);
  if (rows === undefined || !Number.isInteger(c) || c < 1)
    throw new RangeError(`--hist-shapes: "${text}" is not rows x columns, e.g. 100kx100`);
  return { rows: parseSize(rows), columns: c };
}

async function run(ctx: BenchContext): Promise<BenchOutput> {
  const { quick, options } = ctx;
  const roles = options.get('roles') ?? 'in-process';
  if (roles !== 'in-process' && roles !== 'processes')
    throw new RangeError(`--roles: "${roles}" is neither in-process nor processes`);
  if (roles === 'processes')
    return processesBench(ctx, {
      family: 'trees',
      ...(quick ? { rounds: 5 } : {}),
      ...(JSON.parse(options.get('model') ?? '{}') as Record<string, unknown>),
    });
  const names = (
    options.get('datasets') ?? (quick ? QUICK_CASES : CASES.map((c) => c.name).filter((n) => !OPT_IN.has(n))).join(',')
  ).split(',');
  const unknown = names.filter((n) => !CASES.some((c) => c.name === n));
  if (unknown.length > 0)
    throw new RangeError(
      `--datasets: unknown ${unknown.join(', ')}; available: ${CASES.map((c) => c.name).join(', ')}`,
    );
  const scratch = await mkdtemp(join(tmpdir(), 'tandem-bench-trees-'));
  const cases: Case[] = [];
  for (const c of CASES.filter((k) => names.includes(k.name))) {
    if (c.generated === undefined) cases.push(c);
    else {
      ctx.progress.step(`${c.name}: writing the generated data`);
      cases.push({ ...c, ...(await c.generated(scratch)) });
      ctx.progress.done('written');
    }
  }
  const model = {
    family: 'trees',
    ...(quick ? { rounds: 5 } : {}),
    ...(JSON.parse(options.get('model') ?? '{}') as Record<string, unknown>),
  };
  const shapes = (options.get('hist-shapes') ?? (quick ? '2kx10,10kx10,10kx100' : '10kx10,100kx10,300kx10,100kx100'))
    .split(',')
    .map(parseShape);

  const datasets = (party: 'guest' | 'host'): Record<string, unknown> =>
    Object.fromEntries(
      cases.map((c) => [
        c.name,
        party === 'guest'
          ? { file: c.guest, id: 'id', label: c.label, features: 'all' }
          : { file: c.host, id: 'id', features: 'all' },
      ]),
    );
  const fed = await startFederation({
    parties: [
      { name: GUEST, datasets: datasets('guest') },
      { name: HOST, datasets: datasets('host') },
    ],
  });
  const results: Result[] = [];
  try {
    for (const c of cases) results.push(await runCase(ctx, fed, c, model, scratch));
  } finally {
    await fed.close();
    await rm(scratch, { recursive: true, force: true });
  }
  const histogram = secureHistogramTimings(shapes, ctx.progress);
  const widths = shapes.map((sh) => ({
    ...sh,
    width: Number(histogram.find((r) => r['rows'] === sh.rows && r['columns'] === sh.columns)?.['width'] ?? 0),
  }));
  const paillierRows = await paillierTimings(widths, ctx.quick, ctx.progress);

  const notes: string[] = [];
  for (const r of results) {
    if (r.identical === false)
      notes.push(`${r.c.name}: the federated trees differ from the plaintext twin's on the same data.`);
    if (r.sameSplit === false)
      notes.push(
        `${r.c.name}: the LR job split its rows with a different seed than the trees job, so their metrics are not on the same split.`,
      );
  }
  notes.push(
    'Bytes, metrics and rounds are deterministic (seed 42, fixed node secrets); wall times and RSS depend on the load on the machine.',
  );
  return {
    parameters: {
      datasets: cases.map((c) => ({ name: c.name, guest: c.guest, host: c.host, kind: c.kind, task: c.task })),
      model,
      treesOptions: treesOptions(model),
      seed: 42,
      histogramShapes: shapes,
    },
    tables: [
      accuracyTable(results),
      barsTable(results),
      costTable(results),
      histogramTable(histogram),
      paillierTable(paillierRows),
    ],
    notes,
  };
}

export const treesBenchmark: Benchmark = {
  name: 'trees',
  description:
    "Federated gradient-boosted trees: accuracy against the plaintext twin, scikit-learn (all columns, guest only), federated LR and the guest's own best on breast, vehicle, student and default-credit; cost per job; the secure histogram alone by rows.",
  options: {
    datasets: `comma-separated, of ${CASES.map((c) => c.name).join(', ')}; default all but ${[...OPT_IN].join(', ')} (${QUICK_CASES.join(', ')} with --quick); wide is the generated 100k rows × (10 + 100) columns`,
    model:
      'JSON merged into the trees job\'s model block, e.g. \'{"maxDepth":6,"rounds":300}\'; default the family defaults (rounds 5 with --quick)',
    roles:
      "in-process (default: every role in the benchmark's process, all datasets) or processes: default-credit only, with `tandem certs init`, `coordinator start`, `party start` and `job submit --wait` as separate processes (CPU, peak RSS per process; the same job in-process afterwards must grow the same trees)",
    runs: 'with --roles processes: how many runs, each with a fresh federation; default 1',
    'hist-shapes':
      'training rows x host columns for the secure-histogram timing, comma-separated; default 10kx10,100kx10,300kx10,100kx100 (2kx10,10kx10,10kx100 with --quick)',
  },
  run,
};
