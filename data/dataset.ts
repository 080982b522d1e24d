/**
 * Loads a configured dataset into typed arrays: ids, a row-major matrix of
 * raw feature values, and labels as class indices (or values, for a
 * continuous label). Every row is checked as it streams past, so a bad value
 * is reported with its line and column instead of surfacing later as a NaN
 * in training; bad cells are collected to the end of the file so one report
 * names every column with the same problem. Arrays grow by doubling, which
 * keeps per-row overhead to the values themselves at 1M × 100.
 *
 * `features: all` types each column from its values (column-profile.ts): the
 * file is read once as all-numeric, and only when some column turned out to
 * hold text is it read a second time with those columns categorical.
 */
import { DataError } from '../protocol/errors.ts';
import type { DatasetConfig, FeatureConfig, LabelConfig } from '../party/config.ts';
import { CellProblems } from './cell-problems.ts';
import { numericCellParser, categoricalCell } from './cells.ts';
import { inferFeatureType, isNonFiniteNumber, MAX_INFERRED_LEVELS } from './column-profile.ts';
import { openCsv, type CsvRow } from './csv-reader.ts';
import { openDuckDbQuery } from './duckdb-source.ts';
import { LabelCoder } from './labels.ts';

export { numericCellParser, categoricalCell } from './cells.ts';

export type ColumnInfo =
  | { readonly name: string; readonly kind: 'numeric' }
  /** `codes[row]` indexes `categories`; -1 marks a missing value. */
  | {
      readonly name: string;
      readonly kind: 'categorical';
      readonly categories: readonly string[];
      readonly codes: Int32Array;
    };

export type Dataset = {
  /** Where the rows came from, for error messages. */
  readonly file: string;
  readonly rowCount: number;
  readonly ids: readonly string[];
  /** The file line of each row, for error messages after loading. */
  readonly lines: Uint32Array;
  /**
   * rowCount × columns.length, row-major. Numeric columns hold the raw value;
   * categorical ones hold the category code. NaN marks a missing value.
   */
  readonly features: Float64Array;
  readonly columns: readonly ColumnInfo[];
  /** Class index per row: binary 0 = negative, 1 = positive. Undefined for a continuous label. */
  readonly labels?: Int32Array;
  /** Class index → label value; binary: [negative, positive]. */
  readonly labelClasses?: readonly string[];
  /** A continuous label's value per row. */
  readonly targets?: Float64Array;
  /** Rows dropped by `duplicateIds: keep-first`. */
  readonly droppedDuplicates: number;
  /** With `features: all`: the type each column was given. */
  readonly inferred?: InferredFeatures;
};

/** What `features: all` made of the columns, for the node's log and `party-check`. */
export type InferredFeatures = {
  readonly features: readonly FeatureConfig[];
  /** Columns worth a look before training: constant, or mostly missing. Names and counts only, never values. */
  readonly notes: readonly string[];
};

/** One sentence for the node's log and `party-check`: which columns `features: all` read as categories, and what to look at. Names only, never values. */
export function describeInference(inferred: InferredFeatures): string {
  const categorical = inferred.features.filter((f) => f.type === 'categorical').map((f) => f.name);
  const read =
    categorical.length === 0
      ? 'every column as numeric'
      : `${categorical.join(', ')} as categorical, the rest as numeric`;
  return `features: all read ${read}${inferred.notes.length === 0 ? '' : `; look at ${inferred.notes.join('; ')}`}.`;
}

/** Rows from any source that can be read again (a CSV file today, a SQL query result tomorrow). */
export type RowSource = {
  readonly header: readonly string[];
  readonly rows: AsyncIterable<CsvRow>;
  /** Names the rows' origin in errors. */
  readonly name: string;
  close(): Promise<void>;
};

/** Reads the dataset's CSV file or DuckDB source. @throws DataError naming the file, line (row) and column of the first problem, and every column with the same problem. */
export async function loadDataset(config: DatasetConfig): Promise<Dataset> {
  const source = config.source;
  if (source?.kind === 'duckdb')
    return datasetFromRows(config, () =>
      openDuckDbQuery({ sql: source.sql, searchPath: source.searchPath, name: config.file }),
    );
  return datasetFromRows(config, async () => {
    const csv = await openCsv(config.file, { delimiter: config.delimiter, pathField: `datasets.${config.name}.file` });
    return { header: csv.header, rows: csv, name: csv.file, close: () => csv.close() };
  });
}

