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
import type { JobStatus } from '../runtime/admin-client.ts';
import type { Benchmark, BenchContext, BenchOutput } from './harness.ts';
import { writeSynthetic, type SyntheticData } from './scale/data.ts';
import { startProcessFederation, UsageSampler, type RoleUsage } from './scale/processes.ts';
import { ckksStep, paillierStep, type CkksStep } from './scale/paillier.ts';
import { wireBytes } from './lr/wire-bytes.ts';
import { measureChoices } from './scale/choices.ts';
import {
  batchTable,
  choicesTable,
  cpuTable,
  GUEST,
  GUEST_FEATURES,
  HOST,
  HOST_FEATURES,
  MB,
  MIB,
  paillierTable,
  ROLES,
  scaleTable,
  SEED,
  stepTable,
  type Role,
  type SizeResult,
  type Usage,
} from './scale/tables.ts';

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

async function runSize(
  ctx: BenchContext,
  ids: number,
  opts: { overlap: number; epochs: number; threads: string | undefined },
): Promise<{ result: SizeResult; data: SyntheticData }> {
  const { progress } = ctx;
  const label = `${ids.toLocaleString('en-US')} ids per party`;
  const work = await mkdtemp(join(tmpdir(), 'tandem-scale-data-'));
  try {
    progress.step(`${label}: synthetic data`);
    let t0 = performance.now();
    const data = await writeSynthetic(
      { ids, overlap: opts.overlap, guestFeatures: GUEST_FEATURES, hostFeatures: HOST_FEATURES, seed: SEED },
      join(work, 'guest.csv'),
      join(work, 'host.csv'),
      (done, total) => progress.detail(`${Math.round((100 * done) / total)} %`),
    );
    const generateSeconds = (performance.now() - t0) / 1000;
    progress.done(
      `${((data.bytes.guest + data.bytes.host) / MB).toFixed(0)} MB of CSV, ${data.shared} shared ids, ${generateSeconds.toFixed(1)} s`,
    );

    progress.step(`${label}: starting coordinator and parties as processes`);
    const node = opts.threads === undefined ? undefined : { cryptoThreads: Number(opts.threads) };
    const fed = await startProcessFederation([
      {
        name: GUEST,
        node,
        datasets: { d: { file: data.guestFile, id: 'id', label: { column: 'y' }, features: 'all' } },
      },
      { name: HOST, node, datasets: { d: { file: data.hostFile, id: 'id', features: 'all' } } },
    ]);
    progress.done(fed.dir);
    try {
      const roles = new Map(fed.roles.map((r) => [r.name as Role, () => r.usage()] as const));
      progress.step(`${label}: hetero-LR job, ${opts.epochs} passes`);
      const spec = await fed.write('job.yaml', {
        name: `scale-${ids}`,
        kind: 'hetero-lr',
        seed: 42,
        parties: [
          { name: GUEST, role: 'guest', dataset: 'd' },
          { name: HOST, role: 'host', dataset: 'd' },
        ],
        // No early stopping: every size runs the same number of passes.
        training: { maxEpochs: opts.epochs, patience: opts.epochs },
      });
      const admin = await fed.admin();
      const sampler = new UsageSampler(fed.roles);
      await sampler.sample();
      const submittedAt = Date.now();
      let final: JobStatus;
      let jobId: string;
      try {
        const submitted = await admin.submit(spec);
        jobId = submitted.jobId;
        final = await admin.watch(jobId, (s: JobStatus) => {
          const epoch = s.phase === 'training' && s.epoch > 0 ? ` epoch ${s.epoch}/${s.maxEpochs}` : '';
          progress.detail(`${s.stage}/${s.phase}${epoch}`);
        });
      } finally {
        admin.close();
        await sampler.sample();
        sampler.stop();
      }
      const after = await usageOf(roles);
      const peakRssMiB = Object.fromEntries(ROLES.map((r) => [r, after[r].peakRssBytes / MIB])) as Record<Role, number>;
      const completed = final.stage === 'completed';
      const summary = completed
        ? (JSON.parse(final.summaryJson) as Record<string, { epochs?: number; rows?: { train?: number } } | undefined>)
        : {};
      const passes = summary[GUEST]?.epochs ?? 0;
      const bytes = completed
        ? await wireBytes(
            fed.dir,
            jobId,
            new Map([
              [GUEST, 'guest'],
              [HOST, 'host'],
            ]),
          )
        : null;
      // Phases from the parties' own logs: PSI starts when both have loaded their data and ends when both
      // have their aligned rows; training runs from when both start it to when both start evaluating.
      const logs = await Promise.all(fed.roles.filter((r) => r.name !== 'coordinator').map((r) => r.phases()));
      const both = (phase: string, which: 'first' | 'last'): number | undefined => {
        const times = logs.map((l) => l.get(phase)?.[which]);
        return times.some((t) => t === undefined) ? undefined : Math.max(...(times as number[]));
      };
      const psiStart = both('psi', 'first');
      const psiEnd = both('psi', 'last');
      const trainStart = both('training', 'first');
      const trainEnd = both('evaluation', 'first');
      const span = (a: number | undefined, b: number | undefined): number | null =>
        a === undefined || b === undefined ? null : (b - a) / 1000;
      const cpu = (role: Role, a: number | undefined, b: number | undefined): number | null =>
        a === undefined || b === undefined ? null : sampler.cpuBetween(role, a, b);
      const cores = (a: number | undefined, b: number | undefined): number | null =>
        a === undefined || b === undefined ? null : ROLES.reduce((sum, r) => sum + (cpu(r, a, b) ?? 0), 0);
      const trainSeconds = completed ? span(trainStart, trainEnd) : null;
      const cpuByRole =
        completed && trainStart !== undefined && trainEnd !== undefined
          ? (Object.fromEntries(
              ROLES.map((r) => [r, (cpu(r, trainStart, trainEnd) ?? 0) / Math.max(passes, 1)]),
            ) as Record<Role, number>)
          : null;
      progress.done(
        completed
          ? `PSI ${span(psiStart, psiEnd)?.toFixed(1)} s, ${passes} passes in ${trainSeconds?.toFixed(1)} s`
          : `${final.stage}: ${final.message}`,
      );

      const trainRows = summary[GUEST]?.rows?.train ?? null;
      let plainSecondsPerPass: number | null = null;
      let plainEpochsToConverge: number | null = null;
      if (trainRows !== null) {
        progress.step(`${label}: plaintext twin on ${trainRows} rows`);
        // The job's split is secret to the guest; the same number of rows costs the same.
        const train = Uint32Array.from({ length: trainRows }, (_, i) => i);
        const plain = (maxEpochs: number, patience?: number) =>
          trainHeteroLrPlain({
            guest: data.guest,
            hosts: [data.host],
            labels: data.labels,
            train,
            seed: '42',
            plan: compileTraining(patience === undefined ? { maxEpochs } : { maxEpochs, patience }),
          });
        t0 = performance.now();
        plain(opts.epochs, opts.epochs);
        plainSecondsPerPass = (performance.now() - t0) / 1000 / opts.epochs;
        plainEpochsToConverge = ctx.quick ? null : plain(30).epochs;
        progress.done(
          `${plainSecondsPerPass.toFixed(2)} s per pass${plainEpochsToConverge === null ? '' : `, converges in ${plainEpochsToConverge} epochs`}`,
        );
      }
      const result: SizeResult = {
        ids,
        shared: data.shared,
        trainRows,
        stage: final.stage,
        message: final.message,
        generateSeconds,
        csvBytes: data.bytes,
        loadSeconds: span(submittedAt, psiStart),
        psiSeconds: span(psiStart, psiEnd),
        psiCoreSeconds: cores(psiStart, psiEnd),
        passes,
        secondsPerPass: trainSeconds === null ? null : trainSeconds / Math.max(passes, 1),
        coreSecondsPerPass: completed ? (cores(trainStart, trainEnd) ?? 0) / Math.max(passes, 1) : null,
        cpuByRole,
        peakRssMiB,
        bytes,
        plainSecondsPerPass,
        plainEpochsToConverge,
        loadAverage: loadavg(),
      };
      return { result, data };
    } finally {
      await fed.close();
    }
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

async function run(ctx: BenchContext): Promise<BenchOutput> {
  const { progress, quick } = ctx;
  const sizes = option(ctx, 'sizes', quick ? '4k' : '20k')
    .split(',')
    .map(parseSize);
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
    // Each size's figures as soon as they exist: a long run stopped later still leaves them.
    process.stderr.write(`scale result: ${JSON.stringify(out.result)}\n`);
    sample ??= out.data;
  }

  const inputs = {
    guest: sample!.guest,
    host: sample!.host,
    labels: sample!.labels,
    batchRows: compileTraining().batchSize,
  };
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
  for (const batch of batchSizes)
    byBatch.push({ batch, step: await ckksStep({ ...inputs, batchRows: batch }, quick ? 1 : 3) });
  progress.done(`${choices.rows.length} measurements, ${byBatch.length} batch sizes`);

  const notes = [
    `Machine load average (1, 5, 15 min) before: ${loadBefore.map((v) => v.toFixed(2)).join(', ')}; after each size: ${results.map((r) => `${r.ids}: ${r.loadAverage.map((v) => v.toFixed(2)).join(', ')}`).join('; ')}. ${availableParallelism()} cores, shared with other work.`,
    `CKKS step max |error| against plaintext ${ckks.maxError.toExponential(2)}; Paillier ${paillier.maxError.toExponential(2)}.`,
    ...results
      .filter((r) => r.stage !== 'completed')
      .map((r) => `${r.ids} ids: the job ended ${r.stage} (${r.message}).`),
  ];
  return {
    parameters: {
      sizes,
      overlap,
      epochs,
      guestFeatures: GUEST_FEATURES,
      hostFeatures: HOST_FEATURES,
      seed: SEED,
      cryptoThreads: threads ?? 'node default',
      paillierSampleRows: sampleRows,
      results,
    },
    tables: [
      scaleTable(results),
      cpuTable(results),
      paillierTable(results, paillier, ckks),
      stepTable(paillier, ckks),
      choicesTable(choices, results),
      batchTable(byBatch),
    ],
    notes,
  };
}

export const scaleBenchmark: Benchmark = {
  name: 'scale',
  description:
    'PSI and encrypted hetero-LR at growing sizes with every role in its own process (time, core-seconds, bytes, peak RSS), against the plaintext twin and per-value Paillier.',
  options: {
    sizes: 'ids per party, comma-separated (e.g. 100k,300k,1M); default 20k (4k with --quick)',
    overlap: 'fraction of ids both parties hold; default 0.5',
    epochs: 'passes over the training rows per job (no early stopping); default 2 (1 with --quick)',
    threads: 'crypto worker threads per party node (node.cryptoThreads; 0 = none); default the node default',
    'paillier-rows': 'rows the Paillier step is timed on; default 32 (4 with --quick)',
  },
  run,
};
