/**
 * The party's data for a job: load the configured dataset, and after
 * alignment, fit preprocessing on the training rows and build the feature
 * matrix of the aligned rows. The only place the job code touches the data
 * loader, so the protocol stays independent of file formats.
 */
import type { DatasetConfig } from '../../party/config.ts';
import { describeInference, loadDataset, type Dataset } from '../../data/dataset.ts';
import { configProblem, dataProblem } from '../../data/job-fit.ts';
import { ConfigError, DataError } from '../../protocol/errors.ts';
import type { JobSpec } from '../../protocol/job-spec.ts';
import type { Logger } from '../../runtime/logger.ts';
import {
  fitAndTransformAsync,
  fitPreprocess,
  transformRows,
  type PreprocessOptions,
  type PreprocessSpec,
} from '../../data/preprocess.ts';

export type { Dataset } from '../../data/dataset.ts';
export type { PreprocessSpec } from '../../data/preprocess.ts';

export type PartyMatrix = {
  /** Preprocessed features of the aligned rows, row-major. */
  readonly X: Float64Array;
  readonly columns: number;
  readonly columnNames: readonly string[];
  readonly spec: PreprocessSpec;
};

/** Which job, role and node a dataset is loaded for: it is checked as `party-check --job` checks it (data/job-fit.ts). */
export type DatasetUse = {
  readonly spec: JobSpec;
  readonly role: 'guest' | 'host';
  readonly node: string;
  readonly configFile: string;
  readonly log: Logger;
};

/**
 * Loads the dataset for a job: refuses, before reading, a dataset the job's
 * kind cannot use (the same answer `party-check --job` gives), then after
 * reading a label the kind cannot train on, and logs what `features: all`
 * inferred.
 */
export async function loadJobDataset(config: DatasetConfig, use?: DatasetUse): Promise<Dataset> {
  if (use !== undefined) {
    const misfit = configProblem({ kind: use.spec.kind, dp: use.spec.dp !== undefined }, use.role, use.node, config);
    // Config names only (no paths, no data): the coordinator and the other parties may read why.
    if (misfit !== undefined)
      throw new ConfigError(
        'CONFIG_INVALID',
        { file: use.configFile, field: misfit.field, problem: misfit.problem, fix: misfit.fix },
        { publicMessage: `${misfit.field} ${misfit.problem}` },
      );
  }
  const data = await loadDataset(config);
  if (use !== undefined) {
    if (data.inferred !== undefined)
      use.log.info({ features: data.inferred.features.length }, describeInference(data.inferred));
    const misfit = dataProblem(use.spec.kind, use.role, config, data);
    if (misfit !== undefined)
      throw new DataError('DATA_LABEL_INVALID', {
        file: config.file,
        column: config.label?.column ?? '',
        problem: `${misfit.field} ${misfit.problem}`,
        fix: misfit.fix,
      });
  }
  return data;
}

/** Fits on the training rows (given as dataset row numbers) and transforms the aligned rows. */
export function buildMatrix(
  dataset: Dataset,
  config: DatasetConfig,
  alignedRows: Uint32Array,
  trainRows: Uint32Array,
  options: PreprocessOptions = {},
): PartyMatrix {
  const spec = fitPreprocess(dataset, trainRows, config.missing, options);
  const { matrix, columns } = transformRows(spec, dataset, alignedRows);
  return { X: matrix, columns: columns.length, columnNames: columns, spec };
}

/** {@link buildMatrix} (same matrix), yielding to the event loop between columns so a node keeps answering its peers at 1M rows. */
export async function buildMatrixAsync(
  dataset: Dataset,
  config: DatasetConfig,
  alignedRows: Uint32Array,
  trainRows: Uint32Array,
  options: PreprocessOptions = {},
): Promise<PartyMatrix> {
  const { spec, matrix, columns } = await fitAndTransformAsync(
    dataset,
    trainRows,
    config.missing,
    alignedRows,
    options,
  );
  return { X: matrix, columns: columns.length, columnNames: columns, spec };
}