/**
 * Builds a dataset from a source of text rows; `open` is called a second
 * time only when `features: all` finds text columns.
 */
export async function datasetFromRows(config: DatasetConfig, open: () => Promise<RowSource>): Promise<Dataset> {
  const first = await readRows(config, open, undefined);
  if (!('reread' in first)) return config.features === 'all' ? { ...first, inferred: inferenceOf(first) } : first;
  const second = await readRows(config, open, first.reread);
  if ('reread' in second) throw new RangeError('a second read asked for a third');
  return { ...second, inferred: inferenceOf(second) };
}

/** Text met in a column read as numeric under `features: all`. */
type TextCells = { count: number; line: number; value: string; readonly levels: Set<string> };

async function readRows(
  config: DatasetConfig,
  open: () => Promise<RowSource>,
  inferred: readonly FeatureConfig[] | undefined,
): Promise<Dataset | { reread: FeatureConfig[] }> {
  const source = await open();
  try {
    return await readSource(config, source, inferred);
  } finally {
    await source.close();
  }
}

async function readSource(
  config: DatasetConfig,
  from: RowSource,
  inferred: readonly FeatureConfig[] | undefined,
): Promise<Dataset | { reread: FeatureConfig[] }> {
  const { header, name: source } = from;
  const plan = planColumns(config, header, source, inferred);
  const d = plan.features.length;
  // The first read of `features: all`: every column numeric until its text says otherwise.
  const lenient = config.features === 'all' && inferred === undefined;
  const tokens = new Set(config.missing.tokens);
  const parseNumeric = numericCellParser(tokens);
  const rejectMissing = config.missing.policy === 'error';
  const labels =
    plan.label === undefined ? undefined : new LabelCoder(plan.label, source, `datasets.${config.name}.label`);
  const categories = plan.features.map((f) => (f.type === 'categorical' ? new Map<string, number>() : undefined));
  const texts: (TextCells | undefined)[] = new Array<TextCells | undefined>(d);
  const problems = new CellProblems();
  const context = { source, dataset: config.name, inferred: config.features === 'all', maxLevels: MAX_INFERRED_LEVELS };
  const seen = plan.id === undefined ? undefined : new Map<string, number>();
  const ids: string[] = [];
  let capacity = 1024;
  let features = new Float64Array(capacity * d);
  let lines = new Uint32Array(capacity);
  let labelCodes =
    labels === undefined ? undefined : labels.continuous ? new Float64Array(capacity) : new Int32Array(capacity);
  let n = 0;
  let rowNumber = 0;
  let dropped = 0;

  try {
    for await (const row of from.rows) {
      rowNumber++;
      const id = plan.id === undefined ? String(rowNumber) : (row.fields[plan.id] ?? '').trim();
      if (id === '') {
        throw new DataError('DATA_ID_MISSING', {
          file: source,
          line: row.line,
          column: header[plan.id ?? 0] ?? '',
          problem: 'the id is empty',
          fix: 'give every row an id, or remove rows without one',
        });
      }
      if (seen !== undefined) {
        const first = seen.get(id);
        if (first !== undefined) {
          if (config.duplicateIds === 'keep-first') {
            dropped++;
            continue;
          }
          throw new DataError('DATA_ID_DUPLICATE', {
            file: source,
            line: row.line,
            column: header[plan.id ?? 0] ?? '',
            problem: `repeats the id already used on line ${first} (id ${JSON.stringify(id.length > 40 ? `${id.slice(0, 37)}...` : id)})`,
            fix: 'remove or merge the duplicate rows, or set duplicateIds: keep-first to keep only the first',
          });
        }
        seen.set(id, row.line);
      }
      if (n === capacity) {
        capacity *= 2;
        features = grow(features, capacity * d);
        lines = grow(lines, capacity);
        if (labelCodes !== undefined) labelCodes = grow(labelCodes, capacity);
      }
      const base = n * d;
      for (let j = 0; j < d; j++) {
        const raw = row.fields[plan.indices[j] ?? 0] ?? '';
        const map = categories[j];
        let value: number;
        if (map === undefined) {
          const parsed = parseNumeric(raw);
          if (parsed === undefined) {
            value = NaN;
            const column = plan.features[j]?.name ?? '';
            if (isNonFiniteNumber(raw)) problems.add('non-finite', column, row.line, raw);
            else if (lenient) noteText(texts, j, raw.trim(), row.line);
            else problems.add('text', column, row.line, raw);
          } else {
            value = parsed;
            if (rejectMissing && Number.isNaN(value))
              problems.add('missing', plan.features[j]?.name ?? '', row.line, raw);
          }
        } else {
          const category = categoricalCell(raw, tokens);
          if (category === undefined) {
            value = NaN;
            if (rejectMissing) problems.add('missing', plan.features[j]?.name ?? '', row.line, raw);
          } else {
            let code = map.get(category);
            if (code === undefined) {
              code = map.size;
              map.set(category, code);
            }
            value = code;
          }
        }
        features[base + j] = value;
      }
      if (labelCodes !== undefined && labels !== undefined && plan.labelIndex !== undefined) {
        labelCodes[n] = labels.code((row.fields[plan.labelIndex] ?? '').trim(), row.line);
      }
      ids.push(id);
      lines[n] = row.line;
      n++;
    }
  } catch (error) {
    // Bad cells noted so far come earlier in the file than this failure: report them first.
    throw problems.error(context) ?? error;
  }

  if (n === 0) {
    throw new DataError('DATA_MALFORMED', {
      file: source,
      problem: `has a header row but no data rows (dataset "${config.name}")`,
      fix: `add data rows below the header, or point datasets.${config.name}.file at the complete export`,
    });
  }
  const matrix = features.length === n * d ? features : features.slice(0, n * d);
  const reread = lenient ? typeColumns(plan.features, texts, matrix, n, problems) : undefined;
  const problem = problems.error(context);
  if (problem !== undefined) throw problem;
  const finished =
    labels === undefined || labelCodes === undefined ? undefined : labels.finish(labelCodes.subarray(0, n));
  if (reread !== undefined) return { reread };
  const columns = plan.features.map((f, j): ColumnInfo => {
    const map = categories[j];
    if (map === undefined) return { name: f.name, kind: 'numeric' };
    const codes = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      const v = matrix[i * d + j] ?? NaN;
      codes[i] = Number.isNaN(v) ? -1 : v;
    }
    return { name: f.name, kind: 'categorical', categories: [...map.keys()], codes };
  });
  const dataset = {
    file: source,
    rowCount: n,
    ids,
    lines: lines.slice(0, n),
    features: matrix,
    columns,
    droppedDuplicates: dropped,
  };
  if (finished === undefined) return dataset;
  if (finished.codes instanceof Float64Array) return { ...dataset, targets: finished.codes };
  return { ...dataset, labels: finished.codes, labelClasses: finished.classes };
}

