/**
 * The party's data for a job: load the configured dataset, and after
 * alignment, fit preprocessing on the training rows and build the feature
 * matrix of the aligned rows. The only place the job code touches the data
 * loader, so the protocol stays independent of file formats.
 */
import type { DatasetConfig } from '../../party/config.ts';
import { loadDataset, type Dataset } from '../../party/data/dataset.ts';
import { fitAndTransformAsync, fitPreprocess, transformRows, type PreprocessSpec } from '../../party/data/preprocess.ts';

export type { Dataset } from '../../party/data/dataset.ts';
export type { PreprocessSpec } from '../../party/data/preprocess.ts';

export type PartyMatrix = {
  /** Preprocessed features of the aligned rows, row-major. */
  readonly X: Float64Array;
  readonly columns: number;
  readonly columnNames: readonly string[];
  readonly spec: PreprocessSpec;
};

export async function loadJobDataset(config: DatasetConfig): Promise<Dataset> {
  return loadDataset(config);
}

/** Fits on the training rows (given as dataset row numbers) and transforms the aligned rows. */
export function buildMatrix(dataset: Dataset, config: DatasetConfig, alignedRows: Uint32Array, trainRows: Uint32Array): PartyMatrix {
  const spec = fitPreprocess(dataset, trainRows, config.missing);
  const { matrix, columns } = transformRows(spec, dataset, alignedRows);
  return { X: matrix, columns: columns.length, columnNames: columns, spec };
}

/** {@link buildMatrix} (same matrix), yielding to the event loop between columns so a node keeps answering its peers at 1M rows. */
export async function buildMatrixAsync(dataset: Dataset, config: DatasetConfig, alignedRows: Uint32Array, trainRows: Uint32Array): Promise<PartyMatrix> {
  const { spec, matrix, columns } = await fitAndTransformAsync(dataset, trainRows, config.missing, alignedRows);
  return { X: matrix, columns: columns.length, columnNames: columns, spec };
}
