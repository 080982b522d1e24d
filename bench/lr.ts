/**
 * The `lr` benchmark, for issue #2: does a better polynomial approximation
 * of the sigmoid under CKKS close the gap to exact logistic regression, and
 * at what cost?
 *
 *   1. CKKS micro-operations at N = 8192 (ms per operation, ciphertext sizes).
 *   2. Real federated jobs on default-credit (guest brand, host partner; gRPC,
 *      mTLS and CKKS on loopback) for Chebyshev link degrees 1, 3, 6, 8 with
 *      clip 6 and every other setting at its default, each next to its
 *      plaintext twin and exact Newton LR on the same split, with wall time
 *      and bytes over the wire.
 *   3. Plaintext-only rows on the same batches and optimiser: FATE's
 *      first-order Taylor residual and the exact sigmoid (the ceiling for any
 *      approximation), and a plaintext-twin sweep over more degrees.
 */
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { startFederation, type Federation } from '../test/support/federation.ts';
import { guestSplitSeed, pooledData, pooledReference, type PooledData } from '../examples/pooled-reference.ts';
import { silentLogger } from '../runtime/logger.ts';
import { compileJobSpec, jobSpecSchema, type JobSpecInput } from '../protocol/job-spec.ts';
import { DEFAULT_CKKS_PARAMS } from '../protocol/he/params.ts';
import { trainHeteroLrPlain, type LinearModel } from '../protocol/training/hetero-lr-plain.ts';
import type { TrainingPlan } from '../protocol/training/plan.ts';
import type { AdminClient, JobStatus } from '../runtime/admin-client.ts';
import type { Benchmark, BenchContext, BenchOutput, Cell, Progress, Table } from './harness.ts';
import { ckksMicro } from './lr/ckks-micro.ts';
import { trainWithRule, validationAuc } from './lr/plain-sim.ts';
import { STEP_GROUPS, wireBytes, type WireBytes } from './lr/wire-bytes.ts';

const DATA = join(import.meta.dirname, '..', 'examples', 'data');
const GUEST = 'brand';
const HOST = 'partner';
const CLIP = 6;
const FEDERATED_DEGREES = [1, 3, 6, 8] as const;
const SWEEP_DEGREES = [1, 2, 3, 4, 5, 6, 8, 10, 12, 16] as const;
const MB = 1e6;

/** The same datasets as examples/default-credit. */
const PARTIES = [
  {
    name: GUEST,
    datasets: {
      credit: {
        file: join(DATA, 'default_credit_guest.csv.gz'),
        id: 'id',
        label: { column: 'y', positive: 1, negative: 0 },
        features: 'all',
        missing: { policy: 'mean' },
      },
    },
  },
  { name: HOST, datasets: { credit: { file: join(DATA, 'default_credit_host.csv.gz'), id: 'id', features: 'all' } } },
];

function jobInput(degree: number, quick: boolean): JobSpecInput {
  return {
    name: `bench-lr-degree-${degree}`,
    kind: 'hetero-lr',
    parties: [
      { name: GUEST, role: 'guest', dataset: 'credit' },
      { name: HOST, role: 'host', dataset: 'credit' },
    ],
    model: { link: { degree, clip: CLIP } },
    ...(quick ? { training: { maxEpochs: 2 } } : {}),
  };
}

function planOf(input: JobSpecInput): TrainingPlan {
  return compileJobSpec(jobSpecSchema.parse(input)).training;
}

type GuestSummary = {
  readonly epochs: number;
  readonly metrics: { readonly auc: number };
  readonly rows: { readonly aligned: number; readonly train: number; readonly validation: number };
};

type JobResult = {
  readonly degree: number;
  readonly jobId: string;
  readonly stage: string;
  readonly message: string;
  readonly fedAuc: number | null;
  readonly epochs: number | null;
  readonly rows: GuestSummary['rows'] | null;
  readonly wallSeconds: number;
  readonly trainSeconds: number | null;
  /** CPU seconds of this process (all three nodes run in it) from submit to completion, and in the training phase. */
  readonly cpuSeconds: number;
  readonly trainCpuSeconds: number | null;
  readonly bytes: WireBytes | null;
  /** References on the job's split; null when the job failed (the split seed is read from the guest's saved model part). */
  readonly plainAuc: number | null;
  readonly newtonAuc: number | null;
  readonly twinEpochs: number | null;
};

