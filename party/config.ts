/**
 * A party node's YAML config: who the node is, where the coordinator is, and
 * the datasets it may use in jobs. Three stages: the schema (unknown keys
 * rejected, nothing defaulted), `compilePartyConfig` (defaults filled, paths
 * resolved against the config file's directory), then frozen.
 */
import { availableParallelism } from 'node:os';
import { dirname, resolve } from 'node:path';
import { z } from 'zod';
import { deepFreeze, loadConfigFile, resolveConfigPath } from '../runtime/config-file.ts';
import { sourceQuery } from '../data/duckdb-source.ts';

const NODE_NAME = /^[a-z][a-z0-9-]{0,62}$/;
const DATASET_NAME = /^[A-Za-z][\w-]{0,62}$/;
const HOST_PORT = /^(\[[0-9A-Fa-f:.]+\]|[^\s:[\]]+):\d{1,5}$/;

/** The cell texts that mean "no value" unless a dataset lists its own. */
export const DEFAULT_MISSING_TOKENS: readonly string[] = Object.freeze(['', 'NA', 'NaN', 'null']);

// YAML reads `positive: 1` as a number; labels are compared as text.
const labelValue = z.union([z.string().min(1), z.number()]);

const featureSchema = z.strictObject({
  /** Column name in the header row. */
  name: z.string().min(1),
  /** `numeric` columns are standardised; `categorical` ones are one-hot encoded. */
  type: z.enum(['numeric', 'categorical']),
});

const labelSchema = z.strictObject({
  /** Column holding the label. */
  column: z.string().min(1),
  /**
   * `binary`: two values (positive and negative); `multiclass`: a few classes
   * (cold start's segments); `continuous`: a number to predict (a spend, a
   * grade, a lifetime value). @default 'binary'
   */
  type: z.enum(['binary', 'multiclass', 'continuous']).optional(),
  /** Binary only: the value of a positive row. @default "1" */
  positive: labelValue.optional(),
  /** Binary only: the value of a negative row. @default "0" */
  negative: labelValue.optional(),
  /** Multiclass only: the allowed values, in class-index order. @default the distinct values, sorted */
  classes: z.array(labelValue).min(2).optional(),
});

const missingSchema = z.strictObject({
  /**
   * `mean` imputes the training mean; `zero` imputes a raw 0; `indicator`
   * imputes the mean and adds a `<column>__missing` 0/1 column; `error`
   * rejects the data. @default 'mean'
   */
  policy: z.enum(['mean', 'zero', 'indicator', 'error']).optional(),
  /** Cell texts that mean "no value" (compared exactly). @default ["", "NA", "NaN", "null"] */
  tokens: z.array(z.string()).optional(),
});

/**
 * Data read through embedded DuckDB instead of the CSV reader: a Parquet
 * file or folder, a CSV or JSON file, or a SQL query over them. Exactly one key.
 */
const sourceSchema = z.strictObject({
  parquet: z.string().min(1).optional(),
  csv: z.string().min(1).optional(),
  json: z.string().min(1).optional(),
  /** Relative paths in it start at this config file's directory. */
  sql: z.string().min(1).optional(),
});

