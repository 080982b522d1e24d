/**
 * The references every accuracy check compares a federated job against,
 * computed in process on the pooled data with the job's own alignment
 * order, split and preprocessing: the same algorithm in plaintext
 * (losslessness) and exact centralised Newton logistic regression.
 */
import { loadPartyConfig } from '../party/config.ts';
import { alignmentOrder } from '../jobs/common/alignment.ts';
import { buildMatrix, loadJobDataset } from '../jobs/common/features.ts';
import { compileJobSpec, jobSpecSchema, lrModel, type JobSpec } from '../protocol/job-spec.ts';
import { stratifiedSplit } from '../protocol/random.ts';
import { auc } from '../protocol/evaluation/metrics.ts';
import { scoreLinear, trainHeteroLrPlain, type PartyMatrix } from '../protocol/training/hetero-lr-plain.ts';
import { fitLogisticNewton, logits } from '../protocol/training/centralised.ts';
import { fitLeastSquares } from '../protocol/training/least-squares.ts';
import { regressionReport } from '../protocol/evaluation/regression-metrics.ts';
import { labelScale, standardised } from '../models/lr/regression.ts';
import { parse } from 'yaml';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { transformRows, type PreprocessSpec } from '../data/preprocess.ts';
import { clipRows } from '../protocol/privacy/dp-plan.ts';
import { partialLogits } from '../protocol/training/plan.ts';
import { decorrelateRows, fitDecorrelation } from '../protocol/training/decorrelate.ts';
import { fitMultinomialNewton, multinomialProbabilities } from '../protocol/training/centralised-multinomial.ts';
import { multiclassReport, type MulticlassReport } from '../protocol/evaluation/multiclass-metrics.ts';
import { oneVsRestProbabilities } from '../models/lr/one-vs-rest.ts';

/**
 * AUC on the validation rows of the saved model parts, scored on the pooled
 * data (each part's own preprocessing, and row clipping for DP jobs). Tests
 * and benchmarks only: it needs every party's data in one place.
 */
export async function scoreSavedModel(
  specFile: string,
  partyFiles: ReadonlyMap<string, string>,
  jobId: string,
): Promise<number> {
  const spec = compileJobSpec(jobSpecSchema.parse(parse(await readFile(specFile, 'utf8'))));
  const partOf = async (name: string, dataset: string) => {
    const config = await loadPartyConfig(partyFiles.get(name) ?? '');
    const d = config.datasets[dataset];
    if (d === undefined) throw new Error(`${name} has no dataset ${dataset}`);
    const model = JSON.parse(await readFile(join(config.node.dataDir, 'jobs', jobId, 'model-part.json'), 'utf8')) as {
      weights: number[];
      intercept: number;
      preprocess: PreprocessSpec;
      rowClip: number | null;
    };
    return { data: await loadJobDataset(d), model };
  };
  const guest = await partOf(spec.guest.name, spec.guest.dataset);
  const hosts = await Promise.all(spec.hosts.map((h) => partOf(h.name, h.dataset)));
  const hostRowOf = hosts.map((h) => new Map(h.data.ids.map((id, row) => [id, row])));
  const shared = guest.data.ids.flatMap((id, row) => (hostRowOf.every((m) => m.has(id)) ? [row] : []));
  const aligned = alignmentOrder(guest.data.ids, shared, spec.seed);
  const labels = Int32Array.from(aligned, (row) => guest.data.labels?.[row] ?? 0);
  const { test } = stratifiedSplit(
    spec.stratified ? labels : new Int32Array(aligned.length),
    spec.validationFraction,
    (guest.model as { splitSeed?: string }).splitSeed ?? '',
  );
  const z = new Float64Array(test.length).fill(guest.model.intercept);
  const add = (
    part: {
      data: Awaited<ReturnType<typeof loadJobDataset>>;
      model: { weights: number[]; preprocess: PreprocessSpec; rowClip: number | null };
    },
    rows: Uint32Array,
  ): void => {
    const { matrix, columns } = transformRows(part.model.preprocess, part.data, rows);
    if (part.model.rowClip !== null) clipRows(matrix, columns.length, part.model.rowClip);
    const u = partialLogits(
      matrix,
      columns.length,
      Uint32Array.from(rows, (_, k) => k),
      Float64Array.from(part.model.weights),
    );
    for (let i = 0; i < z.length; i++) z[i] = (z[i] ?? 0) + (u[i] ?? 0);
  };
  add(
    guest,
    Uint32Array.from(test, (p) => aligned[p] ?? 0),
  );
  hosts.forEach((h, k) =>
    add(
      h,
      Uint32Array.from(test, (p) => hostRowOf[k]?.get(guest.data.ids[aligned[p] ?? 0] ?? '') ?? 0),
    ),
  );
  return auc(
    z,
    Int32Array.from(test, (p) => labels[p] ?? 0),
  );
}

export type PooledReference = {
  readonly plainAuc: number;
  readonly newtonAuc: number;
  readonly guestOnlyAuc: number;
  readonly validationRows: number;
  readonly spec: JobSpec;
};