async function runJob(
  fed: Federation,
  admin: AdminClient,
  degree: number,
  ctx: BenchContext,
  label: string,
): Promise<{ result: JobResult; data: PooledData | undefined }> {
  const { progress, quick } = ctx;
  progress.step(label);
  const input = jobInput(degree, quick);
  const specFile = await fed.write(`lr-degree-${degree}.yaml`, input);
  const cpuNow = (): number => {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1e6;
  };
  const t0 = performance.now();
  const cpu0 = cpuNow();
  let trainStart: { wall: number; cpu: number } | undefined;
  let trainEnd: { wall: number; cpu: number } | undefined;
  const submitted = await admin.submit(specFile);
  const final = await admin.watch(submitted.jobId, (s: JobStatus) => {
    const now = { wall: performance.now(), cpu: cpuNow() };
    if (s.phase === 'training') trainStart ??= now;
    if (s.phase === 'evaluation' || s.phase === 'done' || s.stage === 'completed') trainEnd ??= now;
    const epoch =
      s.phase === 'training' && s.maxEpochs > 0 && s.epoch > 0
        ? ` epoch ${s.epoch}/${s.maxEpochs}, loss ${s.loss.toFixed(5)}`
        : '';
    progress.detail(`${s.stage}/${s.phase}${epoch}`);
  });
  const wallSeconds = (performance.now() - t0) / 1000;
  const cpuSeconds = cpuNow() - cpu0;
  const trainSeconds =
    trainStart !== undefined && trainEnd !== undefined ? (trainEnd.wall - trainStart.wall) / 1000 : null;
  const trainCpuSeconds = trainStart !== undefined && trainEnd !== undefined ? trainEnd.cpu - trainStart.cpu : null;

  let guest: GuestSummary | undefined;
  let bytes: WireBytes | null = null;
  let ref: { plainAuc: number; newtonAuc: number } | undefined;
  let data: PooledData | undefined;
  let twinEpochs: number | null = null;
  if (final.stage === 'completed') {
    guest = (JSON.parse(final.summaryJson) as Record<string, GuestSummary | undefined>)[GUEST];
    bytes = await wireBytes(
      fed.dir,
      submitted.jobId,
      new Map([
        [GUEST, 'guest'],
        [HOST, 'host'],
      ]),
    );
    progress.detail('plaintext twin and Newton references');
    const partyFiles = new Map([
      [GUEST, join(fed.dir, `${GUEST}.yaml`)],
      [HOST, join(fed.dir, `${HOST}.yaml`)],
    ]);
    // The guest keys its validation split by a node secret; its saved model part records the seed.
    const splitSeed = await guestSplitSeed(partyFiles.get(GUEST)!, submitted.jobId);
    ref = await pooledReference(specFile, partyFiles, splitSeed);
    data = await pooledData(specFile, partyFiles, splitSeed);
    const twin = trainHeteroLrPlain({
      guest: data.guest,
      hosts: data.hosts,
      labels: data.labels,
      train: data.train,
      plan: data.spec.training,
      seed: data.spec.seed,
    });
    twinEpochs = twin.epochs;
  }

  const result: JobResult = {
    degree,
    jobId: submitted.jobId,
    stage: final.stage,
    message: final.message,
    fedAuc: guest?.metrics.auc ?? null,
    epochs: guest?.epochs ?? null,
    rows: guest?.rows ?? null,
    wallSeconds,
    trainSeconds,
    cpuSeconds,
    trainCpuSeconds,
    bytes,
    plainAuc: ref?.plainAuc ?? null,
    newtonAuc: ref?.newtonAuc ?? null,
    twinEpochs,
  };
  progress.done(
    ref !== undefined
      ? `AUC ${result.fedAuc?.toFixed(4)} (twin ${ref.plainAuc.toFixed(4)}, Newton ${ref.newtonAuc.toFixed(4)}), ${result.epochs} epochs, ${wallSeconds.toFixed(1)} s`
      : `${final.stage}: ${final.message}`,
  );
  return { result, data };
}