const datasetSchema = z
  .strictObject({
    /** CSV file, optionally gzipped (`.csv.gz`); relative to this config file. Or give `source`. */
    file: z.string().min(1).optional(),
    /** Instead of `file`: `{ parquet: path }`, `{ csv: path }`, `{ json: path }` or `{ sql: "select … from read_parquet('…')" }`, read by DuckDB. */
    source: sourceSchema.optional(),
    /** @default ',' */
    delimiter: z.string().length(1).optional(),
    /** The id column's name, or `{ rowNumber: true }` to use the 1-based data row number. */
    id: z.union([z.string().min(1), z.strictObject({ rowNumber: z.literal(true) })]),
    /** Only the guest of a job needs one. */
    label: labelSchema.optional(),
    /**
     * `all`: every column except the id and the label, each typed from its
     * values (numbers: numeric; text: categorical), as `tandem data inspect`
     * infers them; `none`: an id list (e.g. lookalike seeds). @default 'all'
     */
    features: z.union([z.literal('all'), z.literal('none'), z.array(featureSchema).min(1)]).optional(),
    missing: missingSchema.optional(),
    /** `keep-first` drops later rows whose id was already seen. @default 'error' */
    duplicateIds: z.enum(['error', 'keep-first']).optional(),
  })
  .superRefine((d, ctx) => {
    const issue = (path: PropertyKey[], message: string, fix: string): void =>
      ctx.addIssue({ code: 'custom', path, message, params: { fix } });
    if ((d.file === undefined) === (d.source === undefined)) {
      issue(
        d.file === undefined ? ['file'] : ['source'],
        d.file === undefined ? 'is missing' : 'is given with file',
        'give either file (a CSV) or source (parquet, csv, json or sql through DuckDB), not both',
      );
    }
    if (d.source !== undefined && Object.values(d.source).filter((v) => v !== undefined).length !== 1) {
      issue(
        ['source'],
        'must name exactly one of parquet, csv, json, sql',
        'keep one key, e.g. source: { parquet: data/users.parquet }',
      );
    }
    const idColumn = typeof d.id === 'string' ? d.id : undefined;
    const { label } = d;
    if (label !== undefined) {
      const type = label.type ?? 'binary';
      const binary = type === 'binary';
      if (label.column === idColumn)
        issue(['label', 'column'], 'is also the id column', 'name a different column for the label');
      if (type !== 'multiclass' && label.classes !== undefined)
        issue(['label', 'classes'], 'applies only to multiclass labels', 'remove it, or set type: multiclass');
      for (const key of ['positive', 'negative'] as const) {
        if (!binary && label[key] !== undefined)
          issue(['label', key], 'applies only to binary labels', 'remove it, or set type: binary');
      }
      if (binary && String(label.positive ?? '1') === String(label.negative ?? '0'))
        issue(['label', 'negative'], 'is the same as positive', 'use two different values');
      label.classes?.forEach((c, i) => {
        if (label.classes?.findIndex((o) => String(o) === String(c)) !== i)
          issue(['label', 'classes', i], `repeats the class ${JSON.stringify(String(c))}`, 'list each class once');
      });
    }
    if (!Array.isArray(d.features)) return;
    const seen = new Map<string, number>();
    d.features.forEach((f, i) => {
      const earlier = seen.get(f.name);
      if (earlier !== undefined)
        issue(['features', i, 'name'], `repeats features[${earlier}]`, 'list each column once');
      if (f.name === idColumn) issue(['features', i, 'name'], 'is the id column', 'remove it from features');
      if (f.name === label?.column) issue(['features', i, 'name'], 'is the label column', 'remove it from features');
      seen.set(f.name, i);
    });
  });

export const partyConfigSchema = z.strictObject({
  node: z.strictObject({
    /** Must match the CN of this node's certificate. */
    name: z.string().regex(NODE_NAME, 'must be lowercase letters, digits and dashes, starting with a letter'),
    /** host:port of the coordinator. Parties only dial out; they open no port. */
    coordinator: z.string().regex(HOST_PORT, 'must be host:port'),
    /** Expected CN of the coordinator's certificate, when it differs from the host dialled. @default the host */
    coordinatorName: z.string().min(1).optional(),
    /** Job state, model parts and the audit log live here. */
    dataDir: z.string().min(1),
    certs: z.strictObject({
      /** CA certificate (PEM) that signed every node. */
      ca: z.string().min(1),
      /** This node's certificate (PEM). */
      cert: z.string().min(1),
      /** This node's private key (PEM). */
      key: z.string().min(1),
    }),
    /** @default 5000 */
    heartbeatIntervalMs: z.number().int().min(100).optional(),
    /**
     * Worker threads for PSI blinding and CKKS encryption and weighted sums;
     * 0 runs them on the main thread. @default the machine's available parallelism
     */
    cryptoThreads: z.number().int().min(0).max(256).optional(),
  }),
  /** Datasets by name; a job spec refers to them by that name. @default {} */
  datasets: z
    .record(
      z.string().regex(DATASET_NAME, 'must start with a letter and hold only letters, digits, _ and -'),
      datasetSchema,
    )
    .optional(),
});

/** The YAML as written. */
export type PartyConfigInput = z.input<typeof partyConfigSchema>;
export type MissingPolicy = 'mean' | 'zero' | 'indicator' | 'error';
export type MissingConfig = { readonly policy: MissingPolicy; readonly tokens: readonly string[] };
export type FeatureType = 'numeric' | 'categorical';
export type FeatureConfig = { readonly name: string; readonly type: FeatureType };
export type IdSource = { readonly kind: 'column'; readonly column: string } | { readonly kind: 'row-number' };
export type LabelConfig =
  | { readonly column: string; readonly type: 'binary'; readonly positive: string; readonly negative: string }
  /** `classes` undefined: the distinct values found, sorted. */
  | { readonly column: string; readonly type: 'multiclass'; readonly classes: readonly string[] | undefined }
  /** A number per row (parsed as a float). */
  | { readonly column: string; readonly type: 'continuous' };

