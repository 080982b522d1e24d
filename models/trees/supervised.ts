/**
 * Trees in a supervised job (hetero, cold-start): every party bins its own
 * columns on its training rows; the guest boosts over its own columns
 * (locally) and each host's (through secret-shared histograms), keeps the
 * trees and leaf values, and evaluates on the validation rows it routes
 * itself (hosts answer splits for every shared row). A host keeps the
 * thresholds of the splits on its columns, by record. The guest also
 * trains what it could alone (LR and trees on its own columns) and reports
 * the better one.
 */
import { JobError } from '../../protocol/errors.ts';
import { logits } from '../../protocol/training/centralised.ts';
import { multiclassSummary } from '../../protocol/evaluation/multiclass-metrics.ts';
import { guestOnlyBaseline } from '../lr/baseline.ts';
import { fitMultinomialNewton, multinomialProbabilities } from '../../protocol/training/centralised-multinomial.ts';
import { fitLeastSquares } from '../../protocol/training/least-squares.ts';
import { buildMatrixAsync, type PartyMatrix } from '../../jobs/common/features.ts';
import type { SupervisedRun, TrainedModel } from '../family.ts';
import { bestOwn, ownTrees, validationMetrics, type OwnTrees } from '../own-best.ts';
import { binRows, fitEdges, layoutOf, thresholdOf } from './core/binning.ts';
import { boost, type Boosted, type SplitRequest, type TreeParty } from './core/booster.ts';
import { localParty } from './core/local-party.ts';
import type { Objective } from './core/objective.ts';
import { maskSeed, remoteHost, sendGuestSeed, serveTreeHost } from './secure-histogram.ts';
import { treesOptions, type TreesOptions } from './spec.ts';

export async function trainSupervisedTrees(run: SupervisedRun): Promise<TrainedModel> {
  const { job, spec, role } = run;
  const options = treesOptions(spec.model);
  const trainAligned = Uint32Array.from(run.train, (p) => run.aligned[p] ?? 0);
  const matrix = await buildMatrixAsync(run.dataset, run.datasetConfig, run.aligned, trainAligned);
  const edges = fitEdges(matrix.X, matrix.columns, run.train, options.maxBins);
  const codes = binRows(matrix.X, matrix.columns, edges);
  const layout = layoutOf(edges);
  const rows = run.aligned.length;
  if (role === 'host') {
    run.progress(
      'training',
      `binned ${matrix.columns} columns into ${layout.total} bins; answering the guest's histograms and splits`,
    );
    const records = await serveTreeHost(
      job.channel,
      spec.guest.name,
      { codes, layout, train: run.train, rows },
      await maskSeed(job),
    );
    // The host knows which of its columns were split on (not the gains, which stay with the guest).
    const splitsByFeature: Record<string, number> = {};
    for (const r of records)
      splitsByFeature[matrix.columnNames[r.column] ?? String(r.column)] =
        (splitsByFeature[matrix.columnNames[r.column] ?? String(r.column)] ?? 0) + 1;
    return {
      summary: { role: 'host', model: 'trees', features: matrix.columns, splits: records.length, splitsByFeature },
      model: hostModel(matrix, records, edges),
    };
  }
  const objective: Objective = run.labelType === 'continuous' ? 'squared' : run.outputs > 1 ? 'softmax' : 'logistic';
  const labels = run.labels ?? new Float64Array(rows);
  const seed = sendGuestSeed(job.channel, await maskSeed(job));
  run.progress(
    'training',
    `training trees on ${run.train.length} rows: ${matrix.columns} own columns and ${spec.hosts.length} host${spec.hosts.length === 1 ? '' : 's'}' (${run.validation.length} held out)`,
  );
  const hosts = await Promise.all(
    spec.hosts.map((h, k) => remoteHost(job.channel, h.name, k, seed, run.train.length, rows)),
  );
  const parties: TreeParty[] = [localParty(codes, layout, run.train), ...hosts];
  let boosted: Boosted;
  try {
    boosted = await boost({
      parties,
      rows,
      train: run.train,
      labels,
      objective,
      outputs: run.outputs,
      params: options,
      seed: String(spec.seed),
      onRound: (round, rounds, loss) => run.onEpoch({ epoch: round, maxEpochs: rounds, loss, unit: 'trees' }),
    });
  } finally {
    for (const h of hosts) h.stop();
  }
  run.progress('evaluation', `evaluating ${boosted.trees.length} rounds on ${run.validation.length} held-out rows`);
  const metrics = validationMetrics(objective, boosted.scores, run.outputs, labels, run.validation, run.classes ?? []);
  const { best: own, trees: ownModel } = await ownBest(
    matrix,
    labels,
    run,
    objective,
    options,
    String(spec.seed),
    spec.training.optimizer.l2,
  );
  const summary = {
    role: 'guest',
    model: 'trees',
    objective,
    importance: importance(
      boosted,
      matrix.columnNames,
      spec.hosts.map((h) => h.name),
    ),
    rows: { aligned: rows, train: run.train.length, validation: run.validation.length },
    epochs: boosted.trees.length,
    losses: boosted.losses,
    stoppedEarly: boosted.stoppedEarly,
    metrics,
    guestOnly: own,
    ...(run.classes === undefined ? {} : { classes: [...run.classes] }),
  };
  return {
    summary,
    model: guestModel(
      matrix,
      boosted,
      edges,
      objective,
      run.outputs,
      run.classes,
      spec.hosts.map((h) => h.name),
      ownModel,
    ),
  };
}