function jobsTable(
  jobs: readonly JobResult[],
  sims: readonly { label: string; model: LinearModel; auc: number }[],
  newtonAuc: number | null,
): Table {
  const rows: Record<string, Cell>[] = jobs.map((j) => {
    const gap = j.newtonAuc !== null && j.fedAuc !== null ? j.newtonAuc - j.fedAuc : null;
    return {
      link: `Chebyshev m=${j.degree}, c=${CLIP}`,
      run: j.stage === 'completed' ? 'federated (CKKS)' : `federated: ${j.stage} (${j.message})`,
      fedAuc: j.fedAuc,
      plainAuc: j.plainAuc,
      newtonAuc: j.newtonAuc,
      gap,
      fedMinusTwin: j.fedAuc === null || j.plainAuc === null ? null : j.fedAuc - j.plainAuc,
      epochs: j.epochs,
      wallSeconds: j.wallSeconds,
      trainSeconds: j.trainSeconds,
      secondsPerEpoch: j.trainSeconds !== null && j.epochs !== null ? j.trainSeconds / j.epochs : null,
      cpuSeconds: j.cpuSeconds,
      cpuPerEpoch: j.trainCpuSeconds !== null && j.epochs !== null ? j.trainCpuSeconds / j.epochs : null,
      megabytes: j.bytes === null ? null : j.bytes.total / MB,
    };
  });
  for (const s of sims) {
    rows.push({
      link: s.label,
      run: 'plaintext simulation',
      fedAuc: null,
      plainAuc: s.auc,
      newtonAuc,
      gap: newtonAuc === null ? null : newtonAuc - s.auc,
      fedMinusTwin: null,
      epochs: s.model.epochs,
      wallSeconds: null,
      trainSeconds: null,
      secondsPerEpoch: null,
      cpuSeconds: null,
      cpuPerEpoch: null,
      megabytes: null,
    });
  }
  return {
    title: 'Accuracy and cost of the link, default-credit',
    description: [
      'Federated jobs run through a real coordinator and two party nodes (gRPC + mTLS + CKKS on loopback, one process).',
      '*plaintext AUC* is the plaintext twin (same batches, link and optimiser, no encryption) for Chebyshev rows and the plaintext simulation otherwise;',
      '*gap to Newton* = Newton AUC − federated AUC (plaintext AUC for simulations); *fed − twin* is the cost of encryption itself.',
      "*wall s* is submit to completion (key setup, PSI, training, evaluation); *train s* is the guest's training phase; *s/epoch* = train s / epochs.",
      '*CPU s* and *CPU s/epoch* are the same spans in CPU time of the one process that runs all three nodes: less sensitive than wall time to other load on the machine.',
      `*MB sent* = all envelope bytes originated by every node (MB = 10⁶ bytes).`,
    ].join(' '),
    columns: [
      { key: 'link', label: 'link' },
      { key: 'run', label: 'run' },
      { key: 'fedAuc', label: 'federated AUC', digits: 4 },
      { key: 'plainAuc', label: 'plaintext AUC', digits: 4 },
      { key: 'newtonAuc', label: 'Newton AUC', digits: 4 },
      { key: 'gap', label: 'gap to Newton', digits: 4 },
      { key: 'fedMinusTwin', label: 'fed − twin', digits: 1, exponent: true },
      { key: 'epochs', label: 'epochs' },
      { key: 'wallSeconds', label: 'wall s', digits: 1 },
      { key: 'trainSeconds', label: 'train s', digits: 1 },
      { key: 'secondsPerEpoch', label: 's/epoch', digits: 2 },
      { key: 'cpuSeconds', label: 'CPU s', digits: 1 },
      { key: 'cpuPerEpoch', label: 'CPU s/epoch', digits: 2 },
      { key: 'megabytes', label: 'MB sent', digits: 1 },
    ],
    rows,
  };
}

