/**
 * What a column holds, from statistics gathered as the file streams past
 * (bounded memory: exact value counts up to a cap, a distinct-count sketch
 * beyond it), and the type that makes it. `tandem data inspect` and
 * `features: all` type columns with the same rule ({@link inferFeatureType}),
 * so the schema a user inspects is the one a job loads.
 */
import type { FeatureType } from '../party/config.ts';
import { categoricalCell, numericCellParser } from './cells.ts';
import { DistinctSketch } from './distinct-sketch.ts';

/** A text column typed by inference may have at most this many values (one-hot encoding makes a column of each). */
export const MAX_INFERRED_LEVELS = 100;
/** Distinct values counted exactly per column; past this, counts are kept only for those already seen. */
const LEVEL_CAP = 1000;
/** Missing in at least this share of rows: "mostly missing". */
const MOSTLY_MISSING = 0.5;
/** At least this share of distinct values (and enough rows): id-like. */
const UNIQUE_SHARE = 0.98;
const ID_MIN_ROWS = 50;
const ID_NAME = /(^|[^a-z])(id|key|uuid|guid)$|^(id|key|uuid|guid)([^a-z]|$)/i;
const BOOLEAN_PAIRS: readonly (readonly [string, string])[] = [
  ['0', '1'],
  ['false', 'true'],
  ['no', 'yes'],
  ['n', 'y'],
  ['f', 't'],
];

/**
 * The one typing rule: a column whose values are all numbers (or missing)
 * is numeric; one where text outnumbers numbers is categorical; numbers with
 * a little text is `mixed` — most likely a numeric column with stray values
 * ("n/a", "?") that should be missing tokens, so it is not guessed.
 */
export function inferFeatureType(numbers: number, texts: number): FeatureType | 'mixed' {
  if (texts === 0) return 'numeric';
  return numbers > 0 && numbers >= texts ? 'mixed' : 'categorical';
}

/** Infinity, 1e999 and NaN parse (or overflow) as numbers but are no use to a model: not text, not numbers. */
export function isNonFiniteNumber(raw: string): boolean {
  const text = raw.trim();
  return Math.abs(Number(text)) === Infinity || /^[+-]?(inf(inity)?|nan)$/i.test(text);
}

export type ColumnKind = 'numeric' | 'categorical' | 'boolean' | 'id' | 'constant' | 'empty' | 'mixed';

export type ColumnSummary = {
  readonly name: string;
  readonly kind: ColumnKind;
  /** How a job reads it (`features: all` gives the same); undefined when it cannot be read as either. */
  readonly type: FeatureType | undefined;
  readonly rows: number;
  readonly missing: number;
  readonly mostlyMissing: boolean;
  /** Exact up to 1000, estimated beyond (`distinctExact` false). */
  readonly distinct: number;
  readonly distinctExact: boolean;
  /** The most frequent values, most frequent first (counts exact for values met before the cap). */
  readonly levels: readonly { readonly value: string; readonly count: number }[];
  readonly numbers:
    | {
        readonly count: number;
        readonly min: number;
        readonly max: number;
        readonly mean: number;
        readonly integers: boolean;
      }
    | undefined;
  /** Cells that are neither numbers nor missing, with the first few such values and the line of the first. */
  readonly texts:
    { readonly count: number; readonly examples: readonly string[]; readonly firstLine: number } | undefined;
  /** Infinity, 1e999 or NaN cells (not missing tokens), with the first line. */
  readonly nonFinite: { readonly count: number; readonly firstLine: number } | undefined;
};

/** Streaming statistics of one column. */
export class ColumnProfile {
  readonly name: string;
  readonly #parse: (raw: string) => number | undefined;
  readonly #tokens: ReadonlySet<string>;
  #rows = 0;
  #missing = 0;
  #numbers = 0;
  #integers = true;
  #min = Infinity;
  #max = -Infinity;
  #sum = 0;
  #texts = 0;
  #firstTextLine = 0;
  #nonFinite = 0;
  #firstNonFiniteLine = 0;
  readonly #levels = new Map<string, number>();
  readonly #textLevels = new Map<string, number>();
  #sketch: DistinctSketch | undefined;

