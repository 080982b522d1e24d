/**
 * The `scale` benchmark, for issue #8: how PSI and encrypted vertical LR
 * grow with the number of rows, what each role costs in time, CPU, bytes and
 * memory, and how batched CKKS compares with per-value Paillier.
 *
 * Per size N (ids per party, `--sizes`): seeded synthetic CSVs (guest: id,
 * label, 10 features; host: id, 100 features; `--overlap` of the ids shared),
 * a coordinator and two party nodes started as separate processes
 * (`tandem coordinator start`, `tandem party start`; gRPC + mTLS on
 * loopback), one hetero-LR job of `--epochs` passes without early stopping.
 * Measured per phase from the job's status stream and each role's /proc
 * counters: PSI wall time and core-seconds, seconds and core-seconds per
 * pass, bytes each role sent (audit logs), peak RSS per role. Next to it, in
 * this process: the plaintext twin (same algorithm) per pass, and once, on a
 * sample of the same data, FATE's per-value Paillier step against Tandem's
 * CKKS step, extrapolated to every size.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { trainHeteroLrPlain } from '../protocol/training/hetero-lr-plain.ts';
import { compileTraining } from '../protocol/training/plan.ts';
import type { JobStatus } from '../cli/admin-client.ts';
import type { Benchmark, BenchContext, BenchOutput, Cell, Table } from './harness.ts';
import { writeSynthetic, type SyntheticData } from './scale/data.ts';
import { startProcessFederation, type RoleUsage } from './scale/processes.ts';
import { ckksStep, paillierStep, type CkksStep, type PaillierStep } from './scale/paillier.ts';
import { wireBytes, type WireBytes } from './lr/wire-bytes.ts';
import { measureChoices, type Choices } from './scale/choices.ts';

const GUEST = 'brand';
const HOST = 'partner';
const ROLES = ['coordinator', GUEST, HOST] as const;
const GUEST_FEATURES = 10;
const HOST_FEATURES = 100;
const SEED = 'bench-scale';
const MB = 1e6;
const MIB = 2 ** 20;

type Role = (typeof ROLES)[number];
type Usage = Record<Role, RoleUsage>;

type SizeResult = {
  readonly ids: number;
  readonly shared: number;
  readonly trainRows: number | null;
  readonly stage: string;
  readonly message: string;
  readonly generateSeconds: number;
  readonly csvBytes: { readonly guest: number; readonly host: number };
  readonly loadSeconds: number | null;
  readonly psiSeconds: number | null;
  readonly psiCoreSeconds: number | null;
  readonly passes: number;
  readonly secondsPerPass: number | null;
  readonly coreSecondsPerPass: number | null;
  readonly cpuByRole: Record<Role, number> | null;
  readonly peakRssMiB: Record<Role, number>;
  readonly bytes: WireBytes | null;
  readonly plainSecondsPerPass: number | null;
  readonly plainEpochsToConverge: number | null;
  readonly loadAverage: readonly number[];
};

/** "100k", "1M", "300000" → a row count. */
export function parseSize(text: string): number {
  const m = /^(\d+(?:\.\d+)?)([kKmM]?)$/.exec(text.trim());
  if (m === null) throw new RangeError(`--sizes: "${text}" is not a size (e.g. 20k, 300k, 1M)`);
  const factor = m[2]?.toLowerCase() === 'k' ? 1e3 : m[2]?.toLowerCase() === 'm' ? 1e6 : 1;
  return Math.round(Number(m[1]) * factor);
}

function option(ctx: BenchContext, name: string, fallback: string): string {
  return ctx.options.get(name) ?? fallback;
}

async function usageOf(roles: ReadonlyMap<Role, () => Promise<RoleUsage>>): Promise<Usage> {
  const entries = await Promise.all(ROLES.map(async (r) => [r, await roles.get(r)!()] as const));
  return Object.fromEntries(entries) as Usage;
}

function coreSeconds(from: Usage, to: Usage): number {
  return ROLES.reduce((s, r) => s + to[r].cpuSeconds - from[r].cpuSeconds, 0);
}

