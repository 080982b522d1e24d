/**
 * A party's part of a linear model as one SQL query (`tandem model export
 * --format sql`), so a partner scores a 100M-row pool inside its warehouse:
 * DuckDB on one machine, Spark SQL or BigQuery when the pool outgrows it.
 * The query reads a table of the party's users (one column per input
 * column, any types) and returns `id` and the partial logit(s), computed
 * exactly as `tandem model score-pool` does: the same missing-value tokens
 * and imputation, standardisation or quantile bins, one-hot categories
 * (unseen ones count as none), row clipping, weights and intercept. A row
 * that score-pool refuses (a value that is not a number, or a missing value
 * under the missing policy `error`) scores NULL: SQL cannot stop at a row,
 * and a silently imputed score would be a wrong one. One difference
 * remains, on the safe side: JavaScript reads `0x1A`, `0b1` and `0o7` as
 * numbers, the SQL casts do not, so such a row scores NULL in SQL.
 *
 * Shape: a CTE turns each row into the model's preprocessed columns
 * (`f0`, `f1`, …); the outer SELECT takes their weighted sum. Literals are
 * written with 17 significant digits, so the arithmetic is the float64
 * arithmetic of scoring up to the order of additions (≈ 1e-12).
 */
import type { PreprocessColumn, PreprocessSpec } from '../data/preprocess.ts';

export const SQL_DIALECTS = ['duckdb', 'spark', 'bigquery'] as const;
export type SqlDialect = (typeof SQL_DIALECTS)[number];

export type SqlModel = {
  readonly preprocess: PreprocessSpec;
  /** Class-major for K outputs: `weights[c·columns + j]`. */
  readonly weights: ArrayLike<number>;
  /** One per output (0 at a host). */
  readonly intercepts: ArrayLike<number>;
  readonly outputs: number;
  readonly rowClip: number | null;
};

export type SqlExportOptions = {
  readonly dialect: SqlDialect;
  /** The table (or view, or `read_parquet('…')` for DuckDB) holding the users. */
  readonly table: string;
  /** Its id column. @default 'id' */
  readonly idColumn?: string | undefined;
};

type Syntax = {
  readonly text: string;
  readonly double: string;
  readonly tryCast: (e: string, type: string) => string;
  readonly ident: (name: string) => string;
};

const SYNTAX: Readonly<Record<SqlDialect, Syntax>> = {
  duckdb: {
    text: 'VARCHAR',
    double: 'DOUBLE',
    tryCast: (e, t) => `TRY_CAST(${e} AS ${t})`,
    ident: (n) => `"${n.replaceAll('"', '""')}"`,
  },
  spark: {
    text: 'STRING',
    double: 'DOUBLE',
    tryCast: (e, t) => `TRY_CAST(${e} AS ${t})`,
    ident: (n) => `\`${n.replaceAll('`', '``')}\``,
  },
  bigquery: {
    text: 'STRING',
    double: 'FLOAT64',
    tryCast: (e, t) => `SAFE_CAST(${e} AS ${t})`,
    ident: (n) => `\`${n.replaceAll('`', '\\`')}\``,
  },
};

/** `name` as a quoted identifier of `dialect` (a column or table name with any characters). */
export function quoteIdentifier(dialect: SqlDialect, name: string): string {
  return SYNTAX[dialect].ident(name);
}

/** A float64 literal that reads back as the same double. */
function num(x: number): string {
  if (!Number.isFinite(x)) throw new RangeError(`cannot write ${x} as a SQL literal`);
  return x === 0
    ? '0.0'
    : x
        .toPrecision(17)
        .replace(/(\.\d*?)0+(e|$)/, '$1$2')
        .replace(/\.(e|$)/, '.0$1');
}

function str(s: string): string {
  return `'${s.replaceAll("'", "''")}'`;
}

