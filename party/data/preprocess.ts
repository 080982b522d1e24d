/**
 * Local preprocessing: fitted on the training rows only (so held-out rows
 * stay unseen), then applied to any rows. Numeric columns are standardised,
 * categorical ones one-hot encoded, missing values handled by the declared
 * policy. The fitted spec is plain JSON, exported with the model, and
 * `transformRow` shares every arithmetic step with the batch transform so a
 * scoring endpoint reproduces training's numbers bit for bit.
 */
import { DataError } from '../../protocol/errors.ts';
import type { MissingConfig, MissingPolicy } from '../config.ts';
import { categoricalCell, numericCellParser, type Dataset } from './dataset.ts';

export type PreprocessColumn =
  | { readonly name: string; readonly kind: 'numeric'; readonly mean: number; readonly std: number; readonly indicator: boolean }
  /** `categories`: those seen in the fitted rows, sorted; anything else encodes as all zeros. */
  | { readonly name: string; readonly kind: 'categorical'; readonly categories: readonly string[]; readonly indicator: boolean };

/** A fitted preprocessing step: JSON-serialisable, exported with the model. */
export type PreprocessSpec = {
  readonly format: 'tandem-preprocess/1';
  readonly missingPolicy: MissingPolicy;
  readonly missingTokens: readonly string[];
  /** In input order; `indicator` is true when the fitted rows had missing values and the policy is `indicator`. */
  readonly columns: readonly PreprocessColumn[];
  /** Names of the output columns: `x0`, `channel=Web`, `x3__missing`. */
  readonly outputColumns: readonly string[];
  readonly fittedRows: number;
};

/** One scoring input: raw values by column name; `null`, absent or a missing token means missing. */
export type RawRow = Readonly<Record<string, string | number | boolean | null | undefined>>;

/**
 * Fits on `rows` (indices into the dataset).
 * @throws DataError DATA_VALUE_INVALID when the policy is `error` and a fitted row has a missing value.
 */
export function fitPreprocess(dataset: Dataset, rows: Uint32Array, missing: MissingConfig): PreprocessSpec {
  const d = dataset.columns.length;
  const columns = dataset.columns.map((info, j): PreprocessColumn => {
    let missingCount = 0;
    const firstMissing = (row: number): void => {
      if (missing.policy === 'error' && missingCount === 0) throw missingError(dataset.file, info.name, dataset.lines[row]);
      missingCount++;
    };
    if (info.kind === 'categorical') {
      const seen = new Uint8Array(info.categories.length);
      for (const row of rows) {
        const code = info.codes[row] ?? -1;
        if (code < 0) firstMissing(row);
        else seen[code] = 1;
      }
      const categories = info.categories.filter((_, code) => seen[code] === 1).sort();
      return { name: info.name, kind: 'categorical', categories, indicator: missing.policy === 'indicator' && missingCount > 0 };
    }
    let sum = 0;
    for (const row of rows) {
      const x = dataset.features[row * d + j] ?? NaN;
      if (Number.isNaN(x)) firstMissing(row);
      else sum += x;
    }
    const count = rows.length - missingCount;
    const mean = count === 0 ? 0 : sum / count;
    let squares = 0;
    for (const row of rows) {
      const x = dataset.features[row * d + j] ?? NaN;
      if (!Number.isNaN(x)) squares += (x - mean) * (x - mean);
    }
    const std = count === 0 ? 1 : Math.sqrt(squares / count);
    // A constant column's computed std is rounding noise, not 0; dividing by it would amplify that noise.
    const constant = !Number.isFinite(std) || std <= 1e-12 * Math.max(1, Math.abs(mean));
    return { name: info.name, kind: 'numeric', mean, std: constant ? 1 : std, indicator: missing.policy === 'indicator' && missingCount > 0 };
  });
  return {
    format: 'tandem-preprocess/1',
    missingPolicy: missing.policy,
    missingTokens: [...missing.tokens],
    columns,
    outputColumns: columns.flatMap(outputNames),
    fittedRows: rows.length,
  };
}

/**
 * Transforms dataset rows into a row-major rows.length × outputColumns.length matrix.
 * @throws DataError DATA_SCHEMA_MISMATCH when the dataset lacks a fitted column; DATA_VALUE_INVALID under policy `error`.
 */
export function transformRows(spec: PreprocessSpec, dataset: Dataset, rows: Uint32Array): { matrix: Float64Array; columns: readonly string[] } {
  const width = spec.outputColumns.length;
  const d = dataset.columns.length;
  const position = new Map(dataset.columns.map((c, j) => [c.name, j]));
  const matrix = new Float64Array(rows.length * width);
  let offset = 0;
  for (const col of spec.columns) {
    const j = position.get(col.name);
    const info = j === undefined ? undefined : dataset.columns[j];
    if (j === undefined || info === undefined || info.kind !== col.kind) {
      throw new DataError('DATA_SCHEMA_MISMATCH', {
        file: dataset.file, column: col.name,
        problem: info === undefined ? 'the model was fitted with this column but the data has none' : `the model treats this column as ${col.kind} but the data declares it ${info.kind}`,
        fix: 'configure the dataset with the same feature columns and types it was trained with',
      });
    }
    const width0 = blockWidth(col);
    if (col.kind === 'numeric') {
      for (let r = 0; r < rows.length; r++) {
        const row = rows[r] ?? 0;
        writeNumeric(col, spec.missingPolicy, dataset.features[row * d + j] ?? NaN, matrix, r * width + offset, () => missingError(dataset.file, col.name, dataset.lines[row]));
      }
    } else if (info.kind === 'categorical') {
      // Dataset codes → fitted category positions, once per column rather than once per row.
      const index = new Map(col.categories.map((c, k) => [c, k]));
      const remap = Int32Array.from(info.categories, (c) => index.get(c) ?? -1);
      for (let r = 0; r < rows.length; r++) {
        const row = rows[r] ?? 0;
        const code = info.codes[row] ?? -1;
        writeCategorical(col, spec.missingPolicy, code < 0 ? undefined : (remap[code] ?? -1), matrix, r * width + offset, () => missingError(dataset.file, col.name, dataset.lines[row]));
      }
    }
    offset += width0;
  }
  return { matrix, columns: spec.outputColumns };
}