function bytesTable(jobs: readonly JobResult[]): Table {
  const rows = jobs.flatMap((j): Record<string, Cell>[] => {
    const b = j.bytes;
    if (b === null || j.epochs === null) return [];
    return [
      {
        degree: j.degree,
        guest: b.sentBy.guest / MB,
        host: b.sentBy.host / MB,
        coordinator: b.sentBy.coordinator / MB,
        ...Object.fromEntries(STEP_GROUPS.map((g) => [g, b.byGroup[g] / MB])),
        total: b.total / MB,
        perEpoch: b.total / MB / j.epochs,
        messages: b.messages,
      },
    ];
  });
  return {
    title: 'Bytes over the wire per job (MB)',
    description: [
      "From the parties' audit logs: envelope bytes, without gRPC/TLS framing. *sent by* columns split the total by the node that originated each message",
      "(the coordinator's relay of party-to-party messages is not counted again). By message: *basis* host → guest [[Tⱼ]] (m per chunk),",
      '*residual* guest → host [[d]], *masked* parties → coordinator masked gradient and loss sums, *decrypted* coordinator → parties,',
      '*keys* CKKS public key and sealing keys, *psi* private set intersection, *control* events, split, epoch control, validation scores.',
    ].join(' '),
    columns: [
      { key: 'degree', label: 'degree m' },
      { key: 'guest', label: 'sent by guest', digits: 1 },
      { key: 'host', label: 'sent by host', digits: 1 },
      { key: 'coordinator', label: 'sent by coordinator', digits: 2 },
      { key: 'basis', label: 'basis', digits: 1 },
      { key: 'residual', label: 'residual', digits: 1 },
      { key: 'masked', label: 'masked', digits: 1 },
      { key: 'decrypted', label: 'decrypted', digits: 3 },
      { key: 'keys', label: 'keys', digits: 2 },
      { key: 'psi', label: 'psi', digits: 2 },
      { key: 'control', label: 'control', digits: 2 },
      { key: 'total', label: 'total', digits: 1 },
      { key: 'perEpoch', label: 'per epoch', digits: 1 },
      { key: 'messages', label: 'messages' },
    ],
    rows,
  };
}

/** The same plan without early stopping: every run trains exactly maxEpochs epochs. */
function fixedEpochs(plan: TrainingPlan): TrainingPlan {
  return { ...plan, patience: plan.maxEpochs };
}