async function runSize(ctx: BenchContext, ids: number, opts: { overlap: number; epochs: number; threads: string | undefined }): Promise<{ result: SizeResult; data: SyntheticData }> {
  const { progress } = ctx;
  const label = `${ids.toLocaleString('en-US')} ids per party`;
  const work = await mkdtemp(join(tmpdir(), 'tandem-scale-data-'));
  try {
    progress.step(`${label}: synthetic data`);
    let t0 = performance.now();
    const data = await writeSynthetic(
      { ids, overlap: opts.overlap, guestFeatures: GUEST_FEATURES, hostFeatures: HOST_FEATURES, seed: SEED },
      join(work, 'guest.csv'), join(work, 'host.csv'),
      (done, total) => progress.detail(`${Math.round((100 * done) / total)} %`),
    );
    const generateSeconds = (performance.now() - t0) / 1000;
    progress.done(`${((data.bytes.guest + data.bytes.host) / MB).toFixed(0)} MB of CSV, ${data.shared} shared ids, ${generateSeconds.toFixed(1)} s`);

    progress.step(`${label}: starting coordinator and parties as processes`);
    const node = opts.threads === undefined ? undefined : { cryptoThreads: Number(opts.threads) };
    const fed = await startProcessFederation([
      { name: GUEST, node, datasets: { d: { file: data.guestFile, id: 'id', label: { column: 'y' }, features: 'all' } } },
      { name: HOST, node, datasets: { d: { file: data.hostFile, id: 'id', features: 'all' } } },
    ]);
    progress.done(fed.dir);
    try {
      const roles = new Map(fed.roles.map((r) => [r.name as Role, () => r.usage()] as const));
      progress.step(`${label}: hetero-LR job, ${opts.epochs} passes`);
      const spec = await fed.write('job.yaml', {
        name: `scale-${ids}`, kind: 'hetero-lr', seed: 42,
        parties: [{ name: GUEST, role: 'guest', dataset: 'd' }, { name: HOST, role: 'host', dataset: 'd' }],
        // No early stopping: every size runs the same number of passes.
        training: { maxEpochs: opts.epochs, patience: opts.epochs },
      });
      const admin = await fed.admin();
      const marks = new Map<string, { wall: number; usage: Promise<Usage> }>();
      const mark = (name: string): void => {
        if (!marks.has(name)) marks.set(name, { wall: performance.now(), usage: usageOf(roles) });
      };
      mark('submit');
      let final: JobStatus;
      let jobId: string;
      try {
        const submitted = await admin.submit(spec);
        jobId = submitted.jobId;
        final = await admin.watch(jobId, (s: JobStatus) => {
          if (s.phase === 'psi') mark('psi');
          if (s.phase === 'training') mark('training');
          if (s.phase === 'evaluation' || s.phase === 'done' || s.stage === 'completed') mark('end');
          const epoch = s.phase === 'training' && s.epoch > 0 ? ` epoch ${s.epoch}/${s.maxEpochs}` : '';
          progress.detail(`${s.stage}/${s.phase}${epoch}`);
        });
        mark('end');
      } finally {
        admin.close();
      }
      const at = async (name: string): Promise<{ wall: number; usage: Usage } | undefined> => {
        const m = marks.get(name);
        return m === undefined ? undefined : { wall: m.wall, usage: await m.usage };
      };
      const [submit, psi, training, end] = await Promise.all(['submit', 'psi', 'training', 'end'].map(at));
      const after = await usageOf(roles);
      const peakRssMiB = Object.fromEntries(ROLES.map((r) => [r, after[r].peakRssBytes / MIB])) as Record<Role, number>;
      const completed = final.stage === 'completed';
      const summary = completed ? (JSON.parse(final.summaryJson) as Record<string, { epochs?: number; rows?: { train?: number } } | undefined>) : {};
      const passes = summary[GUEST]?.epochs ?? 0;
      const bytes = completed ? await wireBytes(fed.dir, jobId, new Map([[GUEST, 'guest'], [HOST, 'host']])) : null;
      const span = (a: typeof psi, b: typeof psi): number | null => (a === undefined || b === undefined ? null : (b.wall - a.wall) / 1000);
      const cores = (a: typeof psi, b: typeof psi): number | null => (a === undefined || b === undefined ? null : coreSeconds(a.usage, b.usage));
      const trainSeconds = completed ? span(training, end) : null;
      const cpuByRole = completed && training !== undefined && end !== undefined
        ? Object.fromEntries(ROLES.map((r) => [r, (end.usage[r].cpuSeconds - training.usage[r].cpuSeconds) / Math.max(passes, 1)])) as Record<Role, number>
        : null;
      progress.done(completed ? `PSI ${span(psi, training)?.toFixed(1)} s, ${passes} passes in ${trainSeconds?.toFixed(1)} s` : `${final.stage}: ${final.message}`);

      const trainRows = summary[GUEST]?.rows?.train ?? null;
      let plainSecondsPerPass: number | null = null;
      let plainEpochsToConverge: number | null = null;
      if (trainRows !== null) {
        progress.step(`${label}: plaintext twin on ${trainRows} rows`);
        // The job's split is secret to the guest; the same number of rows costs the same.
        const train = Uint32Array.from({ length: trainRows }, (_, i) => i);
        const plain = (maxEpochs: number, patience?: number) => trainHeteroLrPlain({
          guest: data.guest, hosts: [data.host], labels: data.labels, train, seed: '42',
          plan: compileTraining(patience === undefined ? { maxEpochs } : { maxEpochs, patience }),
        });
        t0 = performance.now();
        plain(opts.epochs, opts.epochs);
        plainSecondsPerPass = (performance.now() - t0) / 1000 / opts.epochs;
        plainEpochsToConverge = ctx.quick ? null : plain(30).epochs;
        progress.done(`${plainSecondsPerPass.toFixed(2)} s per pass${plainEpochsToConverge === null ? '' : `, converges in ${plainEpochsToConverge} epochs`}`);
      }
      const result: SizeResult = {
        ids, shared: data.shared, trainRows, stage: final.stage, message: final.message, generateSeconds, csvBytes: data.bytes,
        loadSeconds: span(psi === undefined ? undefined : submit, psi),
        psiSeconds: span(psi, training), psiCoreSeconds: cores(psi, training),
        passes, secondsPerPass: trainSeconds === null ? null : trainSeconds / Math.max(passes, 1),
        coreSecondsPerPass: completed ? (cores(training, end) ?? 0) / Math.max(passes, 1) : null,
        cpuByRole, peakRssMiB, bytes, plainSecondsPerPass, plainEpochsToConverge, loadAverage: loadavg(),
      };
      return { result, data };
    } finally {
      await fed.close();
    }
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

function perPass(bytes: WireBytes | null, role: 'guest' | 'host' | 'coordinator', passes: number): number | null {
  if (bytes === null || passes === 0) return null;
  return bytes.sentBy[role] / MB / passes;
}

function scaleTable(results: readonly SizeResult[]): Table {
  return {
    title: 'PSI and encrypted hetero-LR by size',
    description: [
      '*ids* per party, *shared* = ids both hold (the PSI output and the rows trained on, less the 20 % validation split).',
      '*PSI s* is wall time of the PSI phase; *PSI core-s* the CPU seconds all three processes spent in it (2 cores: at most 2 per wall second).',
      '*s/pass*, *core-s/pass*: the training phase divided by the passes over the training rows. *MB/pass* by the role that sent it (training and PSI bytes together, per pass),',
      '*peak RSS* = VmHWM of each process over the whole run (loading, PSI, training). *plain s/pass*: the plaintext twin of the same algorithm, one thread, no wire.',
      '*enc/plain* = s/pass ÷ plain s/pass. *est. convergence s* = s/pass × epochs the plaintext twin needs with the default early stopping.',
    ].join(' '),
    columns: [
      { key: 'ids', label: 'ids' },
      { key: 'shared', label: 'shared' },
      { key: 'load', label: 'load s', digits: 1 },
      { key: 'psi', label: 'PSI s', digits: 1 },
      { key: 'psiCores', label: 'PSI core-s', digits: 1 },
      { key: 'psiMB', label: 'PSI MB', digits: 1 },
      { key: 'train', label: 'train rows' },
      { key: 'pass', label: 's/pass', digits: 1 },
      { key: 'passCores', label: 'core-s/pass', digits: 1 },
      { key: 'guestMB', label: 'guest MB/pass', digits: 1 },
      { key: 'hostMB', label: 'host MB/pass', digits: 1 },
      { key: 'coordMB', label: 'coord. MB/pass', digits: 2 },
      { key: 'rssCoord', label: 'peak RSS coord. MiB', digits: 0 },
      { key: 'rssGuest', label: 'peak RSS guest MiB', digits: 0 },
      { key: 'rssHost', label: 'peak RSS host MiB', digits: 0 },
      { key: 'plain', label: 'plain s/pass', digits: 2 },
      { key: 'ratio', label: 'enc/plain', digits: 0 },
      { key: 'converge', label: 'est. convergence s', digits: 0 },
      { key: 'status', label: 'job' },
    ],
    rows: results.map((r) => ({
      ids: r.ids, shared: r.shared, load: r.loadSeconds, psi: r.psiSeconds, psiCores: r.psiCoreSeconds, psiMB: r.bytes === null ? null : r.bytes.byGroup.psi / MB,
      train: r.trainRows, pass: r.secondsPerPass, passCores: r.coreSecondsPerPass,
      guestMB: perPass(r.bytes, 'guest', r.passes), hostMB: perPass(r.bytes, 'host', r.passes), coordMB: perPass(r.bytes, 'coordinator', r.passes),
      rssCoord: r.peakRssMiB.coordinator, rssGuest: r.peakRssMiB[GUEST], rssHost: r.peakRssMiB[HOST],
      plain: r.plainSecondsPerPass,
      ratio: r.secondsPerPass !== null && r.plainSecondsPerPass !== null ? r.secondsPerPass / r.plainSecondsPerPass : null,
      converge: r.secondsPerPass !== null && r.plainEpochsToConverge !== null ? r.secondsPerPass * r.plainEpochsToConverge : null,
      status: r.stage === 'completed' ? `completed, ${r.passes} passes` : `${r.stage}: ${r.message}`,
    })),
  };
}

function cpuTable(results: readonly SizeResult[]): Table {
  return {
    title: 'CPU seconds per pass by role',
    description: 'From /proc/<pid>/stat (user + system, all threads) of each process between the start and the end of the training phase, divided by the passes.',
    columns: [
      { key: 'ids', label: 'ids' },
      { key: 'coordinator', label: 'coordinator core-s', digits: 1 },
      { key: 'guest', label: 'guest core-s', digits: 1 },
      { key: 'host', label: 'host core-s', digits: 1 },
    ],
    rows: results.map((r) => ({ ids: r.ids, coordinator: r.cpuByRole?.coordinator ?? null, guest: r.cpuByRole?.[GUEST] ?? null, host: r.cpuByRole?.[HOST] ?? null })),
  };
}

function paillierTable(results: readonly SizeResult[], paillier: PaillierStep, ckks: CkksStep): Table {
  const rows: Record<string, Cell>[] = results.flatMap((r) => {
    if (r.trainRows === null) return [];
    const p = paillier.passSeconds(r.trainRows);
    const c = ckks.passSeconds(r.trainRows);
    return [{ rows: r.trainRows, paillier: p, ckks: c, ratio: p / c, federated: r.secondsPerPass, ratioFederated: r.secondsPerPass === null ? null : p / r.secondsPerPass }];
  });
  return {
    title: 'One pass of gradient steps: per-value Paillier (FATE) vs batched CKKS (Tandem)',
    description: [
      `Paillier timed on ${paillier.sampleRows} rows (2048-bit keys, one thread) and extrapolated: per-row cost × rows + 2 decryptions per feature per ${ckks.batchRows}-row mini-batch.`,
      `*CKKS step*: the protocol's per-batch operations on one ${ckks.batchRows}-row batch of the same data, one thread, no wire, × batches.`,
      '*ratio* = Paillier ÷ CKKS step (same work, same thread count). *federated s/pass* is the measured job (all roles, wire, both cores) and *ratio (federated)* Paillier ÷ that.',
    ].join(' '),
    columns: [
      { key: 'rows', label: 'train rows' },
      { key: 'paillier', label: 'Paillier s/pass (extrapolated)', digits: 0 },
      { key: 'ckks', label: 'CKKS step s/pass', digits: 1 },
      { key: 'ratio', label: 'ratio', digits: 0 },
      { key: 'federated', label: 'federated s/pass', digits: 1 },
      { key: 'ratioFederated', label: 'ratio (federated)', digits: 0 },
    ],
    rows,
  };
}

function stepTable(paillier: PaillierStep, ckks: CkksStep): Table {
  const perRow = (s: number): number => s * 1e3;
  return {
    title: 'Where the time of one step goes (ms, one thread)',
    columns: [
      { key: 'scheme', label: 'scheme' },
      { key: 'what', label: 'operation' },
      { key: 'ms', label: 'ms', digits: 3 },
      { key: 'per', label: 'per' },
    ],
    rows: [
      { scheme: 'Paillier', what: 'host encrypts 0.25·u', ms: perRow(paillier.perRow.encrypt), per: 'row' },
      { scheme: 'Paillier', what: 'guest adds its part of d', ms: perRow(paillier.perRow.residual), per: 'row' },
      { scheme: 'Paillier', what: `guest Σ d·x, ${GUEST_FEATURES} features`, ms: perRow(paillier.perRow.guestSums), per: 'row' },
      { scheme: 'Paillier', what: `host Σ d·x, ${HOST_FEATURES} features`, ms: perRow(paillier.perRow.hostSums), per: 'row' },
      { scheme: 'Paillier', what: 'decrypt one sum', ms: perRow(paillier.decrypt), per: 'feature × 2 per batch' },
      { scheme: 'CKKS', what: 'host: encrypt basis + Σ d·x', ms: perRow(ckks.host), per: `${ckks.batchRows}-row batch` },
      { scheme: 'CKKS', what: 'guest: residual, loss, Σ d·x', ms: perRow(ckks.guest), per: `${ckks.batchRows}-row batch` },
      { scheme: 'CKKS', what: 'coordinator: masked decryptions', ms: perRow(ckks.coordinator), per: `${ckks.batchRows}-row batch` },
      { scheme: 'CKKS', what: 'whole step', ms: perRow(ckks.total) / ckks.batchRows, per: 'row' },
      { scheme: 'Paillier', what: 'whole step (without decryptions)', ms: perRow(paillier.perRow.total), per: 'row' },
    ],
  };
}

function choicesTable(choices: Choices, results: readonly SizeResult[]): Table {
  const largest = results.reduce<SizeResult | undefined>((a, r) => (a === undefined || (r.trainRows ?? 0) > (a.trainRows ?? 0) ? r : a), undefined);
  const rows = largest?.trainRows ?? 0;
  const preEncodedGiB = (Math.ceil(rows / 4096) * HOST_FEATURES * choices.plaintextBytes) / 2 ** 30;
  return {
    title: 'Packing and protocol choices (one 4,096-slot chunk, one thread, median ms)',
    description: [
      'The inner sum of one feature column by masked decryption (Tandem) or by rotations; a feature column encoded on the fly or pre-encoded;',
      `ciphertext compression. Keeping every host column pre-encoded for ${rows.toLocaleString('en-US')} training rows would take ${preEncodedGiB.toFixed(1)} GiB`,
      `(${choices.plaintextBytes.toLocaleString('en-US')} bytes per plaintext at the residual level × ${HOST_FEATURES} columns × chunks), and mini-batches are reshuffled every epoch.`,
    ].join(' '),
    columns: [
      { key: 'group', label: 'choice' },
      { key: 'what', label: 'operation' },
      { key: 'ms', label: 'ms', digits: 2 },
      { key: 'note', label: 'note' },
    ],
    rows: choices.rows,
  };
}

function batchTable(byBatch: ReadonlyArray<{ batch: number; step: CkksStep }>): Table {
  return {
    title: 'Mini-batch size: CKKS step cost per row (one thread, no wire)',
    description: 'Every mini-batch pays whole ciphertexts (4,096 slots) and one masked decryption per feature, so below 4,096 rows a batch costs almost as much as a full one.',
    columns: [
      { key: 'batch', label: 'batch rows' },
      { key: 'perBatch', label: 'ms per batch', digits: 0 },
      { key: 'perRow', label: 'µs per row', digits: 0 },
      { key: 'passPerMillion', label: 's per pass per 10⁶ rows', digits: 0 },
    ],
    rows: [...byBatch].sort((a, b) => a.batch - b.batch).map(({ batch, step }) => ({
      batch, perBatch: step.total * 1e3, perRow: (step.total / step.batchRows) * 1e6, passPerMillion: step.passSeconds(1e6),
    })),
  };
}

async function run(ctx: BenchContext): Promise<BenchOutput> {
  const { progress, quick } = ctx;
  const sizes = option(ctx, 'sizes', quick ? '4k' : '20k').split(',').map(parseSize);
  const overlap = Number(option(ctx, 'overlap', '0.5'));
  const epochs = Number(option(ctx, 'epochs', quick ? '1' : '2'));
  const threads = ctx.options.get('threads');
  const sampleRows = Number(option(ctx, 'paillier-rows', quick ? '4' : '32'));
  if (!(overlap > 0 && overlap <= 1)) throw new RangeError('--overlap must be in (0, 1]');
  if (!(Number.isInteger(epochs) && epochs >= 1)) throw new RangeError('--epochs must be a positive integer');
  const loadBefore = loadavg();

  const results: SizeResult[] = [];
  let sample: SyntheticData | undefined;
  for (const ids of sizes) {
    const out = await runSize(ctx, ids, { overlap, epochs, threads });
    results.push(out.result);
    sample ??= out.data;
  }

  const inputs = { guest: sample!.guest, host: sample!.host, labels: sample!.labels, batchRows: compileTraining().batchSize };
  progress.step(`CKKS step on one ${inputs.batchRows}-row batch`);
  const ckks = await ckksStep(inputs, quick ? 1 : 3);
  progress.done(`${(ckks.total * 1e3).toFixed(0)} ms per batch`);
  progress.step(`Paillier step on ${sampleRows} rows (2048-bit keys)`);
  const paillier = await paillierStep(inputs, sampleRows);
  progress.done(`${(paillier.perRow.total * 1e3).toFixed(0)} ms per row`);

  progress.step('packing choices: inner sum, pre-encoding, compression, batch size');
  const choices = await measureChoices(quick ? 3 : 15);
  const batchSizes = quick ? [1024] : [512, 1024, 2048];
  const byBatch: Array<{ batch: number; step: CkksStep }> = [{ batch: ckks.batchRows, step: ckks }];
  for (const batch of batchSizes) byBatch.push({ batch, step: await ckksStep({ ...inputs, batchRows: batch }, quick ? 1 : 3) });
  progress.done(`${choices.rows.length} measurements, ${byBatch.length} batch sizes`);

  const notes = [
    `Machine load average (1, 5, 15 min) before: ${loadBefore.map((v) => v.toFixed(2)).join(', ')}; after each size: ${results.map((r) => `${r.ids}: ${r.loadAverage.map((v) => v.toFixed(2)).join(', ')}`).join('; ')}. ${availableParallelism()} cores, shared with other work.`,
    `CKKS step max |error| against plaintext ${ckks.maxError.toExponential(2)}; Paillier ${paillier.maxError.toExponential(2)}.`,
    ...results.filter((r) => r.stage !== 'completed').map((r) => `${r.ids} ids: the job ended ${r.stage} (${r.message}).`),
  ];
  return {
    parameters: { sizes, overlap, epochs, guestFeatures: GUEST_FEATURES, hostFeatures: HOST_FEATURES, seed: SEED, cryptoThreads: threads ?? 'node default', paillierSampleRows: sampleRows, results },
    tables: [scaleTable(results), cpuTable(results), paillierTable(results, paillier, ckks), stepTable(paillier, ckks), choicesTable(choices, results), batchTable(byBatch)],
    notes,
  };
}

export const scaleBenchmark: Benchmark = {
  name: 'scale',
  description: 'PSI and encrypted hetero-LR at growing sizes with every role in its own process (time, core-seconds, bytes, peak RSS), against the plaintext twin and per-value Paillier.',
  options: {
    sizes: 'ids per party, comma-separated (e.g. 100k,300k,1M); default 20k (4k with --quick)',
    overlap: 'fraction of ids both parties hold; default 0.5',
    epochs: 'passes over the training rows per job (no early stopping); default 2 (1 with --quick)',
    threads: 'crypto worker threads per party node (node.cryptoThreads; 0 = none); default the node default',
    'paillier-rows': 'rows the Paillier step is timed on; default 32 (4 with --quick)',
  },
  run,
};
