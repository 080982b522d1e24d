/**
 * `tandem data inspect`: what a CSV file holds, column by column, and a
 * `datasets:` block for a node config that loads it. The file is streamed
 * once; memory is bounded by the per-column caps in column-profile.ts, not
 * by the file. The types are those `features: all` would give, so pasting
 * the block and writing `features: all` load the same matrix; the block
 * lists the columns instead, leaving out (commented, with the reason) those
 * no model should use as they are: ids, constants, empty columns, numbers
 * with stray text, and text with too many values.
 */
import { basename, resolve } from 'node:path';
import { DataError } from '../protocol/errors.ts';
import { DEFAULT_MISSING_TOKENS, type FeatureConfig } from '../party/config.ts';
import { yamlName } from './cell-problems.ts';
import { ColumnProfile, MAX_INFERRED_LEVELS, type ColumnSummary } from './column-profile.ts';
import { openCsv } from './csv-reader.ts';

export type InspectOptions = {
  readonly file: string;
  /** @default ',' */
  readonly delimiter?: string;
  /** The id column. @default the first id-like column, else row numbers */
  readonly id?: string;
  /** The label column, if the file has one. */
  readonly label?: string;
  /** @default ["", "NA", "NaN", "null"] */
  readonly missingTokens?: readonly string[];
  /** Stop after this many data rows. @default every row */
  readonly maxRows?: number;
  /** The dataset's name in the block. @default derived from the file name */
  readonly name?: string;
};

/** A suggested feature, or a column left out of the suggestion and why. */
export type FeatureSuggestion = FeatureConfig & {
  readonly note: string | undefined;
  readonly leftOut: string | undefined;
};

export type LabelSuggestion = {
  readonly column: string;
  /** The YAML for `label:`, or undefined when the column cannot be a label as it is. */
  readonly yaml: string | undefined;
  readonly note: string | undefined;
};

export type Inspection = {
  readonly file: string;
  readonly name: string;
  readonly rows: number;
  /** Reading stopped at `maxRows` before the end of the file. */
  readonly truncated: boolean;
  readonly delimiter: string;
  readonly missingTokens: readonly string[];
  readonly columns: readonly ColumnSummary[];
  /** The id column, or undefined for row numbers. */
  readonly id: { readonly column: string | undefined; readonly note: string | undefined };
  readonly label: LabelSuggestion | undefined;
  readonly features: readonly FeatureSuggestion[];
};

/**
 * Streams the file and describes every column.
 * @throws DataError as the loader does for an unreadable file, and DATA_COLUMN_MISSING when `id` or `label` is not a column.
 */
export async function inspectFile(options: InspectOptions): Promise<Inspection> {
  const delimiter = options.delimiter ?? ',';
  const tokens = options.missingTokens ?? DEFAULT_MISSING_TOKENS;
  const csv = await openCsv(options.file, { delimiter, pathField: 'the FILE argument', relativeTo: 'cwd' });
  const profiles = csv.header.map((name) => new ColumnProfile(name, tokens));
  let rows = 0;
  let truncated = false;
  try {
    for (const wanted of [options.id, options.label]) {
      if (wanted !== undefined && !csv.header.includes(wanted)) {
        throw new DataError('DATA_COLUMN_MISSING', {
          file: csv.file,
          line: 1,
          column: wanted,
          problem: `the header has no column ${JSON.stringify(wanted)}`,
          fix: `name one of: ${csv.header.join(', ')}`,
        });
      }
    }
    for await (const row of csv) {
      if (options.maxRows !== undefined && rows >= options.maxRows) {
        truncated = true;
        break;
      }
      rows++;
      profiles.forEach((p, j) => p.add(row.fields[j] ?? '', row.line));
    }
  } finally {
    await csv.close();
  }
  const columns = profiles.map((p) => p.summary());
  const id = chooseId(columns, options.id);
  const label =
    options.label === undefined
      ? undefined
      : suggestLabel(columns.find((c) => c.name === options.label) as ColumnSummary);
  const features = columns.filter((c) => c.name !== id.column && c.name !== options.label).map(suggestFeature);
  return {
    file: resolve(options.file),
    name: options.name ?? datasetName(options.file),
    rows,
    truncated,
    delimiter,
    missingTokens: tokens,
    columns,
    id,
    label,
    features,
  };
}

