/**
 * Loads a configured dataset into typed arrays: ids, a row-major matrix of
 * raw feature values, and labels as class indices. Every row is checked as
 * it streams past, so a bad value is reported with its line and column
 * instead of surfacing later as a NaN in training. Arrays grow by doubling,
 * which keeps per-row overhead to the values themselves at 1M × 100.
 */
import { DataError } from '../../protocol/errors.ts';
import type { DatasetConfig, FeatureConfig, LabelConfig } from '../config.ts';
import { openCsv, type CsvRow } from './csv-reader.ts';

export type ColumnInfo =
  | { readonly name: string; readonly kind: 'numeric' }
  /** `codes[row]` indexes `categories`; -1 marks a missing value. */
  | { readonly name: string; readonly kind: 'categorical'; readonly categories: readonly string[]; readonly codes: Int32Array };

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
  /** Class index per row: binary 0 = negative, 1 = positive. */
  readonly labels?: Int32Array;
  /** Class index → label value; binary: [negative, positive]. */
  readonly labelClasses?: readonly string[];
  /** Rows dropped by `duplicateIds: keep-first`. */
  readonly droppedDuplicates: number;
};

/** Reads the dataset's CSV file. @throws DataError naming the file, line and column of the first problem. */
export async function loadDataset(config: DatasetConfig): Promise<Dataset> {
  const csv = await openCsv(config.file, { delimiter: config.delimiter, pathField: `datasets.${config.name}.file` });
  try {
    return await datasetFromRows(config, csv.header, csv, csv.file);
  } finally {
    await csv.close();
  }
}

/**
 * Builds a dataset from any source of text rows (a CSV file today, a SQL
 * query result tomorrow).
 *
 * @param source - names the rows' origin in errors.
 */
