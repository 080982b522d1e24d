/**
 * One real federated job for the trees benchmark (coordinator and party
 * nodes of test/support/federation.ts: gRPC, mTLS on loopback) with what it
 * cost — wall time, bytes every node originated (from the audit logs) and
 * the process's peak resident set — and the references on the job's own
 * pooled data: the plaintext twin (must grow the same trees) and
 * scikit-learn's HistGradientBoosting (test/support/hgb_reference.py) on
 * the same rows and split, all columns and the guest's alone.
 */
import { execFileSync } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { isDeepStrictEqual } from 'node:util';
import { guestSplitSeed, pooledData, type PooledData } from '../../examples/pooled-reference.ts';
import { trainTwin } from '../../models/trees/core/twin.ts';
import { treesOptions, type TreesOptions } from '../../models/trees/spec.ts';
import { validationMetrics } from '../../models/own-best.ts';
import type { Objective } from '../../models/trees/core/objective.ts';
import type { AdminClient, JobStatus } from '../../runtime/admin-client.ts';
import type { Federation } from '../../test/support/federation.ts';
import type { Progress } from '../harness.ts';

export type Task = 'binary' | 'multiclass' | 'regression';
export type MetricKey = 'auc' | 'accuracy' | 'r2';
export const metricOf = (task: Task): MetricKey =>
  task === 'binary' ? 'auc' : task === 'multiclass' ? 'accuracy' : 'r2';
const objectiveOf = (task: Task): Objective =>
  task === 'binary' ? 'logistic' : task === 'multiclass' ? 'softmax' : 'squared';

type AuditLine = {
  readonly job: string;
  readonly direction: 'sent' | 'received';
  readonly peer: string;
  readonly step: string;
  readonly bytes: number;
};

/** Envelope bytes originated by every node for one job, in total and by message step (a party's `sent`, and what it `received` from the coordinator). */
export async function jobBytes(
  dir: string,
  jobId: string,
  parties: readonly string[],
): Promise<{ total: number; byStep: Map<string, number> }> {
  const byStep = new Map<string, number>();
  let total = 0;
  for (const name of parties) {
    const text = await readFile(join(dir, name, 'audit', `${name}.audit.jsonl`), 'utf8');
    for (const line of text.split('\n')) {
      if (line.trim() === '') continue;
      const r = JSON.parse(line) as AuditLine;
      if (r.job !== jobId || !(r.direction === 'sent' || r.peer === 'coordinator')) continue;
      byStep.set(r.step, (byStep.get(r.step) ?? 0) + r.bytes);
      total += r.bytes;
    }
  }
  return { total, byStep };
}

export type JobRun = {
  readonly jobId: string;
  readonly stage: string;
  readonly message: string;
  readonly guest: Record<string, unknown> | undefined;
  readonly wallSeconds: number;
  readonly bytes: { total: number; byStep: Map<string, number> } | null;
  /** Peak resident set of this process (all nodes run in it) when the job ended, MiB: a high-water mark since the benchmark started. */
  readonly peakRssMiB: number;
};

/** Submits `spec` as admin, follows it on the progress line and measures it. */
export async function runMeasuredJob(
  fed: Federation,
  admin: AdminClient,
  spec: Record<string, unknown>,
  file: string,
  progress: Progress,
): Promise<JobRun> {
  const specFile = await fed.write(file, spec);
  const t0 = performance.now();
  const submitted = await admin.submit(specFile);
  const final = await admin.watch(submitted.jobId, (s: JobStatus) => {
    const round =
      s.phase === 'training' && s.maxEpochs > 0 && s.epoch > 0
        ? ` ${s.epoch}/${s.maxEpochs}, loss ${s.loss.toFixed(5)}`
        : '';
    progress.detail(`${s.stage}/${s.phase}${round}`);
  });
  const wallSeconds = (performance.now() - t0) / 1000;
  const summaries =
    final.summaryJson === '' ? {} : (JSON.parse(final.summaryJson) as Record<string, Record<string, unknown>>);
  const guestName = (spec['parties'] as { name: string; role: string }[]).find((p) => p.role === 'guest')?.name ?? '';
  const names = (spec['parties'] as { name: string }[]).map((p) => p.name);
  const completed = final.stage === 'completed';
  return {
    jobId: submitted.jobId,
    stage: final.stage,
    message: final.message,
    guest: summaries[guestName],
    wallSeconds,
    bytes: completed ? await jobBytes(fed.dir, submitted.jobId, names) : null,
    peakRssMiB: process.resourceUsage().maxRSS / 1024,
  };
}