function noteText(texts: (TextCells | undefined)[], j: number, value: string, line: number): void {
  const seen = texts[j];
  if (seen === undefined) {
    texts[j] = { count: 1, line, value, levels: new Set([value]) };
    return;
  }
  seen.count++;
  if (seen.levels.size <= MAX_INFERRED_LEVELS) seen.levels.add(value);
}

/**
 * After the all-numeric first read of `features: all`: the columns that held
 * text are categorical (and the file is read again), or, when numbers
 * outnumber the text, a problem to report; undefined when every column was numeric.
 */
function typeColumns(
  features: readonly FeatureConfig[],
  texts: readonly (TextCells | undefined)[],
  matrix: Float64Array,
  n: number,
  problems: CellProblems,
): FeatureConfig[] | undefined {
  const d = features.length;
  let categorical = false;
  const typed = features.map((f, j): FeatureConfig => {
    const text = texts[j];
    if (text === undefined) return f;
    let numbers = 0;
    for (let i = 0; i < n; i++) if (!Number.isNaN(matrix[i * d + j] ?? NaN)) numbers++;
    const type = inferFeatureType(numbers, text.count);
    if (type === 'mixed') problems.add('text', f.name, text.line, text.value, text.count);
    else if (text.levels.size > MAX_INFERRED_LEVELS) problems.add('levels', f.name, text.line, text.value);
    categorical = true;
    return { name: f.name, type: 'categorical' };
  });
  return categorical ? typed : undefined;
}