export async function datasetFromRows(config: DatasetConfig, header: readonly string[], rows: AsyncIterable<CsvRow>, source: string): Promise<Dataset> {
  const plan = planColumns(config, header, source);
  const d = plan.features.length;
  const tokens = new Set(config.missing.tokens);
  const parseNumeric = numericCellParser(tokens);
  const rejectMissing = config.missing.policy === 'error';
  const labels = plan.label === undefined ? undefined : new LabelCoder(plan.label, source, `datasets.${config.name}.label`);
  const categories = plan.features.map((f) => (f.type === 'categorical' ? new Map<string, number>() : undefined));
  const seen = plan.id === undefined ? undefined : new Map<string, number>();
  const ids: string[] = [];
  let capacity = 1024;
  let features = new Float64Array(capacity * d);
  let lines = new Uint32Array(capacity);
  let labelCodes = labels === undefined ? undefined : new Int32Array(capacity);
  let n = 0;
  let rowNumber = 0;
  let dropped = 0;

  for await (const row of rows) {
    rowNumber++;
    const id = plan.id === undefined ? String(rowNumber) : (row.fields[plan.id] ?? '').trim();
    if (id === '') {
      throw new DataError('DATA_ID_MISSING', { file: source, line: row.line, column: header[plan.id ?? 0] ?? '', problem: 'the id is empty', fix: 'give every row an id, or remove rows without one' });
    }
    if (seen !== undefined) {
      const first = seen.get(id);
      if (first !== undefined) {
        if (config.duplicateIds === 'keep-first') {
          dropped++;
          continue;
        }
        throw new DataError('DATA_ID_DUPLICATE', { file: source, line: row.line, column: header[plan.id ?? 0] ?? '', problem: `repeats the id already used on line ${first} (id ${JSON.stringify(id.length > 40 ? `${id.slice(0, 37)}...` : id)})`, fix: 'remove or merge the duplicate rows, or set duplicateIds: keep-first to keep only the first' });
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
        if (parsed === undefined) throw notNumeric(source, row.line, plan.features[j]?.name ?? '', raw, config.features === 'all');
        value = parsed;
      } else {
        const category = categoricalCell(raw, tokens);
        if (category === undefined) {
          value = NaN;
        } else {
          let code = map.get(category);
          if (code === undefined) {
            code = map.size;
            map.set(category, code);
          }
          value = code;
        }
      }
      if (rejectMissing && Number.isNaN(value)) {
        throw new DataError('DATA_VALUE_INVALID', { file: source, line: row.line, column: plan.features[j]?.name ?? '', problem: 'the value is missing and missing.policy is error', fix: `fill in the value, or set datasets.${config.name}.missing.policy to mean, zero or indicator` });
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

  if (n === 0) {
    throw new DataError('DATA_MALFORMED', { file: source, problem: `has a header row but no data rows (dataset "${config.name}")`, fix: `add data rows below the header, or point datasets.${config.name}.file at the complete export` });
  }
  const matrix = features.length === n * d ? features : features.slice(0, n * d);
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
  const dataset = { file: source, rowCount: n, ids, lines: lines.slice(0, n), features: matrix, columns, droppedDuplicates: dropped };
  if (labels === undefined || labelCodes === undefined) return dataset;
  const { codes, classes } = labels.finish(labelCodes.subarray(0, n));
  return { ...dataset, labels: codes, labelClasses: classes };
}

/**
 * Makes the numeric cell parser the loader uses, so scoring parses exactly as
 * training did. It returns NaN for missing, `undefined` for not a number.
 */
export function numericCellParser(missingTokens: Iterable<string>): (raw: string) => number | undefined {
  const tokens = new Set(missingTokens);
  const blankIsMissing = [...tokens].some((t) => t.trim() === '');
  // Checking every cell against the token set costs as much as parsing it; only
  // tokens that parse as numbers (like "-999") need checking before the parse.
  const numericTokens = [...tokens].some((t) => t.trim() !== '' && Number.isFinite(Number(t)));
  return (raw) => {
    if (numericTokens && tokens.has(raw)) return NaN;
    const value = Number(raw);
    if (Number.isFinite(value)) {
      // Number('  ') is 0: a blank cell is missing (if blanks count as missing), never zero.
      if (value === 0 && raw.trim() === '') return blankIsMissing ? NaN : undefined;
      return value;
    }
    return tokens.has(raw) || tokens.has(raw.trim()) ? NaN : undefined;
  };
}

/** A categorical cell, trimmed; `undefined` means missing. */
export function categoricalCell(raw: string, missingTokens: ReadonlySet<string>): string | undefined {
  const value = raw.trim();
  return missingTokens.has(raw) || missingTokens.has(value) ? undefined : value;
}

type Plan = { readonly id: number | undefined; readonly labelIndex: number | undefined; readonly label: LabelConfig | undefined; readonly features: readonly FeatureConfig[]; readonly indices: Int32Array };

function planColumns(config: DatasetConfig, header: readonly string[], source: string): Plan {
  const position = new Map(header.map((name, i) => [name, i]));
  const idColumn = config.id.kind === 'column' ? config.id.column : undefined;
  const features = config.features === 'none'
    ? []
    : config.features === 'all'
    ? header.filter((h) => h !== idColumn && h !== config.label?.column).map((name): FeatureConfig => ({ name, type: 'numeric' }))
    : config.features;
  // Each wanted column with the config field that names it, so the fix can point at the line to edit.
  const at = `datasets.${config.name}`;
  const wanted: [string, string][] = [];
  if (idColumn !== undefined) wanted.push([idColumn, `${at}.id`]);
  if (config.label !== undefined) wanted.push([config.label.column, `${at}.label.column`]);
  if (config.features !== 'all' && config.features !== 'none') config.features.forEach((f, i) => wanted.push([f.name, `${at}.features[${i}].name`]));
  const absent = wanted.filter(([c], i) => !position.has(c) && wanted.findIndex(([o]) => o === c) === i);
  if (absent.length > 0) {
    const available = header.length > 40 ? `${header.slice(0, 40).join(', ')}, …` : header.join(', ');
    const fields = absent.map(([, field]) => field).join(', ');
    // One header column that contains another common separator: the delimiter is wrong, not the names.
    const other = header.length === 1 ? [';', '\t', '|', ','].find((c) => c !== config.delimiter && (header[0] ?? '').includes(c)) : undefined;
    throw new DataError('DATA_COLUMN_MISSING', {
      file: source, line: 1, column: absent[0]?.[0] ?? '',
      problem: `the header has no column${absent.length > 1 ? 's' : ''} ${absent.map(([c]) => JSON.stringify(c)).join(', ')} (dataset "${config.name}")`,
      fix: other !== undefined
        ? `the header reads as one column, so the file is probably separated by ${JSON.stringify(other)}: set ${at}.delimiter: ${JSON.stringify(other)} in the party config`
        : `use column names from the header: ${available} (edit ${fields} in the party config, or rename the column in the file)`,
    });
  }
  if (features.length === 0 && config.features !== 'none') {
    throw new DataError('DATA_COLUMN_MISSING', { file: source, line: 1, problem: `has no feature columns besides the id and the label (dataset "${config.name}")`, fix: `add feature columns to the file, check ${at}.id and ${at}.label.column, or write ${at}.features: none for an id list (a lookalike seed list)` });
  }
  return {
    id: idColumn === undefined ? undefined : position.get(idColumn),
    labelIndex: config.label === undefined ? undefined : position.get(config.label.column),
    label: config.label,
    features,
    indices: Int32Array.from(features, (f) => position.get(f.name) ?? -1),
  };
}

function notNumeric(source: string, line: number, column: string, raw: string, all: boolean): DataError {
  const shown = JSON.stringify(raw.length > 40 ? `${raw.slice(0, 37)}...` : raw);
  const text = raw.trim();
  // Infinity, -Infinity, 1e999 and NaN parse (or overflow) but are no use to a model.
  if (Math.abs(Number(text)) === Infinity || /^[+-]?(inf(inity)?|nan)$/i.test(text)) {
    return new DataError('DATA_VALUE_INVALID', {
      file: source, line, column,
      problem: `${shown} is not a finite number`,
      fix: 'replace it with a finite value; if it marks a missing value, add it to missing.tokens in the dataset config',
    });
  }
  const categorical = all ? `list the features and declare this one { name: ${column}, type: categorical }` : `declare it { name: ${column}, type: categorical }`;
  return new DataError('DATA_VALUE_INVALID', {
    file: source, line, column,
    problem: `${shown} is not a number`,
    fix: `correct the value; if it marks a missing value, add it to missing.tokens; if the column holds categories, ${categorical}`,
  });
}

function grow<T extends Float64Array | Uint32Array | Int32Array>(array: T, length: number): T {
  const next = new (array.constructor as new (n: number) => T)(length);
  next.set(array);
  return next;
}

/** Maps label texts to class indices, checking each distinct text once. */
class LabelCoder {
  readonly #label: LabelConfig;
  readonly #source: string;
  readonly #field: string;
  readonly #known = new Map<string, number>();
  readonly #classes: string[];

  /** @param field - where the label is configured, e.g. `datasets.credit.label`. */
  constructor(label: LabelConfig, source: string, field = 'label') {
    this.#label = label;
    this.#source = source;
    this.#field = field;
    this.#classes = label.type === 'binary' ? [label.negative, label.positive] : [...(label.classes ?? [])];
  }

  code(raw: string, line: number): number {
    const known = this.#known.get(raw);
    if (known !== undefined) return known;
    const label = this.#label;
    if (raw === '') throw this.#invalid(line, 'the label is empty', 'give every row a label, or remove unlabelled rows');
    const numeric = Number(raw);
    const match = this.#classes.findIndex((c) => c === raw || (Number.isFinite(numeric) && c.trim() !== '' && Number(c) === numeric));
    let code = match;
    if (match === -1) {
      if (label.type === 'binary') throw this.#invalid(line, `${JSON.stringify(raw)} is neither the positive value "${label.positive}" nor the negative value "${label.negative}"`, `set ${this.#field}.positive and ${this.#field}.negative to the values this column uses, or correct the row`);
      if (label.classes !== undefined) throw this.#invalid(line, `${JSON.stringify(raw)} is not one of the classes ${label.classes.join(', ')}`, `add it to ${this.#field}.classes, or correct the row`);
      code = this.#classes.push(raw) - 1;
    }
    this.#known.set(raw, code);
    return code;
  }

  /** Unlisted multiclass labels get indices in sorted order (numeric when every class is a number). */
  finish(codes: Int32Array): { codes: Int32Array; classes: string[] } {
    if (this.#label.type === 'binary' || this.#label.classes !== undefined) return { codes: codes.slice(), classes: this.#classes };
    const numeric = this.#classes.every((c) => Number.isFinite(Number(c)));
    const sorted = [...this.#classes].sort(numeric ? (a, b) => Number(a) - Number(b) : undefined);
    const remap = Int32Array.from(this.#classes, (c) => sorted.indexOf(c));
    return { codes: codes.map((c) => remap[c] ?? c), classes: sorted };
  }

  #invalid(line: number, problem: string, fix: string): DataError {
    return new DataError('DATA_LABEL_INVALID', { file: this.#source, line, column: this.#label.column, problem, fix });
  }
}