/** One input column's output columns, in the model's order, and when (if ever) its value makes scoring refuse the row. */
function columnExpressions(
  col: PreprocessColumn,
  spec: PreprocessSpec,
  q: Syntax,
): { readonly out: string[]; readonly refuse: string | undefined } {
  const raw = q.ident(col.name);
  const text = `CAST(${raw} AS ${q.text})`;
  const tokens = spec.missingTokens.map(str).join(', ');
  const isToken = tokens === '' ? 'FALSE' : `(${text} IN (${tokens}) OR TRIM(${text}) IN (${tokens}))`;
  if (col.kind === 'categorical') {
    const value = `TRIM(${text})`;
    const missing = `(${raw} IS NULL OR ${isToken})`;
    const out = col.categories.map(
      (c) => `CASE WHEN ${missing} THEN 0.0 WHEN ${value} = ${str(c)} THEN 1.0 ELSE 0.0 END`,
    );
    if (col.indicator) out.push(`CASE WHEN ${missing} THEN 1.0 ELSE 0.0 END`);
    return { out, refuse: spec.missingPolicy === 'error' ? missing : undefined };
  }
  // A number as the scorer reads one (data/cells.ts): finite (no inf or NaN spelt out) and without digit separators.
  const cast = q.tryCast(`TRIM(${text})`, q.double);
  const parsed = `(CASE WHEN INSTR(${text}, '_') = 0 AND ABS(${cast}) <= ${num(Number.MAX_VALUE)} THEN ${cast} END)`;
  const missing = `(${raw} IS NULL OR ${isToken} OR ${parsed} IS NULL)`;
  // Not missing, yet not a number: scoring refuses the row (DATA_VALUE_INVALID).
  const invalid = `(${raw} IS NOT NULL AND NOT ${isToken} AND ${parsed} IS NULL)`;
  const imputed = spec.missingPolicy === 'zero' ? '0.0' : num(col.mean);
  const value = `(CASE WHEN ${missing} THEN ${imputed} ELSE ${parsed} END)`;
  const out: string[] = [];
  if (col.edges === undefined) {
    // Mean imputation is exactly 0 once standardised, as scoring writes it.
    out.push(
      spec.missingPolicy === 'zero'
        ? `((${value} - ${num(col.mean)}) / ${num(col.std)})`
        : `CASE WHEN ${missing} THEN 0.0 ELSE ((${parsed} - ${num(col.mean)}) / ${num(col.std)}) END`,
    );
  } else {
    const edges = col.edges;
    for (let k = 0; k <= edges.length; k++) {
      const above = k === 0 ? 'TRUE' : `${value} > ${num(edges[k - 1] ?? 0)}`;
      const below = k === edges.length ? 'TRUE' : `${value} <= ${num(edges[k] ?? 0)}`;
      out.push(`CASE WHEN ${above} AND ${below} THEN 1.0 ELSE 0.0 END`);
    }
  }
  if (col.indicator) out.push(`CASE WHEN ${missing} THEN 1.0 ELSE 0.0 END`);
  return { out, refuse: spec.missingPolicy === 'error' ? missing : invalid };
}

/** The query: `id` and `partial_logit` (or `partial_logit_0 … _K−1`), NULL for a row scoring refuses. */
export function modelSql(model: SqlModel, options: SqlExportOptions): string {
  const q = SYNTAX[options.dialect];
  const spec = model.preprocess;
  const expressions = spec.columns.map((col) => columnExpressions(col, spec, q));
  const features = expressions.flatMap((e) => e.out);
  const refusals = expressions.flatMap((e) => (e.refuse === undefined ? [] : [e.refuse]));
  const columns = spec.outputColumns.length;
  if (features.length !== columns)
    throw new RangeError(`the preprocessing yields ${features.length} columns but names ${columns}`);
  if (model.weights.length !== model.outputs * columns)
    throw new RangeError(`${model.weights.length} weights for ${model.outputs} output(s) × ${columns} columns`);
  const id = q.ident(options.idColumn ?? 'id');
  const f = (j: number): string => `f${j}`;
  const norm = features.length === 0 ? '1.0' : `SQRT(${features.map((_, j) => `${f(j)} * ${f(j)}`).join(' + ')})`;
  // Row clipping (differential privacy): scale the row down to L2 norm rowClip, as scoring does.
  const scale =
    model.rowClip === null
      ? undefined
      : `(CASE WHEN ${norm} > ${num(model.rowClip)} THEN ${num(model.rowClip)} / ${norm} ELSE 1.0 END)`;
  const logits = Array.from({ length: model.outputs }, (_, c) => {
    const terms = features.map((_, j) => `${num(model.weights[c * columns + j] ?? 0)} * ${f(j)}`);
    const sum = terms.length === 0 ? '0.0' : terms.join('\n    + ');
    const name = model.outputs === 1 ? 'partial_logit' : `partial_logit_${c}`;
    const logit = `${num(model.intercepts[c] ?? 0)} + ${scale === undefined ? `(${sum})` : `${scale} * (${sum})`}`;
    return `  ${refusals.length === 0 ? logit : `CASE WHEN refused THEN NULL ELSE ${logit} END`} AS ${name}`;
  });
  const selected = [
    ...features.map((e, j) => `    ${e} AS ${f(j)}`),
    ...(refusals.length === 0 ? [] : [`    (${refusals.join('\n      OR ')}) AS refused`]),
  ];
  return [
    `-- Tandem partial scorer (${options.dialect}): ${spec.columns.length} input columns, ${columns} model columns, ${model.outputs} output(s).`,
    'WITH t AS (',
    selected.length === 0 ? `  SELECT ${id} AS id` : `  SELECT ${id} AS id,`,
    ...(selected.length === 0 ? [] : [selected.join(',\n')]),
    `  FROM ${options.table}`,
    ')',
    'SELECT id,',
    logits.join(',\n'),
    'FROM t',
  ].join('\n');
}
