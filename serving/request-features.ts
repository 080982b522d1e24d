/**
 * Checks the raw features of a scoring request before they are scored, so
 * that a request is either scored the way training would score it or
 * refused with an answer that names the field and the row:
 *
 * - a feature name the model has no input column for is refused
 *   (`DATA_SCHEMA_MISMATCH`): a misspelt column would otherwise be scored
 *   as missing without a word;
 * - a numeric value must be a finite number (or a missing-value token,
 *   `null`, or left out, which training's missing-value policy imputes) no
 *   further than {@link MAX_STANDARD_DEVIATIONS} standard deviations from
 *   the training mean (`DATA_VALUE_INVALID`): 1e308 is a typo or an attack,
 *   not a customer;
 * - a category the model was not trained on is scored as training scores
 *   one (none of the column's one-hot indicators set) and named in the
 *   answer's `warnings`.
 *
 * Public messages may quote the caller's own value back; the local message
 * (the one that is logged) never holds a value. Pure: no I/O.
 */
import { categoricalCell, numericCellParser } from '../data/dataset.ts';
import type { PreprocessSpec, RawRow } from '../data/preprocess.ts';
import { TandemError } from '../protocol/errors.ts';

/** How far from the training mean, in training standard deviations, a numeric value may be. */
export const MAX_STANDARD_DEVIATIONS = 1e6;

type Compiled = {
  readonly names: ReadonlySet<string>;
  readonly tokens: ReadonlySet<string>;
  readonly parse: (raw: string) => number | undefined;
  readonly categories: ReadonlyMap<string, ReadonlySet<string>>;
};

const cache = new WeakMap<PreprocessSpec, Compiled>();

function compiled(spec: PreprocessSpec): Compiled {
  let c = cache.get(spec);
  if (c === undefined) {
    c = {
      names: new Set(spec.columns.map((col) => col.name)),
      tokens: new Set(spec.missingTokens),
      parse: numericCellParser(spec.missingTokens),
      categories: new Map(
        spec.columns.flatMap((col) =>
          col.kind === 'categorical' ? [[col.name, new Set(col.categories)] as const] : [],
        ),
      ),
    };
    cache.set(spec, c);
  }
  return c;
}

const shown = (raw: unknown): string => (raw === undefined ? '' : JSON.stringify(raw));

const invalid = (field: string, problem: string, quoted: string): TandemError =>
  new TandemError('DATA_VALUE_INVALID', `${field}: ${problem}`, {
    publicMessage: `${field}: ${quoted === '' ? '' : `${quoted} `}${problem}`,
  });

/**
 * Checks one request row's features (`where` names it: `features`, `rows[3].features`).
 * @returns warnings for the answer (unseen categories), empty when there are none
 * @throws TandemError DATA_SCHEMA_MISMATCH naming unknown feature names; DATA_VALUE_INVALID naming the field
 */
export function checkFeatures(spec: PreprocessSpec, features: RawRow, where: string): string[] {
  const c = compiled(spec);
  const unknown = Object.keys(features).filter((name) => !c.names.has(name));
  if (unknown.length > 0) {
    const listed =
      unknown
        .slice(0, 10)
        .map((n) => JSON.stringify(n))
        .join(', ') + (unknown.length > 10 ? ` and ${unknown.length - 10} more` : '');
    const text = `${where}: unknown feature${unknown.length === 1 ? '' : 's'} ${listed}; this model's input columns are ${spec.columns.map((col) => col.name).join(', ')}`;
    throw new TandemError('DATA_SCHEMA_MISMATCH', `${where}: ${unknown.length} unknown feature name(s)`, {
      publicMessage: text,
    });
  }
  const warnings: string[] = [];
  for (const col of spec.columns) {
    const raw = features[col.name];
    // Named only when refused or warned about: building the strings for every accepted value would cost more than checking it.
    if (col.kind === 'numeric') {
      let x: number | undefined;
      if (raw === null || raw === undefined) x = NaN;
      else if (typeof raw === 'number') {
        if (!Number.isFinite(raw))
          throw invalid(
            `${where}.${col.name}`,
            'is not a finite number; send null, or leave the feature out, for a missing value',
            shown(raw),
          );
        x = raw;
      } else {
        const text = String(raw);
        x = c.parse(text);
        if (x === undefined)
          throw invalid(
            `${where}.${col.name}`,
            Number.isNaN(Number(text)) || text.trim() === '' ? 'is not a number' : 'is not a finite number',
            shown(raw),
          );
      }
      if (Number.isNaN(x)) {
        if (spec.missingPolicy === 'error')
          throw invalid(`${where}.${col.name}`, "is missing, and the model's missing-value policy is error", '');
        continue;
      }
      if (Math.abs(x - col.mean) / col.std > MAX_STANDARD_DEVIATIONS) {
        throw invalid(
          `${where}.${col.name}`,
          `is more than ${MAX_STANDARD_DEVIATIONS.toLocaleString('en')} standard deviations from the mean the model was trained on; so far out, it is refused`,
          shown(raw),
        );
      }
      continue;
    }
    const category = raw === null || raw === undefined ? undefined : categoricalCell(String(raw), c.tokens);
    if (category === undefined) {
      if (spec.missingPolicy === 'error')
        throw invalid(`${where}.${col.name}`, "is missing, and the model's missing-value policy is error", '');
      continue;
    }
    if (c.categories.get(col.name)?.has(category) !== true) {
      warnings.push(
        `${where}.${col.name}: ${JSON.stringify(category)} is not a category the model was trained on; scored as none of its categories`,
      );
    }
  }
  return warnings;
}
