/**
 * Bad feature cells, collected over the whole file and reported together.
 * A file exported with six text columns declared numeric used to take six
 * runs, one error each; here the loader notes the first bad cell of every
 * column and keeps reading, and one error names every column with the same
 * problem (the kind of problem met first in the file), with a fix that can
 * be pasted for all of them.
 */
import { DataError } from '../protocol/errors.ts';

export type CellProblemKind =
  /** Text in a column declared (or, with `features: all`, mostly) numeric. */
  | 'text'
  /** Infinity, 1e999 or NaN when NaN is not a missing token. */
  | 'non-finite'
  /** A missing value under `missing.policy: error`. */
  | 'missing'
  /** With `features: all`: a text column with too many values to one-hot encode. */
  | 'levels';

/** The first bad cell of one column for one kind of problem, and how many there were. */
export type CellProblem = {
  readonly kind: CellProblemKind;
  readonly column: string;
  readonly line: number;
  readonly value: string;
  readonly count: number;
};

/** How the dataset's features were given, which decides the fix. */
export type CellProblemContext = {
  readonly source: string;
  readonly dataset: string;
  /** `features: all` (types inferred) rather than a list. */
  readonly inferred: boolean;
  /** With `levels`: the most distinct values a column typed by inference may have. */
  readonly maxLevels?: number;
};

/** Notes each column's first bad cell per kind. */
export class CellProblems {
  readonly #first = new Map<
    string,
    { kind: CellProblemKind; column: string; line: number; value: string; count: number }
  >();

  get size(): number {
    return this.#first.size;
  }

  /** @param count - bad cells this note stands for. @default 1 */
  add(kind: CellProblemKind, column: string, line: number, value: string, count = 1): void {
    const key = `${kind}\u0000${column}`;
    const seen = this.#first.get(key);
    if (seen === undefined) this.#first.set(key, { kind, column, line, value, count });
    else seen.count += count;
  }

  /** Problems of one kind, in file order (then column order). */
  list(kind?: CellProblemKind): CellProblem[] {
    return [...this.#first.values()]
      .filter((p) => kind === undefined || p.kind === kind)
      .sort((a, b) => a.line - b.line);
  }

  /** The error for the kind met first in the file, naming every column with that kind; undefined when there is none. */
  error(context: CellProblemContext): DataError | undefined {
    const first = this.list()[0];
    if (first === undefined) return undefined;
    return cellProblemsError(this.list(first.kind), context);
  }
}

/** One error for problems of one kind, headed by the first (its line and column), listing the rest. */
export function cellProblemsError(problems: readonly CellProblem[], context: CellProblemContext): DataError {
  const [head, ...rest] = problems;
  if (head === undefined) throw new RangeError('no problems to report');
  const { problem, fix } = describe(head, rest, context);
  return new DataError(
    'DATA_VALUE_INVALID',
    { file: context.source, line: head.line, column: head.column, problem, fix },
    { details: { columns: problems.map((p) => p.column) } },
  );
}

function describe(
  head: CellProblem,
  rest: readonly CellProblem[],
  context: CellProblemContext,
): { problem: string; fix: string } {
  const at = `datasets.${context.dataset}`;
  const others = (what: string): string => {
    if (rest.length === 0) return '';
    if (rest.length > 1)
      what = what.replace(/\b(holds|has|is)\b/, (verb) => ({ holds: 'hold', has: 'have', is: 'are' })[verb] ?? verb);
    const listed = rest
      .slice(0, 12)
      .map((p) =>
        p.kind === 'missing' || p.kind === 'levels'
          ? `"${p.column}" (line ${p.line})`
          : `"${p.column}" (${shown(p.value)} on line ${p.line})`,
      );
    return `; ${rest.length} more column${rest.length > 1 ? 's' : ''} ${what}: ${listed.join(', ')}${rest.length > 12 ? ', …' : ''}`;
  };
  const names = [head, ...rest].map((p) => p.column);
  const declared = names.map((n) => `{ name: ${yamlName(n)}, type: categorical }`).join(', ');
  switch (head.kind) {
    case 'text':
      return context.inferred
        ? {
            problem: `${shown(head.value)} is not a number, in a column of numbers (${head.count} cell${head.count > 1 ? 's' : ''} of text)${others('of numbers holds text too')}`,
            fix: `correct the value${rest.length > 0 ? 's' : ''}; if ${rest.length > 0 ? 'one' : 'it'} marks a missing value, add it to ${at}.missing.tokens; if ${rest.length > 0 ? 'a column' : 'the column'} holds categories, list the features and declare ${rest.length > 0 ? 'them' : 'it'} ${declared} (\`tandem data inspect\` prints the list)`,
          }
        : {
            problem: `${shown(head.value)} is not a number${others('declared numeric holds text too')}`,
            fix: `correct the value${rest.length > 0 ? 's' : ''}; if ${rest.length > 0 ? 'one' : 'it'} marks a missing value, add it to missing.tokens; if the column${rest.length > 0 ? 's hold' : ' holds'} categories, declare ${rest.length > 0 ? 'them' : 'it'} ${declared}`,
          };
    case 'non-finite':
      return {
        problem: `${shown(head.value)} is not a finite number${others('holds such values too')}`,
        fix: 'replace it with a finite value; if it marks a missing value, add it to missing.tokens in the dataset config',
      };
    case 'missing':
      return {
        problem: `the value is missing and missing.policy is error${others('has missing values too')}`,
        fix: `fill in the value, or set ${at}.missing.policy to mean, zero or indicator`,
      };
    case 'levels':
      return {
        problem: `holds text with more than ${context.maxLevels ?? 0} distinct values, too many to encode one column per value (an id, or free text?)${others('is like it')}`,
        fix: `list the features without ${rest.length > 0 ? 'these columns' : 'it'} (\`tandem data inspect\` prints the list), or declare ${declared} to encode every value`,
      };
  }
}

function shown(raw: string): string {
  return JSON.stringify(raw.length > 40 ? `${raw.slice(0, 37)}...` : raw);
}

/** A column name as a plain YAML scalar where that is safe, else double-quoted. */
export function yamlName(name: string): string {
  return /^[A-Za-z_][\w.-]*$/.test(name) && !/^(true|false|yes|no|on|off|null|y|n)$/i.test(name)
    ? name
    : JSON.stringify(name);
}
