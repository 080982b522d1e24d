/**
 * Local preprocessing: fitted on the training rows only (so held-out rows
 * stay unseen), then applied to any rows. Numeric columns are standardised,
 * categorical ones one-hot encoded, missing values handled by the declared
 * policy. The fitted spec is plain JSON, exported with the model, and
 * `transformRow` shares every arithmetic step with the batch transform so a
 * scoring endpoint reproduces training's numbers bit for bit.
 */
import { DataError } from '../protocol/errors.ts';
import type { MissingConfig, MissingPolicy } from '../party/config.ts';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { categoricalCell, numericCellParser, type ColumnInfo, type Dataset } from './dataset.ts';

export type PreprocessColumn =
  /**
   * Standardised, or — with `edges` (`model.bins` in an LR job) — one-hot
   * over quantile bins: bin k holds edges[k−1] < x ≤ edges[k] (a missing
   * value is imputed first, then binned).
   */
  | {
      readonly name: string;
      readonly kind: 'numeric';
      readonly mean: number;
      readonly std: number;
      readonly indicator: boolean;
      readonly edges?: readonly number[] | undefined;
    }
  /** `categories`: those seen in the fitted rows, sorted; anything else encodes as all zeros. */
  | {
      readonly name: string;
      readonly kind: 'categorical';
      readonly categories: readonly string[];
      readonly indicator: boolean;
    };

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

export type PreprocessOptions = {
  /** Quantile bins per numeric column (one-hot), instead of standardising. @default none */
  readonly bins?: number | undefined;
};

/**
 * Fits on `rows` (indices into the dataset).
 * @throws DataError DATA_VALUE_INVALID when the policy is `error` and a fitted row has a missing value.
 */
export function fitPreprocess(
  dataset: Dataset,
  rows: Uint32Array,
  missing: MissingConfig,
  options: PreprocessOptions = {},
): PreprocessSpec {
  const fit = new ColumnFit(dataset, rows, missing, options);
  fit.sums(0, rows.length);
  fit.squares(0, rows.length);
  return fit.spec();
}

/**
 * Transforms dataset rows into a row-major rows.length × outputColumns.length matrix.
 * @throws DataError DATA_SCHEMA_MISMATCH when the dataset lacks a fitted column; DATA_VALUE_INVALID under policy `error`.
 */
export function transformRows(
  spec: PreprocessSpec,
  dataset: Dataset,
  rows: Uint32Array,
): { matrix: Float64Array; columns: readonly string[] } {
  const transform = new RowTransform(spec, dataset, rows);
  transform.rows(0, rows.length);
  return { matrix: transform.finish(), columns: spec.outputColumns };
}

/** Rows per slice of {@link fitAndTransformAsync}: ≈ 1.6M cells, tens of ms. */
const SLICE_ROWS = 16_384;

/**
 * {@link fitPreprocess} then {@link transformRows} (the same numbers),
 * yielding to the event loop between slices of rows: at 500,000 rows × 100
 * columns they take seconds of CPU, which on a loaded machine would hold a
 * party's event loop past its gRPC keepalive.
 */
export async function fitAndTransformAsync(
  dataset: Dataset,
  fitRows: Uint32Array,
  missing: MissingConfig,
  rows: Uint32Array,
  options: PreprocessOptions = {},
): Promise<{ spec: PreprocessSpec; matrix: Float64Array; columns: readonly string[] }> {
  const fit = new ColumnFit(dataset, fitRows, missing, options);
  const sliced = async (count: number, step: (from: number, to: number) => void): Promise<void> => {
    for (let from = 0; from < count; from += SLICE_ROWS) {
      step(from, Math.min(count, from + SLICE_ROWS));
      await yieldToEventLoop();
    }
  };
  await sliced(fitRows.length, (a, b) => fit.sums(a, b));
  await sliced(fitRows.length, (a, b) => fit.squares(a, b));
  const spec = fit.spec();
  const transform = new RowTransform(spec, dataset, rows);
  await sliced(rows.length, (a, b) => transform.rows(a, b));
  return { spec, matrix: transform.finish(), columns: spec.outputColumns };
}

/**
 * Fitting in row-major passes over the dataset (reading a 1M × 100 matrix
 * column by column misses the cache on every value: 10× slower). Sums run
 * over the rows in the given order, so every column's mean and std are the
 * same numbers a column-by-column pass gives.
 */
class ColumnFit {
  readonly #dataset: Dataset;
  readonly #rows: Uint32Array;
  readonly #missing: MissingConfig;
  readonly #options: PreprocessOptions;
  readonly #numeric: Int32Array;
  readonly #sum: Float64Array;
  readonly #squares: Float64Array;
  readonly #missingCount: Float64Array;
  /** Per column, the first fitted row with a missing value, or -1. */
  readonly #firstMissing: Int32Array;

