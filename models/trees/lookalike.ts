/**
 * Trees in a lookalike job: the guest holds only labels (seed or decoy) for
 * the selected pool rows, so every split is on the host's columns. The guest
 * grows the trees through secret-shared histograms as in a supervised job,
 * then gives the host the trees (splits by the host's own records and leaf
 * values: the model, no row) so the host scores its whole pool locally, as
 * lookalike LR does with its weights. The audience stays at the host.
 */
import { JobError } from '../../protocol/errors.ts';
import { buildMatrix } from '../../jobs/common/features.ts';
import { transformRows } from '../../data/preprocess.ts';
import type { LookalikeModel, LookalikeRun } from '../family.ts';
import { binRows, fitEdges, layoutOf, thresholdOf } from './core/binning.ts';
import { localParty } from './core/local-party.ts';
import { boost, type Tree } from './core/booster.ts';
import { TREE_MODEL } from './messages.ts';
import { rawScores, recordBits, type SavedRecord } from './score.ts';
import { maskSeed, remoteHost, sendGuestSeed, serveTreeHost } from './secure-histogram.ts';
import { treesOptions } from './spec.ts';

type SharedTrees = { readonly base: number[]; readonly trees: Tree[][] };

export async function trainLookalikeTrees(run: LookalikeRun): Promise<LookalikeModel> {
  const { job, spec } = run;
  const options = treesOptions(spec.model);
  const host = spec.hosts[0]?.name ?? '';
  if (run.role === 'guest') {
    const seed = sendGuestSeed(job.channel, await maskSeed(job));
    const remote = await remoteHost(job.channel, host, 0, seed, run.train.length, run.rows.length);
    let boosted;
    try {
      boosted = await boost({
        parties: [
          // The guest has no columns: a party with none, so every split is the host's (party 1).
          localParty(new Uint16Array(0), layoutOf([]), run.train),
          remote,
        ],
        rows: run.rows.length,
        train: run.train,
        labels: run.labels ?? new Float64Array(run.rows.length),
        objective: 'logistic',
        outputs: 1,
        params: options,
        seed: String(spec.seed),
        onRound: (round, rounds, loss) => run.onEpoch({ epoch: round, maxEpochs: rounds, loss, unit: 'trees' }),
      });
    } finally {
      remote.stop();
    }
    const shared: SharedTrees = { base: [...boosted.base], trees: boosted.trees.map((r) => [...r]) };
    job.channel.post(host, TREE_MODEL, 0, { json: JSON.stringify(shared) });
    return {
      summary: { model: 'trees', epochs: boosted.trees.length, losses: boosted.losses },
      model: {
        family: 'trees',
        objective: 'logistic',
        outputs: 1,
        featureNames: [],
        treeParties: ['(guest)', host],
        ...shared,
        records: [],
      },
    };
  }
  const dataset = run.dataset;
  const config = run.datasetConfig;
  if (dataset === undefined || config === undefined) throw new RangeError('a lookalike host needs its pool');
  const matrix = buildMatrix(
    dataset,
    config,
    run.rows,
    Uint32Array.from(run.train, (p) => run.rows[p] ?? 0),
  );
  const edges = fitEdges(matrix.X, matrix.columns, run.train, options.maxBins);
  const records = await serveTreeHost(
    job.channel,
    spec.guest.name,
    {
      codes: binRows(matrix.X, matrix.columns, edges),
      layout: layoutOf(edges),
      train: run.train,
      rows: run.rows.length,
    },
    await maskSeed(job),
  );
  const model = JSON.parse((await job.channel.take(spec.guest.name, TREE_MODEL, 0)).json) as SharedTrees;
  if (!Array.isArray(model.trees) || !Array.isArray(model.base))
    throw new JobError('JOB_STATE_CONFLICT', 'tree-model is not a tree model');
  const saved: SavedRecord[] = records.map((r) => ({
    record: r.record,
    feature: matrix.columnNames[r.column] ?? '',
    threshold: thresholdOf(edges[r.column] ?? new Float64Array(0), r.bin),
    missingLeft: r.missingLeft,
  }));
  // Score the whole pool here: every split is this host's (party 1); the guest has none.
  const all = Uint32Array.from({ length: dataset.rowCount }, (_, k) => k);
  const pool = transformRows(matrix.spec, dataset, all);
  const c = pool.columns.length;
  const none = new Uint8Array(0);
  const poolScores = Float64Array.from(
    all,
    (r) =>
      rawScores(model.trees, model.base, [
        none,
        recordBits(saved, pool.columns, pool.matrix.subarray(r * c, (r + 1) * c)),
      ])[0] ?? 0,
  );
  return {
    summary: { model: 'trees', epochs: model.trees.length, features: matrix.columns, splits: records.length },
    model: {
      family: 'trees',
      objective: 'logistic',
      outputs: 1,
      featureNames: matrix.columnNames,
      preprocess: matrix.spec,
      treeParties: ['(guest)', '(this host)'],
      ...model,
      records: saved,
    },
    poolScores,
  };
}