  constructor(name: string, missingTokens: readonly string[]) {
    this.name = name;
    this.#parse = numericCellParser(missingTokens);
    this.#tokens = new Set(missingTokens);
  }

  add(raw: string, line: number): void {
    this.#rows++;
    const value = categoricalCell(raw, this.#tokens);
    const x = this.#parse(raw);
    if (value === undefined || (x !== undefined && Number.isNaN(x))) {
      this.#missing++;
      return;
    }
    this.#level(value);
    if (x !== undefined) {
      this.#numbers++;
      this.#sum += x;
      if (x < this.#min) this.#min = x;
      if (x > this.#max) this.#max = x;
      if (this.#integers && !Number.isInteger(x)) this.#integers = false;
    } else if (isNonFiniteNumber(raw)) {
      if (this.#nonFinite++ === 0) this.#firstNonFiniteLine = line;
    } else {
      if (this.#texts++ === 0) this.#firstTextLine = line;
      if (this.#textLevels.size < LEVEL_CAP || this.#textLevels.has(value))
        this.#textLevels.set(value, (this.#textLevels.get(value) ?? 0) + 1);
    }
  }

  #level(value: string): void {
    const count = this.#levels.get(value);
    if (count !== undefined) {
      this.#levels.set(value, count + 1);
      return;
    }
    if (this.#levels.size < LEVEL_CAP) {
      this.#levels.set(value, 1);
      return;
    }
    if (this.#sketch === undefined) {
      this.#sketch = new DistinctSketch();
      for (const known of this.#levels.keys()) this.#sketch.add(known);
    }
    this.#sketch.add(value);
  }

  /** What the column holds and what kind of column that makes it. */
  summary(): ColumnSummary {
    const present = this.#rows - this.#missing;
    const distinctExact = this.#sketch === undefined;
    const distinct = distinctExact ? this.#levels.size : Math.max(LEVEL_CAP, Math.round(this.#sketch?.estimate() ?? 0));
    const levels = topLevels(this.#levels, 10);
    const numbers =
      this.#numbers === 0
        ? undefined
        : {
            count: this.#numbers,
            min: this.#min,
            max: this.#max,
            mean: this.#sum / this.#numbers,
            integers: this.#integers,
          };
    const texts =
      this.#texts === 0
        ? undefined
        : {
            count: this.#texts,
            examples: topLevels(this.#textLevels, 3).map((l) => l.value),
            firstLine: this.#firstTextLine,
          };
    const nonFinite =
      this.#nonFinite === 0 ? undefined : { count: this.#nonFinite, firstLine: this.#firstNonFiniteLine };
    const type = inferFeatureType(this.#numbers, this.#texts);
    const base = {
      name: this.name,
      rows: this.#rows,
      missing: this.#missing,
      mostlyMissing: this.#rows > 0 && this.#missing / this.#rows >= MOSTLY_MISSING,
      distinct,
      distinctExact,
      levels,
      numbers,
      texts,
      nonFinite,
    };
    const kind = ((): ColumnKind => {
      if (present === 0) return 'empty';
      if (type === 'mixed' || (nonFinite !== undefined && type === 'numeric')) return 'mixed';
      if (distinct === 1) return 'constant';
      if (distinct === 2 && distinctExact && isBooleanPair([...this.#levels.keys()])) return 'boolean';
      const unique = distinctExact ? distinct === present : distinct >= UNIQUE_SHARE * present;
      const idShaped = type === 'categorical' || numbers?.integers === true;
      if (unique && idShaped && !base.mostlyMissing && (present >= ID_MIN_ROWS || ID_NAME.test(this.name))) return 'id';
      return type;
    })();
    return { ...base, kind, type: kind === 'empty' ? 'numeric' : type === 'mixed' ? undefined : type };
  }
}

function isBooleanPair(values: readonly string[]): boolean {
  const pair = values.map((v) => v.toLowerCase()).sort();
  return BOOLEAN_PAIRS.some(([a, b]) => pair[0] === a && pair[1] === b);
}

function topLevels(counts: ReadonlyMap<string, number>, n: number): { value: string; count: number }[] {
  return [...counts]
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
    .slice(0, n)
    .map(([value, count]) => ({ value, count }));
}