/** Where a dataset's rows come from: the CSV reader, or a DuckDB query. */
export type DatasetSource =
  { readonly kind: 'csv' } | { readonly kind: 'duckdb'; readonly sql: string; readonly searchPath: string };

/** One dataset, defaults filled and `file` absolute. */
export type DatasetConfig = {
  readonly name: string;
  /** The CSV file, the file a `source:` reads, or (a SQL source) where the query is configured: what errors name. */
  readonly file: string;
  /** @default the CSV reader */
  readonly source?: DatasetSource | undefined;
  readonly delimiter: string;
  readonly id: IdSource;
  readonly label: LabelConfig | undefined;
  readonly features: 'all' | 'none' | readonly FeatureConfig[];
  readonly missing: MissingConfig;
  readonly duplicateIds: 'error' | 'keep-first';
};

/** A validated party config with every default filled in, paths absolute, deep-frozen. */
export type PartyConfig = {
  /** The file it was loaded from, absolute. */
  readonly file: string;
  readonly node: {
    readonly name: string;
    readonly coordinator: string;
    readonly coordinatorName: string | undefined;
    readonly dataDir: string;
    readonly certs: { readonly ca: string; readonly cert: string; readonly key: string };
    readonly heartbeatIntervalMs: number;
    readonly cryptoThreads: number;
  };
  readonly datasets: Readonly<Record<string, DatasetConfig>>;
};

/**
 * Loads, validates and compiles a party node's config.
 * @throws ConfigError CONFIG_NOT_FOUND or CONFIG_INVALID, naming the field and the fix.
 */
export async function loadPartyConfig(file: string): Promise<PartyConfig> {
  return compilePartyConfig(await loadConfigFile(file, partyConfigSchema), file);
}

/** Fills defaults and resolves paths against `file`'s directory; the input must already be valid. */
export function compilePartyConfig(input: z.output<typeof partyConfigSchema>, file: string): PartyConfig {
  const at = (path: string): string => resolveConfigPath(file, path);
  const n = input.node;
  const datasets: Record<string, DatasetConfig> = {};
  for (const [name, d] of Object.entries(input.datasets ?? {})) {
    const src = d.source;
    const path = src?.parquet ?? src?.csv ?? src?.json;
    datasets[name] = {
      name,
      file:
        d.file !== undefined
          ? at(d.file)
          : path !== undefined
            ? at(path)
            : `${resolve(file)} (datasets.${name}.source.sql)`,
      ...(src === undefined
        ? {}
        : {
            source: {
              kind: 'duckdb' as const,
              sql: sourceQuery(
                path === undefined
                  ? src
                  : {
                      ...src,
                      ...(src.parquet === undefined ? {} : { parquet: at(src.parquet) }),
                      ...(src.csv === undefined ? {} : { csv: at(src.csv) }),
                      ...(src.json === undefined ? {} : { json: at(src.json) }),
                    },
              ),
              searchPath: dirname(resolve(file)),
            },
          }),
      delimiter: d.delimiter ?? ',',
      id: typeof d.id === 'string' ? { kind: 'column', column: d.id } : { kind: 'row-number' },
      label: compileLabel(d.label),
      features: Array.isArray(d.features)
        ? d.features.map((f) => ({ name: f.name, type: f.type }))
        : (d.features ?? 'all'),
      missing: { policy: d.missing?.policy ?? 'mean', tokens: d.missing?.tokens ?? DEFAULT_MISSING_TOKENS },
      duplicateIds: d.duplicateIds ?? 'error',
    };
  }
  return deepFreeze({
    file: resolve(file),
    node: {
      name: n.name,
      coordinator: n.coordinator,
      coordinatorName: n.coordinatorName,
      dataDir: at(n.dataDir),
      certs: { ca: at(n.certs.ca), cert: at(n.certs.cert), key: at(n.certs.key) },
      heartbeatIntervalMs: n.heartbeatIntervalMs ?? 5000,
      cryptoThreads: n.cryptoThreads ?? availableParallelism(),
    },
    datasets,
  });
}

function compileLabel(label: z.output<typeof labelSchema> | undefined): LabelConfig | undefined {
  if (label === undefined) return undefined;
  if (label.type === 'multiclass')
    return { column: label.column, type: 'multiclass', classes: label.classes?.map(String) };
  if (label.type === 'continuous') return { column: label.column, type: 'continuous' };
  return {
    column: label.column,
    type: 'binary',
    positive: String(label.positive ?? '1'),
    negative: String(label.negative ?? '0'),
  };
}