function sweep(data: PooledData, quick: boolean, newtonAuc: number, progress: Progress): Table {
  progress.step('plaintext sweep: twin by degree, Taylor and exact σ, with and without early stopping');
  const base = planOf(jobInput(6, quick));
  const exactStopped = validationAuc(data, trainWithRule(data, base, 'exact'));
  const exactFixed = validationAuc(data, trainWithRule(data, fixedEpochs(base), 'exact'));
  const row = (label: Cell, basis: Cell, stopped: LinearModel, fixed: LinearModel): Record<string, Cell> => {
    const auc = validationAuc(data, stopped);
    const aucFixed = validationAuc(data, fixed);
    return {
      degree: label,
      basis,
      auc,
      gap: newtonAuc - auc,
      gapToExact: exactStopped - auc,
      epochs: stopped.epochs,
      aucFixed,
      gapFixed: newtonAuc - aucFixed,
      gapToExactFixed: exactFixed - aucFixed,
    };
  };
  const rows = (quick ? [1, 6] : SWEEP_DEGREES).map((degree) => {
    progress.detail(`degree ${degree}`);
    const plan = planOf(jobInput(degree, quick));
    const train = (p: TrainingPlan): LinearModel =>
      trainHeteroLrPlain({
        guest: data.guest,
        hosts: data.hosts,
        labels: data.labels,
        train: data.train,
        plan: p,
        seed: data.spec.seed,
      });
    return row(degree, degree, train(plan), train(fixedEpochs(plan)));
  });
  progress.detail('Taylor, exact σ');
  rows.push(
    row('Taylor (FATE)', null, trainWithRule(data, base, 'taylor'), trainWithRule(data, fixedEpochs(base), 'taylor')),
  );
  rows.push(row('exact σ', null, trainWithRule(data, base, 'exact'), trainWithRule(data, fixedEpochs(base), 'exact')));
  progress.done(`${rows.length} rows`);
  return {
    title: 'Plaintext twin by link degree (no encryption)',
    description: [
      `Same data, split, batches and optimiser; clip ${CLIP}. *ciphertexts / chunk* = basis ciphertexts a host sends per 4,096-row chunk, the link's main cost.`,
      '*gap to exact σ* compares with the exact-sigmoid simulation, the best any approximation of σ can do with this optimiser and schedule.',
      `Left: with the default early stopping (on each rule's own approximated loss). Right (*${base.maxEpochs} ep.*): early stopping off, every run trains ${base.maxEpochs} epochs,`,
      'which separates the approximation error from where training happened to stop.',
    ].join(' '),
    columns: [
      { key: 'degree', label: 'degree m' },
      { key: 'basis', label: 'ciphertexts / chunk' },
      { key: 'auc', label: 'AUC', digits: 4 },
      { key: 'gap', label: 'gap to Newton', digits: 4 },
      { key: 'gapToExact', label: 'gap to exact σ', digits: 4 },
      { key: 'epochs', label: 'epochs' },
      { key: 'aucFixed', label: `AUC, ${base.maxEpochs} ep.`, digits: 4 },
      { key: 'gapFixed', label: `gap to Newton, ${base.maxEpochs} ep.`, digits: 4 },
      { key: 'gapToExactFixed', label: `gap to exact σ, ${base.maxEpochs} ep.`, digits: 4 },
    ],
    rows,
  };
}

