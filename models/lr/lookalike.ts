/**
 * Logistic regression in a lookalike job: the guest contributes only the
 * intercept (it has labels, no features); the host trains its weights on the
 * selected pool rows under CKKS exactly as in hetero-LR, then scores its
 * whole pool locally with them. Weights live at the host.
 */
import { CkksEncryptor, CkksSuite } from '../../protocol/he/ckks.ts';
import { lrModel } from '../../protocol/job-spec.ts';
import { partialLogits } from '../../protocol/training/plan.ts';
import { buildMatrix } from '../../jobs/common/features.ts';
import { transformRows } from '../../data/preprocess.ts';
import type { LookalikeModel, LookalikeRun } from '../family.ts';
import { trainGuest, trainHost } from './train.ts';

export async function trainLookalikeLr(run: LookalikeRun): Promise<LookalikeModel> {
  const { job, spec } = run;
  const suite = await CkksSuite.create(spec.ckks);
  const encryptor = new CkksEncryptor(suite, job.assignment.ckksPublicKey);
  const maxEpochs = spec.training.maxEpochs;
  const base = {
    channel: job.channel,
    spec,
    suite,
    encryptor,
    crypto: job.crypto,
    train: run.train,
    onEpoch: (epoch: number, loss: number | undefined) => run.onEpoch({ epoch, maxEpochs, loss }),
  };
  try {
    if (run.role === 'guest') {
      const part = await trainGuest(
        { ...base, X: new Float64Array(0), columns: 0 },
        run.labels ?? new Float64Array(run.rows.length),
      );
      return {
        summary: { epochs: part.epochs, losses: part.losses },
        model: { featureNames: [], weights: [], intercept: part.intercept, link: spec.training.link, rowClip: null },
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
      { bins: lrModel(spec).bins },
    );
    run.log.info({ features: matrix.columns }, 'lookalike host features built');
    const part = await trainHost({ ...base, X: matrix.X, columns: matrix.columns });
    // Score the whole pool here; the audience stays at the host.
    const all = Uint32Array.from({ length: dataset.rowCount }, (_, k) => k);
    const pool = transformRows(matrix.spec, dataset, all);
    const poolScores = partialLogits(pool.matrix, pool.columns.length, all, part.weights);
    return {
      summary: { epochs: part.epochs, features: matrix.columns },
      model: {
        featureNames: matrix.columnNames,
        weights: [...part.weights],
        intercept: 0,
        preprocess: matrix.spec,
        link: spec.training.link,
        rowClip: null,
      },
      poolScores,
    };
  } finally {
    encryptor.dispose();
    suite.dispose();
  }
}
