/**
 * A dataset's schema as the console shows it: rows, every column of the
 * file with what the node config makes of it (id, label, feature, unused),
 * its type, missing cells and a few aggregates. The dataset is loaded
 * exactly as a job loads it (data/dataset.ts), so every check a job
 * would run runs here, and a bad file shows the same error it would give
 * the job. `inspectDataset` is the one function that computes it, so a
 * shared schema inference (`tandem data inspect`) can replace its body.
 *
 * Only this node's operator sees it: the numbers describe the node's own
 * file, and min / max are single rows' values, which never leave the node.
 */
import { stat } from 'node:fs/promises';
import type { DatasetConfig } from '../party/config.ts';
import { loadDataset, type Dataset } from '../data/dataset.ts';
import { openCsv } from '../data/csv-reader.ts';

export type ColumnSchema = {
  readonly name: string;
  /** What the dataset config makes of the column. */
  readonly role: 'id' | 'label' | 'feature' | 'unused';
  /** How a job reads it; `text` for ids and unused columns. */
  readonly type: 'numeric' | 'categorical' | 'label' | 'text';
  /** Empty or missing-token cells; null for columns a job does not read. */
  readonly missing: number | null;
  /** Categories of a categorical column, classes of the label. */
  readonly distinct: number | null;
  readonly min: number | null;
  readonly max: number | null;
  readonly mean: number | null;
};

export type DatasetSchema = {
  readonly name: string;
  readonly file: string;
  readonly bytes: number;
  readonly rows: number;
  readonly droppedDuplicates: number;
  readonly ids: string;
  readonly columns: readonly ColumnSchema[];
  /** Rows per class, in class order; null without a label. */
  readonly labels: readonly { readonly value: string; readonly rows: number }[] | null;
};

/**
 * Loads a dataset as a job would, and describes it.
 * @throws DataError or ConfigError exactly as the job's loading would
 */
export async function inspectDataset(config: DatasetConfig): Promise<DatasetSchema> {
  const bytes = (await stat(config.file).catch(() => undefined))?.size ?? 0;
  const data: Dataset = await loadDataset(config);
  // Only the header: the rows were read by the loader above, as a job reads them.
  const csv = await openCsv(config.file, { delimiter: config.delimiter, pathField: `datasets.${config.name}.file` });
  await csv.close();
  const features = new Map(data.columns.map((c, j) => [c.name, describeFeature(data, j)]));
  const idColumn = config.id.kind === 'column' ? config.id.column : undefined;
  const columns = csv.header.map((name): ColumnSchema => {
    const feature = features.get(name);
    if (feature !== undefined) return feature;
    if (name === idColumn)
      return { name, role: 'id', type: 'text', missing: 0, distinct: data.rowCount, min: null, max: null, mean: null };
    if (name === config.label?.column)
      return {
        name,
        role: 'label',
        type: 'label',
        missing: 0,
        distinct: data.labelClasses?.length ?? null,
        min: null,
        max: null,
        mean: null,
      };
    return { name, role: 'unused', type: 'text', missing: null, distinct: null, min: null, max: null, mean: null };
  });
  return {
    name: config.name,
    file: config.file,
    bytes,
    rows: data.rowCount,
    droppedDuplicates: data.droppedDuplicates,
    ids: idColumn === undefined ? 'row numbers' : `column "${idColumn}"`,
    columns,
    labels: labelCounts(data),
  };
}

function describeFeature(data: Dataset, j: number): ColumnSchema {
  const column = data.columns[j];
  const d = data.columns.length;
  let missing = 0;
  let min = Infinity;
  let max = -Infinity;
  let sum = 0;
  for (let i = 0; i < data.rowCount; i++) {
    const v = data.features[i * d + j] ?? Number.NaN;
    if (Number.isNaN(v)) {
      missing++;
      continue;
    }
    if (v < min) min = v;
    if (v > max) max = v;
    sum += v;
  }
  const name = column?.name ?? `column ${j}`;
  if (column?.kind === 'categorical')
    return {
      name,
      role: 'feature',
      type: 'categorical',
      missing,
      distinct: column.categories.length,
      min: null,
      max: null,
      mean: null,
    };
  const present = data.rowCount - missing;
  return {
    name,
    role: 'feature',
    type: 'numeric',
    missing,
    distinct: null,
    min: present > 0 ? min : null,
    max: present > 0 ? max : null,
    mean: present > 0 ? sum / present : null,
  };
}

function labelCounts(data: Dataset): DatasetSchema['labels'] {
  if (data.labels === undefined || data.labelClasses === undefined) return null;
  const counts = new Array<number>(data.labelClasses.length).fill(0);
  for (const c of data.labels) counts[c] = (counts[c] ?? 0) + 1;
  return data.labelClasses.map((value, k) => ({ value, rows: counts[k] ?? 0 }));
}