async function ownBest(
  matrix: PartyMatrix,
  labels: Float64Array,
  run: SupervisedRun,
  objective: Objective,
  options: TreesOptions,
  seed: string,
  l2: number,
): Promise<{ best: ReturnType<typeof bestOwn>; trees: OwnTrees | undefined }> {
  const { X, columns } = matrix;
  const classes = run.classes ?? [];
  let lr: Record<string, unknown>;
  if (columns === 0) lr = {};
  else if (objective === 'logistic') {
    lr = { ...guestOnlyBaseline(X, columns, labels, run.train, run.validation, l2).metrics };
  } else if (objective === 'softmax') {
    const model = fitMultinomialNewton(X, columns, labels, run.outputs, run.train, { l2 });
    const y = Int32Array.from(run.validation, (r) => labels[r] ?? 0);
    lr = multiclassSummary(multinomialProbabilities(model, X, columns, run.validation), y, run.outputs, classes);
  } else {
    const model = fitLeastSquares(X, columns, labels, run.train, l2);
    const all = Uint32Array.from({ length: run.aligned.length }, (_, r) => r);
    lr = validationMetrics('squared', logits(model, X, columns, all), 1, labels, run.validation, classes);
  }
  const trees =
    columns === 0
      ? undefined
      : await ownTrees(X, columns, labels, run.train, run.validation, objective, run.outputs, seed, options, classes);
  return {
    best: bestOwn(objective, { features: columns, metrics: lr }, { features: columns, metrics: trees?.metrics ?? {} }),
    trees,
  };
}

/** A split record as a party keeps it: its column by name, the threshold (x ≤ threshold goes left) and missing values' side. */
function recordOf(matrix: PartyMatrix, edges: readonly Float64Array[], r: SplitRequest): Record<string, unknown> {
  const column = matrix.columnNames[r.column];
  if (column === undefined)
    throw new JobError('JOB_STATE_CONFLICT', `split record ${r.record} names column ${r.column} of ${matrix.columns}`);
  return {
    record: r.record,
    feature: column,
    threshold: thresholdOf(edges[r.column] ?? new Float64Array(0), r.bin),
    missingLeft: r.missingLeft,
  };
}

function hostModel(
  matrix: PartyMatrix,
  records: readonly SplitRequest[],
  edges: readonly Float64Array[],
): Record<string, unknown> {
  return {
    family: 'trees',
    featureNames: matrix.columnNames,
    preprocess: matrix.spec,
    records: records.map((r) => recordOf(matrix, edges, r)),
  };
}

function guestModel(
  matrix: PartyMatrix,
  b: Boosted,
  edges: readonly Float64Array[],
  objective: Objective,
  outputs: number,
  classes: readonly string[] | undefined,
  hosts: readonly string[],
  own: OwnTrees | undefined,
): Record<string, unknown> {
  return {
    family: 'trees',
    objective,
    outputs,
    featureNames: matrix.columnNames,
    preprocess: matrix.spec,
    // Party 0 is this guest; party k ≥ 1 is hosts[k − 1], which keeps its records' thresholds.
    treeParties: ['(guest)', ...hosts],
    base: [...b.base],
    trees: b.trees,
    records: (b.records[0] ?? []).map((r) => recordOf(matrix, edges, r)),
    ...(classes === undefined ? {} : { classes: [...classes] }),
    // Trees on the guest's columns alone, which serving answers with when a host cannot (never leaves the guest).
    ...(own === undefined
      ? {}
      : {
          ownTrees: {
            base: [...own.model.base],
            trees: own.model.trees,
            records: (own.model.records[0] ?? []).map((r) => recordOf(matrix, own.edges, r)),
          },
        }),
  };
}

/**
 * Importance by total gain, as XGBoost's `total_gain`: per own feature by
 * name, and per host only in aggregate (the guest knows which host column
 * a split used by number, but reports hosts' columns summed per host).
 */
function importance(
  b: Boosted,
  ownNames: readonly string[],
  hosts: readonly string[],
): { readonly own: Record<string, number>; readonly hosts: Record<string, number> } {
  const own: Record<string, number> = {};
  const byHost: Record<string, number> = {};
  const guestRecords = b.records[0] ?? [];
  for (const round of b.trees) {
    for (const tree of round) {
      for (const node of tree) {
        if ('leaf' in node) continue;
        if (node.party === 0) {
          const name = ownNames[guestRecords[node.record]?.column ?? -1] ?? '?';
          own[name] = (own[name] ?? 0) + node.gain;
        } else {
          const host = hosts[node.party - 1] ?? '?';
          byHost[host] = (byHost[host] ?? 0) + node.gain;
        }
      }
    }
  }
  return { own, hosts: byHost };
}