  constructor(dataset: Dataset, rows: Uint32Array, missing: MissingConfig, options: PreprocessOptions = {}) {
    const d = dataset.columns.length;
    this.#dataset = dataset;
    this.#rows = rows;
    this.#missing = missing;
    this.#options = options;
    this.#numeric = Int32Array.from(dataset.columns.flatMap((c, j) => (c.kind === 'numeric' ? [j] : [])));
    this.#sum = new Float64Array(d);
    this.#squares = new Float64Array(d);
    this.#missingCount = new Float64Array(d);
    this.#firstMissing = new Int32Array(d).fill(-1);
  }

  /** First pass over fitted rows [from, to): numeric sums and missing values. */
  sums(from: number, to: number): void {
    const { features, columns } = this.#dataset;
    const d = columns.length;
    for (let r = from; r < to; r++) {
      const row = this.#rows[r] ?? 0;
      for (const j of this.#numeric) {
        const x = features[row * d + j] ?? NaN;
        if (Number.isNaN(x)) this.#missed(j, row);
        else this.#sum[j] = (this.#sum[j] ?? 0) + x;
      }
    }
  }

  /** Second pass over fitted rows [from, to): squared deviations from the means. */
  squares(from: number, to: number): void {
    const { features, columns } = this.#dataset;
    const d = columns.length;
    const mean = Float64Array.from(columns, (_, j) => this.#mean(j));
    for (let r = from; r < to; r++) {
      const row = this.#rows[r] ?? 0;
      for (const j of this.#numeric) {
        const x = features[row * d + j] ?? NaN;
        if (!Number.isNaN(x)) this.#squares[j] = (this.#squares[j] ?? 0) + (x - (mean[j] ?? 0)) * (x - (mean[j] ?? 0));
      }
    }
  }

  /** The fitted spec; under policy `error`, the first column (in order) with a missing value fails at its first such row. */
  spec(): PreprocessSpec {
    const missing = this.#missing;
    const columns = this.#dataset.columns.map((info, j): PreprocessColumn => {
      if (info.kind === 'categorical') {
        const seen = new Uint8Array(info.categories.length);
        for (const row of this.#rows) {
          const code = info.codes[row] ?? -1;
          if (code < 0) this.#missed(j, row);
          else seen[code] = 1;
        }
        this.#failOnMissing(j);
        const categories = info.categories.filter((_, code) => seen[code] === 1).sort();
        return {
          name: info.name,
          kind: 'categorical',
          categories,
          indicator: missing.policy === 'indicator' && (this.#missingCount[j] ?? 0) > 0,
        };
      }
      this.#failOnMissing(j);
      const count = this.#rows.length - (this.#missingCount[j] ?? 0);
      const mean = this.#mean(j);
      const std = count === 0 ? 1 : Math.sqrt((this.#squares[j] ?? 0) / count);
      // A constant column's computed std is rounding noise, not 0; dividing by it would amplify that noise.
      const constant = !Number.isFinite(std) || std <= 1e-12 * Math.max(1, Math.abs(mean));
      const indicator = missing.policy === 'indicator' && (this.#missingCount[j] ?? 0) > 0;
      const bins = this.#options.bins;
      if (bins !== undefined && bins >= 2)
        return {
          name: info.name,
          kind: 'numeric',
          mean,
          std: constant ? 1 : std,
          indicator,
          edges: this.#edges(j, bins),
        };
      return { name: info.name, kind: 'numeric', mean, std: constant ? 1 : std, indicator };
    });
    return {
      format: 'tandem-preprocess/1',
      missingPolicy: missing.policy,
      missingTokens: [...missing.tokens],
      columns,
      outputColumns: columns.flatMap(outputNames),
      fittedRows: this.#rows.length,
    };
  }

  /**
   * Quantile cut points of column j over the fitted rows (a systematic
   * sample of at most 65,536 values, so fitting stays O(n)): at most bins−1
   * distinct edges below the largest value, so no bin is empty on the fit.
   */
  #edges(j: number, bins: number): number[] {
    const { features, columns } = this.#dataset;
    const d = columns.length;
    const stride = Math.max(1, Math.floor(this.#rows.length / 65_536));
    const values: number[] = [];
    for (let r = 0; r < this.#rows.length; r += stride) {
      const x = features[(this.#rows[r] ?? 0) * d + j] ?? NaN;
      if (!Number.isNaN(x)) values.push(x);
    }
    values.sort((a, b) => a - b);
    const max = values.at(-1) ?? 0;
    const edges: number[] = [];
    for (let k = 1; k < bins; k++) {
      const edge = values[Math.min(values.length - 1, Math.floor((k * values.length) / bins))] ?? 0;
      if (edge < max && edge !== edges.at(-1)) edges.push(edge);
    }
    return edges;
  }

  #mean(j: number): number {
    const count = this.#rows.length - (this.#missingCount[j] ?? 0);
    return count === 0 ? 0 : (this.#sum[j] ?? 0) / count;
  }

  #missed(j: number, row: number): void {
    if (this.#firstMissing[j] === -1) this.#firstMissing[j] = row;
    this.#missingCount[j] = (this.#missingCount[j] ?? 0) + 1;
  }

  #failOnMissing(j: number): void {
    const row = this.#firstMissing[j] ?? -1;
    if (this.#missing.policy === 'error' && row >= 0)
      throw missingError(this.#dataset.file, this.#dataset.columns[j]?.name ?? '', this.#dataset.lines[row]);
  }
}

type Block =
  | { readonly col: Extract<PreprocessColumn, { kind: 'numeric' }>; readonly j: number; readonly at: number }
  | {
      readonly col: Extract<PreprocessColumn, { kind: 'categorical' }>;
      readonly codes: Int32Array;
      readonly remap: Int32Array;
      readonly at: number;
    };

/**
 * The transform row by row (row-major in and out, cache-friendly), through
 * the same `writeNumeric`/`writeCategorical` as `transformRow`. Under policy
 * `error` a missing value is reported for the first column (in order) that
 * has one, at its first such row, as a column-by-column pass would.
 */
class RowTransform {
  readonly #spec: PreprocessSpec;
  readonly #dataset: Dataset;
  readonly #rows: Uint32Array;
  readonly #blocks: readonly Block[];
  readonly #matrix: Float64Array;
  /** Under policy `error`: per block, the first row with a missing value, or -1. */
  readonly #firstMissing: Int32Array;

  constructor(spec: PreprocessSpec, dataset: Dataset, rows: Uint32Array) {
    this.#spec = spec;
    this.#dataset = dataset;
    this.#rows = rows;
    const position = new Map(dataset.columns.map((c, j) => [c.name, j]));
    let at = 0;
    this.#blocks = spec.columns.map((col): Block => {
      const j = position.get(col.name);
      const info = j === undefined ? undefined : dataset.columns[j];
      if (j === undefined || info === undefined || info.kind !== col.kind) {
        throw new DataError('DATA_SCHEMA_MISMATCH', {
          file: dataset.file,
          column: col.name,
          problem:
            info === undefined
              ? 'the model was fitted with this column but the data has none'
              : `the model treats this column as ${col.kind} but the data declares it ${info.kind}`,
          fix: 'configure the dataset with the same feature columns and types it was trained with',
        });
      }
      const blockAt = at;
      at += blockWidth(col);
      if (col.kind === 'numeric') return { col, j, at: blockAt };
      // Dataset codes → fitted category positions, once per column rather than once per row.
      const index = new Map(col.categories.map((c, k) => [c, k]));
      const categorical = info as Extract<ColumnInfo, { kind: 'categorical' }>;
      return {
        col,
        codes: categorical.codes,
        remap: Int32Array.from(categorical.categories, (c) => index.get(c) ?? -1),
        at: blockAt,
      };
    });
    this.#matrix = new Float64Array(rows.length * spec.outputColumns.length);
    this.#firstMissing = new Int32Array(this.#blocks.length).fill(-1);
  }

  /** Fills output rows [from, to). */
  rows(from: number, to: number): void {
    const { features, columns } = this.#dataset;
    const d = columns.length;
    const width = this.#spec.outputColumns.length;
    const policy = this.#spec.missingPolicy;
    const matrix = this.#matrix;
    const unreachable = (): DataError =>
      new DataError('DATA_VALUE_INVALID', {
        file: this.#dataset.file,
        problem: 'missing value under policy error',
        fix: 'report this as a bug',
      });
    for (let r = from; r < to; r++) {
      const row = this.#rows[r] ?? 0;
      for (let b = 0; b < this.#blocks.length; b++) {
        const block = this.#blocks[b] as Block;
        if ('j' in block) {
          const x = features[row * d + block.j] ?? NaN;
          if (policy === 'error' && Number.isNaN(x)) this.#missed(b, row);
          else writeNumeric(block.col, policy, x, matrix, r * width + block.at, unreachable);
        } else {
          const code = block.codes[row] ?? -1;
          if (policy === 'error' && code < 0) this.#missed(b, row);
          else
            writeCategorical(
              block.col,
              policy,
              code < 0 ? undefined : (block.remap[code] ?? -1),
              matrix,
              r * width + block.at,
              unreachable,
            );
        }
      }
    }
  }

  finish(): Float64Array {
    const b = this.#firstMissing.findIndex((row) => row >= 0);
    if (b >= 0)
      throw missingError(
        this.#dataset.file,
        this.#blocks[b]?.col.name ?? '',
        this.#dataset.lines[this.#firstMissing[b] ?? 0],
      );
    return this.#matrix;
  }

  #missed(b: number, row: number): void {
    if (this.#firstMissing[b] === -1) this.#firstMissing[b] = row;
  }
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
      const x =
        typeof raw === 'number'
          ? Number.isNaN(raw) || Number.isFinite(raw)
            ? raw
            : undefined
          : text === undefined
            ? NaN
            : parseNumeric(text);
      if (x === undefined) {
        throw new DataError('DATA_VALUE_INVALID', {
          file: source,
          column: col.name,
          problem: `${JSON.stringify(text)} is not a number`,
          fix: 'send a number, or a missing-value token',
        });
      }
      writeNumeric(col, spec.missingPolicy, x, out, offset, onMissing);
    } else {
      const category = text === undefined ? undefined : categoricalCell(text, tokens);
      writeCategorical(
        col,
        spec.missingPolicy,
        category === undefined ? undefined : (indexes[c]?.get(category) ?? -1),
        out,
        offset,
        onMissing,
      );
    }
    offset += blockWidth(col);
  });
  return out;
}

function writeNumeric(
  col: Extract<PreprocessColumn, { kind: 'numeric' }>,
  policy: MissingPolicy,
  x: number,
  out: Float64Array,
  at: number,
  onMissing: () => DataError,
): void {
  if (col.edges !== undefined) {
    if (Number.isNaN(x) && policy === 'error') throw onMissing();
    // A missing value is imputed (the mean, or a raw 0) and binned like any other.
    const v = Number.isNaN(x) ? (policy === 'zero' ? 0 : col.mean) : x;
    let bin = 0;
    while (bin < col.edges.length && v > (col.edges[bin] ?? Infinity)) bin++;
    out[at + bin] = 1;
    if (Number.isNaN(x) && col.indicator) out[at + col.edges.length + 1] = 1;
    return;
  }
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
function writeCategorical(
  col: Extract<PreprocessColumn, { kind: 'categorical' }>,
  policy: MissingPolicy,
  position: number | undefined,
  out: Float64Array,
  at: number,
  onMissing: () => DataError,
): void {
  if (position === undefined) {
    if (policy === 'error') throw onMissing();
    if (col.indicator) out[at + col.categories.length] = 1;
    return;
  }
  if (position >= 0) out[at + position] = 1;
}

function outputNames(col: PreprocessColumn): string[] {
  const names =
    col.kind === 'numeric'
      ? col.edges === undefined
        ? [col.name]
        : Array.from({ length: col.edges.length + 1 }, (_, k) =>
            k < (col.edges?.length ?? 0)
              ? `${col.name}<=${col.edges?.[k] ?? ''}`
              : `${col.name}>${col.edges?.at(-1) ?? '-inf'}`,
          )
      : col.categories.map((c) => `${col.name}=${c}`);
  return col.indicator ? [...names, `${col.name}__missing`] : names;
}

function blockWidth(col: PreprocessColumn): number {
  return (
    (col.kind === 'numeric' ? (col.edges === undefined ? 1 : col.edges.length + 1) : col.categories.length) +
    (col.indicator ? 1 : 0)
  );
}

function missingError(file: string, column: string, line: number | undefined): DataError {
  const where = line === undefined ? { file, column } : { file, column, line };
  return new DataError('DATA_VALUE_INVALID', {
    ...where,
    problem: 'the value is missing and missing.policy is error',
    fix: 'fill in the value, or set missing.policy to mean, zero or indicator',
  });
}

type Compiled = {
  readonly tokens: ReadonlySet<string>;
  readonly parseNumeric: (raw: string) => number | undefined;
  readonly indexes: readonly (ReadonlyMap<string, number> | undefined)[];
};
const cache = new WeakMap<PreprocessSpec, Compiled>();

/** Lookup tables for `transformRow`, built once per spec: scoring calls it per request. */
function compiled(spec: PreprocessSpec): Compiled {
  let entry = cache.get(spec);
  if (entry === undefined) {
    entry = {
      tokens: new Set(spec.missingTokens),
      parseNumeric: numericCellParser(spec.missingTokens),
      indexes: spec.columns.map((col) =>
        col.kind === 'categorical' ? new Map(col.categories.map((c, k) => [c, k])) : undefined,
      ),
    };
    cache.set(spec, entry);
  }
  return entry;
}