/** The guest's secret split seed, from the model part it saved for `jobId`. */
export async function guestSplitSeed(guestConfigFile: string, jobId: string): Promise<string> {
  const config = await loadPartyConfig(guestConfigFile);
  const model = JSON.parse(await readFile(join(config.node.dataDir, 'jobs', jobId, 'model-part.json'), 'utf8')) as {
    splitSeed?: string;
  };
  if (model.splitSeed === undefined) throw new Error(`the guest's model part for ${jobId} has no splitSeed`);
  return model.splitSeed;
}

export type PooledData = {
  readonly spec: JobSpec;
  readonly guest: PartyMatrix;
  readonly hosts: readonly PartyMatrix[];
  /** Labels of the aligned rows. */
  readonly labels: Float64Array;
  readonly train: Uint32Array;
  readonly test: Uint32Array;
  readonly yTest: Int32Array;
};

/**
 * The pooled, preprocessed matrices of a job with its alignment order, split
 * and preprocessing. `partyFiles` maps party name to its node config file;
 * `splitSeed` is the guest's (see guestSplitSeed).
 */
export async function pooledData(
  specFile: string,
  partyFiles: ReadonlyMap<string, string>,
  splitSeed: string,
): Promise<PooledData> {
  const spec = compileJobSpec(jobSpecSchema.parse(parse(await readFile(specFile, 'utf8'))));
  const load = async (name: string, dataset: string) => {
    const config = await loadPartyConfig(partyFiles.get(name) ?? '');
    const d = config.datasets[dataset];
    if (d === undefined) throw new Error(`${name} has no dataset ${dataset}`);
    return { config: d, data: await loadJobDataset(d) };
  };
  const guest = await load(spec.guest.name, spec.guest.dataset);
  const hosts = await Promise.all(spec.hosts.map((h) => load(h.name, h.dataset)));
  const hostRowOf = hosts.map((h) => new Map(h.data.ids.map((id, row) => [id, row])));
  const shared = guest.data.ids.flatMap((id, row) => (hostRowOf.every((m) => m.has(id)) ? [row] : []));
  const aligned = alignmentOrder(guest.data.ids, shared, spec.seed);
  const hostAligned = hostRowOf.map((m) => Uint32Array.from(aligned, (row) => m.get(guest.data.ids[row] ?? '') ?? 0));
  const labels = Float64Array.from(aligned, (row) => (guest.data.targets ?? guest.data.labels)?.[row] ?? 0);
  // As the guest splits: stratified by class, and a continuous label not at all.
  const y =
    spec.stratified && guest.data.targets === undefined ? Int32Array.from(labels) : new Int32Array(aligned.length);
  const { train, test } = stratifiedSplit(y, spec.validationFraction, splitSeed);
  const options = { bins: lrModel(spec).bins };
  const gm = buildMatrix(
    guest.data,
    guest.config,
    aligned,
    Uint32Array.from(train, (p) => aligned[p] ?? 0),
    options,
  );
  const hm = hosts.map((h, k) =>
    buildMatrix(
      h.data,
      h.config,
      hostAligned[k] as Uint32Array,
      Uint32Array.from(train, (p) => hostAligned[k]?.[p] ?? 0),
      options,
    ),
  );
  return {
    spec,
    guest: { X: gm.X, columns: gm.columns },
    hosts: hm.map((m) => ({ X: m.X, columns: m.columns })),
    labels,
    train,
    test,
    yTest: Int32Array.from(test, (p) => labels[p] ?? 0),
  };
}

/** The two references for a job: the plaintext twin and exact Newton LR, on `pooledData`. */
export async function pooledReference(
  specFile: string,
  partyFiles: ReadonlyMap<string, string>,
  splitSeed: string,
): Promise<PooledReference> {
  const { spec, guest: gm, hosts: hm, labels, train, test, yTest } = await pooledData(specFile, partyFiles, splitSeed);
  const [gd, ...hd] = [gm, ...hm].map((m) => decorrelatedFor(spec, m, train)) as [PartyMatrix, ...PartyMatrix[]];
  const plain = trainHeteroLrPlain({ guest: gd, hosts: hd, labels, train, plan: spec.training, seed: spec.seed });
  const plainAuc = auc(scoreLinear(plain, gd, hd, test), yTest);

  const { joined, columns } = joinColumns(gm, hm, labels.length);
  const newton = fitLogisticNewton(joined, columns, labels, train, { l2: spec.training.optimizer.l2 });
  const newtonAuc = auc(logits(newton, joined, columns, test), yTest);
  const alone = fitLogisticNewton(gm.X, gm.columns, labels, train, { l2: spec.training.optimizer.l2 });
  const guestOnlyAuc = auc(logits(alone, gm.X, gm.columns, test), yTest);
  return { plainAuc, newtonAuc, guestOnlyAuc, validationRows: test.length, spec };
}