/** The types `features: all` gave, and the columns worth a look: constant or mostly missing. */
function inferenceOf(data: Dataset): InferredFeatures {
  const d = data.columns.length;
  const n = data.rowCount;
  const missing = new Float64Array(d);
  const min = new Float64Array(d).fill(Infinity);
  const max = new Float64Array(d).fill(-Infinity);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < d; j++) {
      const x = data.features[i * d + j] ?? NaN;
      if (Number.isNaN(x)) missing[j] = (missing[j] ?? 0) + 1;
      else {
        if (x < (min[j] ?? Infinity)) min[j] = x;
        if (x > (max[j] ?? -Infinity)) max[j] = x;
      }
    }
  }
  const notes: string[] = [];
  data.columns.forEach((c, j) => {
    const absent = missing[j] ?? 0;
    if (absent === n) notes.push(`${c.name}: every value is missing`);
    else if (min[j] === max[j])
      notes.push(`${c.name}: one value in every row${absent > 0 ? ' that has one' : ''} (constant)`);
    else if (absent >= n / 2) notes.push(`${c.name}: ${Math.round((100 * absent) / n)} % missing`);
  });
  return { features: data.columns.map((c) => ({ name: c.name, type: c.kind })), notes };
}

type Plan = {
  readonly id: number | undefined;
  readonly labelIndex: number | undefined;
  readonly label: LabelConfig | undefined;
  readonly features: readonly FeatureConfig[];
  readonly indices: Int32Array;
};

/** @param inferred - with `features: all`, the types found by the first read. */
function planColumns(
  config: DatasetConfig,
  header: readonly string[],
  source: string,
  inferred: readonly FeatureConfig[] | undefined,
): Plan {
  const position = new Map(header.map((name, i) => [name, i]));
  const idColumn = config.id.kind === 'column' ? config.id.column : undefined;
  const features =
    config.features === 'none'
      ? []
      : config.features === 'all'
        ? (inferred ??
          header
            .filter((h) => h !== idColumn && h !== config.label?.column)
            .map((name): FeatureConfig => ({ name, type: 'numeric' })))
        : config.features;
  // Each wanted column with the config field that names it, so the fix can point at the line to edit.
  const at = `datasets.${config.name}`;
  const wanted: [string, string][] = [];
  if (idColumn !== undefined) wanted.push([idColumn, `${at}.id`]);
  if (config.label !== undefined) wanted.push([config.label.column, `${at}.label.column`]);
  if (config.features !== 'all' && config.features !== 'none')
    config.features.forEach((f, i) => wanted.push([f.name, `${at}.features[${i}].name`]));
  const absent = wanted.filter(([c], i) => !position.has(c) && wanted.findIndex(([o]) => o === c) === i);
  if (absent.length > 0) {
    const available = header.length > 40 ? `${header.slice(0, 40).join(', ')}, …` : header.join(', ');
    const fields = absent.map(([, field]) => field).join(', ');
    // One header column that contains another common separator: the delimiter is wrong, not the names.
    const other =
      header.length === 1
        ? [';', '\t', '|', ','].find((c) => c !== config.delimiter && (header[0] ?? '').includes(c))
        : undefined;
    throw new DataError('DATA_COLUMN_MISSING', {
      file: source,
      line: 1,
      column: absent[0]?.[0] ?? '',
      problem: `the header has no column${absent.length > 1 ? 's' : ''} ${absent.map(([c]) => JSON.stringify(c)).join(', ')} (dataset "${config.name}")`,
      fix:
        other !== undefined
          ? `the header reads as one column, so the file is probably separated by ${JSON.stringify(other)}: set ${at}.delimiter: ${JSON.stringify(other)} in the party config`
          : `use column names from the header: ${available} (edit ${fields} in the party config, or rename the column in the file)`,
    });
  }
  if (features.length === 0 && config.features !== 'none') {
    throw new DataError('DATA_COLUMN_MISSING', {
      file: source,
      line: 1,
      problem: `has no feature columns besides the id and the label (dataset "${config.name}")`,
      fix: `add feature columns to the file, check ${at}.id and ${at}.label.column, or write ${at}.features: none for an id list (a lookalike seed list)`,
    });
  }
  return {
    id: idColumn === undefined ? undefined : position.get(idColumn),
    labelIndex: config.label === undefined ? undefined : position.get(config.label.column),
    label: config.label,
    features,
    indices: Int32Array.from(features, (f) => position.get(f.name) ?? -1),
  };
}

function grow<T extends Float64Array | Uint32Array | Int32Array>(array: T, length: number): T {
  const next = new (array.constructor as new (n: number) => T)(length);
  next.set(array);
  return next;
}