/** A metric from a guest summary's `metrics` (or a nested block such as `guestOnly`). */
export function metricIn(block: unknown, key: MetricKey): number | null {
  const v = (block as { metrics?: Record<string, unknown> } | undefined)?.metrics?.[key];
  return typeof v === 'number' ? v : null;
}

export type TwinCheck = {
  readonly metric: number;
  readonly identical: boolean;
  readonly rounds: number;
  readonly data: PooledData;
};

/** The plaintext twin on the job's pooled data (its alignment, split and seed); `identical` compares its trees with the guest's saved ones. */
export async function twinOf(
  fed: Federation,
  specFile: string,
  guest: string,
  parties: readonly string[],
  jobId: string,
  task: Task,
  outputs: number,
): Promise<TwinCheck> {
  const files = new Map(parties.map((p) => [p, join(fed.dir, `${p}.yaml`)]));
  const data = await pooledData(specFile, files, await guestSplitSeed(files.get(guest) ?? '', jobId));
  const objective = objectiveOf(task);
  const twin = await trainTwin({
    parties: [data.guest, ...data.hosts],
    train: data.train,
    labels: data.labels,
    objective,
    outputs,
    params: treesOptions(data.spec.model),
    seed: String(data.spec.seed),
  });
  const part = JSON.parse(await readFile(join(fed.dir, guest, 'jobs', jobId, 'model-part.json'), 'utf8')) as {
    trees?: unknown;
  };
  const metric = validationMetrics(objective, twin.scores, outputs, data.labels, data.test, [])[metricOf(task)];
  return {
    metric: typeof metric === 'number' ? metric : NaN,
    identical: isDeepStrictEqual(part.trees, twin.trees),
    rounds: twin.trees.length,
    data,
  };
}

export type SklearnScores = {
  readonly allMatched: number;
  readonly guestMatched: number;
  readonly allDefaults: number;
  readonly guestDefaults: number;
};

/**
 * scikit-learn on the pooled matrix (label, guest columns, host columns) in
 * the job's aligned order, same train/validation rows: with the job's tree
 * options mapped to HistGradientBoosting's, and with its own defaults.
 */
export async function sklearnScores(
  data: PooledData,
  task: Task,
  options: TreesOptions,
  csvFile: string,
): Promise<SklearnScores> {
  const rows = data.labels.length;
  const parts = [data.guest, ...data.hosts];
  const columns = parts.reduce((s, m) => s + m.columns, 0);
  const lines = [['y', ...Array.from({ length: columns }, (_, k) => `x${k}`)].join(',')];
  for (let r = 0; r < rows; r++) {
    const cells: string[] = [String(data.labels[r] ?? 0)];
    for (const m of parts)
      for (let c = 0; c < m.columns; c++) cells.push(String(m.X[r * m.columns + c] ?? Number.NaN).toLowerCase());
    lines.push(cells.join(','));
  }
  await writeFile(csvFile, `${lines.join('\n')}\n`);
  const matched = {
    rounds: options.rounds,
    learningRate: options.learningRate,
    maxDepth: options.maxDepth,
    maxBins: options.maxBins,
    lambda: options.lambda,
  };
  const input = {
    csv: csvFile,
    guestColumns: data.guest.columns,
    train: Array.from(data.train),
    test: Array.from(data.test),
    task,
    runs: [
      { columns: 'all', params: matched },
      { columns: 'guest', params: matched },
      { columns: 'all', params: null },
      { columns: 'guest', params: null },
    ],
  };
  const script = join(import.meta.dirname, '..', '..', 'test', 'support', 'hgb_reference.py');
  // One OpenMP thread: scikit-learn's spinning threads crawl on a shared, oversubscribed machine (and the scores do not depend on it).
  const out = execFileSync('/usr/bin/python3', [script], {
    input: JSON.stringify(input),
    encoding: 'utf8',
    maxBuffer: 1 << 20,
    env: { ...process.env, OMP_NUM_THREADS: '1' },
  });
  const key = metricOf(task);
  const [allMatched, guestMatched, allDefaults, guestDefaults] = (JSON.parse(out) as Record<string, number>[]).map(
    (r) => r[key] ?? NaN,
  );
  return {
    allMatched: allMatched ?? NaN,
    guestMatched: guestMatched ?? NaN,
    allDefaults: allDefaults ?? NaN,
    guestDefaults: guestDefaults ?? NaN,
  };
}