async function run(ctx: BenchContext): Promise<BenchOutput> {
  const { progress, quick } = ctx;
  const reps = quick ? 5 : 25;

  progress.step(`CKKS micro-ops, N=${DEFAULT_CKKS_PARAMS.polyModulusDegree}, ${reps} reps each`);
  const micro = await ckksMicro(progress, reps);
  progress.done(`round-trip error ${micro.roundTripError.toExponential(1)}`);

  progress.step('starting federation (coordinator + 2 parties, mTLS)');
  const fed = await startFederation({ parties: PARTIES, log: silentLogger() });
  const admin = await fed.admin();
  progress.done(`coordinator at ${fed.address}`);
  const jobs: JobResult[] = [];
  let data: PooledData | undefined;
  try {
    const degrees = quick ? [3] : FEDERATED_DEGREES;
    for (const [k, degree] of degrees.entries()) {
      const out = await runJob(
        fed,
        admin,
        degree,
        ctx,
        `federated job ${k + 1}/${degrees.length}: Chebyshev degree ${degree}, clip ${CLIP}`,
      );
      jobs.push(out.result);
      data ??= out.data;
    }
  } finally {
    admin.close();
    await fed.close();
  }
  const plan = planOf(jobInput(6, quick)); // everything but the link, which the simulations do not use
  const referenceJob = jobs.find((j) => j.newtonAuc !== null);
  let sims: { label: string; model: LinearModel; auc: number }[] = [];
  let sweepTable: Table | undefined;
  if (data !== undefined && referenceJob !== undefined) {
    progress.step('plaintext simulations: FATE Taylor, exact sigmoid');
    const taylor = trainWithRule(data, plan, 'taylor');
    const exact = trainWithRule(data, plan, 'exact');
    sims = [
      { label: 'Taylor, 1st order (FATE)', model: taylor, auc: validationAuc(data, taylor) },
      { label: 'exact sigmoid', model: exact, auc: validationAuc(data, exact) },
    ];
    progress.done(`Taylor AUC ${sims[0]!.auc.toFixed(4)}, exact σ AUC ${sims[1]!.auc.toFixed(4)}`);
    sweepTable = sweep(data, quick, referenceJob.newtonAuc!, progress);
  }
  // Every job has the same seed, so the same split and the same Newton reference.
  const newtonAuc = referenceJob?.newtonAuc ?? null;

  const microTable: Table = {
    title: `CKKS operations (N = ${DEFAULT_CKKS_PARAMS.polyModulusDegree}, ${DEFAULT_CKKS_PARAMS.slots} slots, primes [${DEFAULT_CKKS_PARAMS.coeffModulusBits.join(', ')}])`,
    description: `Median of ${micro.reps} repetitions after 3 warm-ups, one thread, in ms per unit; *per call* is the whole call. Ciphertexts are (de)serialised inside each call, as in the protocol.`,
    columns: [
      { key: 'op', label: 'operation' },
      { key: 'unit', label: 'per' },
      { key: 'median', label: 'median ms', digits: 2 },
      { key: 'min', label: 'min ms', digits: 2 },
      { key: 'max', label: 'max ms', digits: 2 },
      { key: 'call', label: 'per call ms', digits: 2 },
      { key: 'what', label: 'what is timed' },
    ],
    rows: micro.rows,
  };
  const sizeTable: Table = {
    title: 'Ciphertext sizes (uncompressed)',
    columns: [
      { key: 'object', label: 'object' },
      { key: 'primes', label: 'primes' },
      { key: 'bytes', label: 'bytes' },
      { key: 'perRow', label: 'bytes per row', digits: 1 },
    ],
    rows: micro.bytes,
  };

  const completed = jobs.filter((j) => j.fedAuc !== null && j.plainAuc !== null && j.newtonAuc !== null);
  const notes: string[] = [];
  if (completed.length > 0) {
    const maxDiff = Math.max(...completed.map((j) => Math.abs(j.fedAuc! - j.plainAuc!)));
    notes.push(
      `Largest |federated − plaintext twin| AUC difference: ${maxDiff.toExponential(2)} (CKKS and noise-flooding error).`,
    );
  }
  if (completed.length > 0 && newtonAuc !== null && sims.length === 2) {
    const best = completed.reduce((a, b) => (b.fedAuc! > a.fedAuc! ? b : a));
    notes.push(
      `Gap to Newton: Taylor (FATE) ${(newtonAuc - sims[0]!.auc).toFixed(4)}; best federated Chebyshev (m=${best.degree}) ${(newtonAuc - best.fedAuc!).toFixed(4)}; exact sigmoid with the same SGD ${(newtonAuc - sims[1]!.auc).toFixed(4)}.`,
    );
  }
  notes.push(
    `CKKS round trip (combine 6 terms → weighted sum → masked decrypt) differs from plaintext by ${micro.roundTripError.toExponential(2)}.`,
  );
  const failed = jobs.filter((j) => j.stage !== 'completed');
  if (failed.length > 0)
    notes.push(
      `Jobs that did not complete (no references, simulations or sweep without one): ${failed.map((j) => `degree ${j.degree} (${j.stage}: ${j.message})`).join('; ')}.`,
    );

  const first = completed[0];
  return {
    parameters: {
      dataset: 'default-credit (examples/data/default_credit_{guest,host}.csv.gz)',
      guest: GUEST,
      host: HOST,
      rows: first?.rows ?? null,
      degrees: jobs.map((j) => j.degree),
      clip: CLIP,
      training: {
        maxEpochs: plan.maxEpochs,
        batchSize: plan.batchSize,
        optimizer: plan.optimizer,
        tolerance: plan.tolerance,
        patience: plan.patience,
      },
      ckks: DEFAULT_CKKS_PARAMS,
      microReps: micro.reps,
      jobs,
    },
    tables: [
      microTable,
      sizeTable,
      jobsTable(jobs, sims, newtonAuc),
      bytesTable(jobs),
      ...(sweepTable === undefined ? [] : [sweepTable]),
    ],
    notes,
  };
}

export const lrBenchmark: Benchmark = {
  name: 'lr',
  description:
    "Hetero-LR on default-credit: CKKS micro-ops, federated jobs by Chebyshev link degree vs plaintext twin, Newton and FATE's Taylor residual; time and bytes.",
  run,
};