function chooseId(columns: readonly ColumnSummary[], given: string | undefined): Inspection['id'] {
  if (given !== undefined) {
    const c = columns.find((col) => col.name === given);
    if (c === undefined || c.kind === 'id') return { column: given, note: undefined };
    const repeats = c.distinctExact ? c.rows - c.missing - c.distinct : undefined;
    const problem =
      c.missing > 0
        ? `${c.missing} row(s) have no id`
        : repeats !== undefined && repeats > 0
          ? `${repeats} id(s) repeat an earlier one`
          : 'ids may repeat';
    return { column: given, note: `${problem}: a job refuses that unless duplicateIds: keep-first` };
  }
  const ids = columns.filter((c) => c.kind === 'id');
  const named = ids.find((c) => /(^|[^a-z])(id|key|uuid|guid)$|^(id|key|uuid|guid)([^a-z]|$)/i.test(c.name));
  const chosen = named ?? ids[0];
  if (chosen !== undefined)
    return {
      column: chosen.name,
      note:
        ids.length > 1
          ? `also id-like: ${ids
              .filter((c) => c !== chosen)
              .map((c) => c.name)
              .join(', ')}`
          : undefined,
    };
  return { column: undefined, note: 'no id-like column: rows are numbered, so every party must number the same rows' };
}

const TRUTHY = new Set(['1', 'true', 'yes', 'y', 't']);

function suggestLabel(c: ColumnSummary): LabelSuggestion {
  const unlabelled = c.missing > 0 ? `${c.missing} row(s) have no label: a job refuses them` : undefined;
  const suggest = (yaml: string | undefined, note: string | undefined): LabelSuggestion => ({
    column: c.name,
    yaml,
    note: [note, unlabelled].filter((n) => n !== undefined).join('; ') || undefined,
  });
  const column = yamlName(c.name);
  if (c.kind === 'empty' || c.kind === 'constant')
    return suggest(
      undefined,
      `it holds ${c.kind === 'empty' ? 'no values' : 'one value'}, so there is nothing to predict`,
    );
  if (c.kind === 'mixed')
    return suggest(undefined, 'it holds numbers and some text: correct the text (or make it a missing token) first');
  const numbers = c.numbers;
  if (c.distinct === 2 && c.distinctExact) {
    const [a, b] = c.levels;
    const truthy = c.levels.find((l) => TRUTHY.has(l.value.toLowerCase()));
    const positive = truthy ?? (a !== undefined && b !== undefined && b.count <= a.count ? b : a);
    const negative = c.levels.find((l) => l !== positive);
    return suggest(
      `{ column: ${column}, positive: ${quoted(positive?.value ?? '')}, negative: ${quoted(negative?.value ?? '')} }`,
      truthy === undefined ? `positive is the rarer value "${positive?.value ?? ''}": check it` : undefined,
    );
  }
  if (c.type === 'numeric' && numbers !== undefined && (!numbers.integers || c.distinct > 10)) {
    return suggest(`{ column: ${column}, type: continuous }`, `${describeNumbers(c)}: a number to predict`);
  }
  const classes = c.distinctExact ? c.distinct : undefined;
  const many =
    classes === undefined || classes > 32
      ? `${classes ?? `over ${c.distinct}`} classes: a cold-start job trains at most 32; merge rare ones`
      : undefined;
  const or = c.type === 'numeric' ? 'or type: continuous if the number itself is to be predicted' : undefined;
  return suggest(
    `{ column: ${column}, type: multiclass }`,
    [many, `${c.distinct} classes`, or].filter((n) => n !== undefined).join('; '),
  );
}