/** A party's matrix as its node trains on it: decorrelated on the training rows when the spec says so. */
function decorrelatedFor(spec: JobSpec, m: PartyMatrix, train: Uint32Array): PartyMatrix {
  return spec.decorrelate
    ? { X: decorrelateRows(fitDecorrelation(m.X, m.columns, train), m.X), columns: m.columns }
    : m;
}

/** The parties' columns side by side, as one pooled matrix (tests and benchmarks only). */
export function joinColumns(
  guest: PartyMatrix,
  hosts: readonly PartyMatrix[],
  rows: number,
): { joined: Float64Array; columns: number } {
  const columns = guest.columns + hosts.reduce((s, m) => s + m.columns, 0);
  const joined = new Float64Array(rows * columns);
  for (let r = 0; r < rows; r++) {
    let offset = r * columns;
    for (const m of [guest, ...hosts]) {
      joined.set(m.X.subarray(r * m.columns, (r + 1) * m.columns), offset);
      offset += m.columns;
    }
  }
  return { joined, columns };
}

export type ColdStartReference = {
  /** The same one-vs-rest algorithm in plaintext: each party's decorrelated columns, same batches, same link. */
  readonly plain: MulticlassReport;
  /** Exact multinomial (softmax) LR on the joined standardised columns. */
  readonly centralised: MulticlassReport;
  /** Exact multinomial LR on the guest's columns alone. */
  readonly guestOnly: MulticlassReport;
  readonly validationRows: number;
};

/** The references for a cold-start job with `classes` classes, on `pooledData`. */
export async function pooledColdStartReference(
  specFile: string,
  partyFiles: ReadonlyMap<string, string>,
  splitSeed: string,
  classes: number,
): Promise<ColdStartReference> {
  const { spec, guest, hosts, labels, train, test, yTest } = await pooledData(specFile, partyFiles, splitSeed);
  const g = decorrelatedFor(spec, guest, train);
  const h = hosts.map((m) => decorrelatedFor(spec, m, train));
  const z = new Float64Array(test.length * classes);
  for (let c = 0; c < classes; c++) {
    const model = trainHeteroLrPlain({
      guest: g,
      hosts: h,
      labels: Float64Array.from(labels, (v) => (v === c ? 1 : 0)),
      train,
      plan: spec.training,
      seed: spec.seed,
    });
    scoreLinear(model, g, h, test).forEach((v, i) => {
      z[i * classes + c] = v;
    });
  }
  const { joined, columns } = joinColumns(guest, hosts, labels.length);
  const l2 = spec.training.optimizer.l2;
  const centralised = fitMultinomialNewton(joined, columns, labels, classes, train, { l2 });
  const alone = fitMultinomialNewton(guest.X, guest.columns, labels, classes, train, { l2 });
  return {
    plain: multiclassReport(oneVsRestProbabilities(z, classes), yTest, classes),
    centralised: multiclassReport(multinomialProbabilities(centralised, joined, columns, test), yTest, classes),
    guestOnly: multiclassReport(multinomialProbabilities(alone, guest.X, guest.columns, test), yTest, classes),
    validationRows: test.length,
  };
}

export type RegressionReference = {
  /** R² of the same algorithm in plaintext (the federated model must equal it). */
  readonly plainR2: number;
  /** R² of exact least squares on the pooled columns. */
  readonly leastSquaresR2: number;
  /** R² of exact least squares on the guest's columns alone. */
  readonly guestOnlyR2: number;
  readonly validationRows: number;
};

/** The references for a job with a continuous label: the plaintext twin (squared loss, standardised label) and exact least squares. */
export async function pooledRegressionReference(
  specFile: string,
  partyFiles: ReadonlyMap<string, string>,
  splitSeed: string,
): Promise<RegressionReference> {
  const { spec, guest: gm, hosts: hm, labels, train, test } = await pooledData(specFile, partyFiles, splitSeed);
  const scale = labelScale(labels, train);
  const targets = standardised(labels, scale);
  const yTest = Float64Array.from(test, (p) => labels[p] ?? 0);
  const r2 = (z: Float64Array): number =>
    regressionReport(
      Float64Array.from(z, (v) => v * scale.std + scale.mean),
      yTest,
    ).r2;
  const [gd, ...hd] = [gm, ...hm].map((m) => decorrelatedFor(spec, m, train)) as [PartyMatrix, ...PartyMatrix[]];
  const plain = trainHeteroLrPlain({
    guest: gd,
    hosts: hd,
    labels: targets,
    train,
    plan: spec.training,
    seed: spec.seed,
    objective: 'squared',
  });
  const { joined, columns } = joinColumns(gm, hm, labels.length);
  const l2 = spec.training.optimizer.l2;
  return {
    plainR2: r2(scoreLinear(plain, gd, hd, test)),
    leastSquaresR2: r2(logits(fitLeastSquares(joined, columns, targets, train, l2), joined, columns, test)),
    guestOnlyR2: r2(logits(fitLeastSquares(gm.X, gm.columns, targets, train, l2), gm.X, gm.columns, test)),
    validationRows: test.length,
  };
}