/**
 * Transforms one row of raw values (as read from a CSV cell or a JSON request),
 * giving exactly the numbers `transformRows` gives for the same values.
 *
 * @param source - names the row's origin in errors. @default 'input row'
 * @throws DataError DATA_VALUE_INVALID for a non-numeric value in a numeric column, or a missing one under policy `error`.
 */
export function transformRow(spec: PreprocessSpec, values: RawRow, source = 'input row'): Float64Array {
  const { tokens, parseNumeric, indexes } = compiled(spec);
  const out = new Float64Array(spec.outputColumns.length);
  let offset = 0;
  spec.columns.forEach((col, c) => {
    const raw = values[col.name];
    const text = raw === null || raw === undefined ? undefined : typeof raw === 'string' ? raw : String(raw);
    const onMissing = (): DataError => missingError(source, col.name, undefined);
    if (col.kind === 'numeric') {
      const x = typeof raw === 'number' ? (Number.isNaN(raw) || Number.isFinite(raw) ? raw : undefined) : text === undefined ? NaN : parseNumeric(text);
      if (x === undefined) {
        throw new DataError('DATA_VALUE_INVALID', { file: source, column: col.name, problem: `${JSON.stringify(text)} is not a number`, fix: 'send a number, or a missing-value token' });
      }
      writeNumeric(col, spec.missingPolicy, x, out, offset, onMissing);
    } else {
      const category = text === undefined ? undefined : categoricalCell(text, tokens);
      writeCategorical(col, spec.missingPolicy, category === undefined ? undefined : (indexes[c]?.get(category) ?? -1), out, offset, onMissing);
    }
    offset += blockWidth(col);
  });
  return out;
}

function writeNumeric(col: Extract<PreprocessColumn, { kind: 'numeric' }>, policy: MissingPolicy, x: number, out: Float64Array, at: number, onMissing: () => DataError): void {
  if (!Number.isNaN(x)) {
    out[at] = (x - col.mean) / col.std;
    return;
  }
  if (policy === 'error') throw onMissing();
  // mean imputation is 0 once standardised; zero imputes a raw 0, then standardises it.
  out[at] = policy === 'zero' ? (0 - col.mean) / col.std : 0;
  if (col.indicator) out[at + 1] = 1;
}

/** `position`: index among the fitted categories, -1 when unseen, `undefined` when missing. */
function writeCategorical(col: Extract<PreprocessColumn, { kind: 'categorical' }>, policy: MissingPolicy, position: number | undefined, out: Float64Array, at: number, onMissing: () => DataError): void {
  if (position === undefined) {
    if (policy === 'error') throw onMissing();
    if (col.indicator) out[at + col.categories.length] = 1;
    return;
  }
  if (position >= 0) out[at + position] = 1;
}

function outputNames(col: PreprocessColumn): string[] {
  const names = col.kind === 'numeric' ? [col.name] : col.categories.map((c) => `${col.name}=${c}`);
  return col.indicator ? [...names, `${col.name}__missing`] : names;
}

function blockWidth(col: PreprocessColumn): number {
  return (col.kind === 'numeric' ? 1 : col.categories.length) + (col.indicator ? 1 : 0);
}

function missingError(file: string, column: string, line: number | undefined): DataError {
  const where = line === undefined ? { file, column } : { file, column, line };
  return new DataError('DATA_VALUE_INVALID', { ...where, problem: 'the value is missing and missing.policy is error', fix: 'fill in the value, or set missing.policy to mean, zero or indicator' });
}

type Compiled = { readonly tokens: ReadonlySet<string>; readonly parseNumeric: (raw: string) => number | undefined; readonly indexes: readonly (ReadonlyMap<string, number> | undefined)[] };
const cache = new WeakMap<PreprocessSpec, Compiled>();

/** Lookup tables for `transformRow`, built once per spec: scoring calls it per request. */
function compiled(spec: PreprocessSpec): Compiled {
  let entry = cache.get(spec);
  if (entry === undefined) {
    entry = {
      tokens: new Set(spec.missingTokens),
      parseNumeric: numericCellParser(spec.missingTokens),
      indexes: spec.columns.map((col) => (col.kind === 'categorical' ? new Map(col.categories.map((c, k) => [c, k])) : undefined)),
    };
    cache.set(spec, entry);
  }
  return entry;
}