function suggestFeature(c: ColumnSummary): FeatureSuggestion {
  const type = c.type ?? 'numeric';
  const missing = c.mostlyMissing ? `${Math.round((100 * c.missing) / Math.max(1, c.rows))} % missing` : undefined;
  const leftOut = ((): string | undefined => {
    switch (c.kind) {
      case 'id':
        return 'a distinct value in every row: an id, not a feature';
      case 'constant':
        return `one value in every row${c.missing > 0 ? ' that has one' : ''}: nothing to learn from`;
      case 'empty':
        return 'every value is missing';
      case 'mixed': {
        const texts =
          c.texts === undefined
            ? ''
            : `${c.texts.count} text cell(s) (${c.texts.examples.map((e) => JSON.stringify(e)).join(', ')}, first on line ${c.texts.firstLine})`;
        const nonFinite =
          c.nonFinite === undefined
            ? ''
            : `${c.nonFinite.count} infinite or NaN cell(s) (first on line ${c.nonFinite.firstLine})`;
        return `numbers with ${[texts, nonFinite].filter((s) => s !== '').join(' and ')}: add them to missing.tokens if they mark missing values, or correct them`;
      }
      case 'categorical':
        return c.distinct > MAX_INFERRED_LEVELS
          ? `${c.distinctExact ? '' : 'about '}${c.distinct} distinct values: too many to encode one column each`
          : undefined;
      default:
        return undefined;
    }
  })();
  const note =
    leftOut !== undefined
      ? undefined
      : [
          c.kind === 'boolean'
            ? c.levels
                .map((l) => l.value)
                .sort()
                .join('/')
            : c.type === 'categorical'
              ? `${c.distinct} levels`
              : undefined,
          missing,
        ]
          .filter((n) => n !== undefined)
          .join(', ') || undefined;
  return { name: c.name, type, note, leftOut };
}

function describeNumbers(c: ColumnSummary): string {
  const n = c.numbers;
  return n === undefined
    ? ''
    : `${c.distinctExact ? '' : 'about '}${c.distinct} distinct ${n.integers ? 'whole numbers' : 'numbers'} from ${formatNumber(n.min)} to ${formatNumber(n.max)}`;
}

export function formatNumber(x: number): string {
  return Number.isInteger(x) ? String(x) : Math.abs(x) >= 1000 || Math.abs(x) < 0.01 ? x.toPrecision(4) : x.toFixed(2);
}

/** A dataset name a job spec can refer to, from the file name: `hillstrom.csv.gz` → `hillstrom`. */
export function datasetName(file: string): string {
  const stem = basename(file)
    .replace(/(\.gz)?$/, '')
    .replace(/\.(csv|tsv|txt)$/i, '')
    .replace(/[^\w-]/g, '_');
  const name = /^[A-Za-z]/.test(stem) ? stem : `d_${stem}`;
  return name.slice(0, 63) || 'data';
}

function quoted(value: string): string {
  return JSON.stringify(value);
}

/** The `datasets:` block for a node config (paths absolute, since the config's directory is not known). */
export function datasetsYaml(inspection: Inspection): string {
  const { id, label, features } = inspection;
  const comment = (text: string | undefined): string => (text === undefined ? '' : `  # ${text}`);
  const lines = ['datasets:', `  ${inspection.name}:`, `    file: ${yamlPath(inspection.file)}`];
  if (inspection.delimiter !== ',') lines.push(`    delimiter: ${JSON.stringify(inspection.delimiter)}`);
  lines.push(
    id.column === undefined
      ? `    id: { rowNumber: true }${comment(id.note)}`
      : `    id: ${yamlName(id.column)}${comment(id.note)}`,
  );
  if (label !== undefined)
    lines.push(
      label.yaml === undefined
        ? `    # label: ${yamlName(label.column)}${comment(label.note)}`
        : `    label: ${label.yaml}${comment(label.note)}`,
    );
  const kept = features.filter((f) => f.leftOut === undefined);
  const left = features.filter((f) => f.leftOut !== undefined);
  const entry = (f: FeatureSuggestion): string => `{ name: ${yamlName(f.name)}, type: ${f.type} }`;
  if (kept.length === 0) {
    lines.push(
      `    features: none${comment(features.length === 0 ? 'an id list' : 'no column is usable as it is; see the left-out ones below')}`,
    );
  } else {
    lines.push(`    features:${left.length === 0 ? '  # features: all gives the same types' : ''}`);
    for (const f of kept) lines.push(`      - ${entry(f)}${comment(f.note)}`);
  }
  if (left.length > 0) {
    lines.push('      # left out (uncomment to use):');
    for (const f of left) lines.push(`      # - ${entry(f)}${comment(f.leftOut)}`);
  }
  if (inspection.missingTokens.join('\u0000') !== DEFAULT_MISSING_TOKENS.join('\u0000')) {
    lines.push(`    missing: { tokens: [${inspection.missingTokens.map(quoted).join(', ')}] }`);
  }
  return `${lines.join('\n')}\n`;
}

function yamlPath(path: string): string {
  return /^[\w./-]+$/.test(path) ? path : JSON.stringify(path);
}
