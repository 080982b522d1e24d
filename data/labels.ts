/**
 * Label cells to model targets: class indices for binary and multiclass
 * labels, floats for continuous ones. A bad value does not stop the read:
 * the first one is kept (with its line) while the rest of the column is
 * counted, so the error can say what the column actually holds — a label
 * with many values read as binary is a segment, a regression target or a
 * class code, and the fix should say `type: multiclass` or `type:
 * continuous`, not only "set positive and negative".
 */
import { DataError } from '../protocol/errors.ts';
import type { LabelConfig } from '../party/config.ts';

/** Distinct label values remembered for the error message; past this the column has "many". */
const DISTINCT_CAP = 64;
/** A numeric label with more distinct values than this reads first as a number to predict, then as class codes. */
const CLASS_CODE_MAX = 10;

/** Maps label texts to class indices (binary, multiclass) or values (continuous), checking each distinct text once. */
export class LabelCoder {
  readonly #label: LabelConfig;
  readonly #source: string;
  readonly #field: string;
  readonly #known = new Map<string, number>();
  readonly #classes: string[];
  /** The first bad row; later bad rows are only counted. */
  #bad: { line: number; raw: string; problem: string; fix: string } | undefined;
  #badRows = 0;
  /** Distinct values seen (capped), to describe the column when a value is bad. */
  readonly #distinct = new Set<string>();
  #allNumeric = true;
  #allIntegers = true;

  /** @param field - where the label is configured, e.g. `datasets.credit.label`. */
  constructor(label: LabelConfig, source: string, field = 'label') {
    this.#label = label;
    this.#source = source;
    this.#field = field;
    this.#classes =
      label.type === 'binary'
        ? [label.negative, label.positive]
        : label.type === 'multiclass'
          ? [...(label.classes ?? [])]
          : [];
  }

  get continuous(): boolean {
    return this.#label.type === 'continuous';
  }

  /** The class index (or, for a continuous label, the value) of a label cell; NaN after a bad value (reported by `finish`). */
  code(raw: string, line: number): number {
    const known = this.#known.get(raw);
    if (known !== undefined) return known;
    const code = this.#codeOf(raw, line);
    if (!Number.isNaN(code)) this.#known.set(raw, code);
    return code;
  }

  /**
   * Checks the whole column once every row has been read, and maps unlisted
   * multiclass labels to indices in sorted order (numeric when every class is a number).
   * @throws DataError DATA_LABEL_INVALID for the first bad row, described with what the column holds.
   */
  finish(codes: Int32Array | Float64Array): { codes: Int32Array | Float64Array; classes: string[] } {
    if (this.#bad !== undefined) throw this.#error(this.#bad);
    const label = this.#label;
    if (label.type === 'continuous') return { codes: codes.slice(), classes: [] };
    if (label.type === 'binary' || label.classes !== undefined) return { codes: codes.slice(), classes: this.#classes };
    const numeric = this.#classes.every((c) => Number.isFinite(Number(c)));
    const sorted = [...this.#classes].sort(numeric ? (a, b) => Number(a) - Number(b) : undefined);
    const remap = Int32Array.from(this.#classes, (c) => sorted.indexOf(c));
    return { codes: codes.map((c) => remap[c] ?? c), classes: sorted };
  }

  #codeOf(raw: string, line: number): number {
    const label = this.#label;
    this.#observe(raw);
    if (raw === '')
      return this.#reject(line, raw, 'the label is empty', 'give every row a label, or remove unlabelled rows');
    const numeric = Number(raw);
    if (label.type === 'continuous') {
      if (Number.isFinite(numeric)) return numeric;
      return this.#reject(
        line,
        raw,
        `${shown(raw)} is not a number, but ${this.#field}.type is continuous`,
        `correct the row; if the column holds classes, set ${this.#field}.type to binary or multiclass`,
      );
    }
    const match = this.#classes.findIndex(
      (c) => c === raw || (Number.isFinite(numeric) && c.trim() !== '' && Number(c) === numeric),
    );
    if (match !== -1) return match;
    if (label.type === 'binary') {
      return this.#reject(
        line,
        raw,
        `${shown(raw)} is neither the positive value "${label.positive}" nor the negative value "${label.negative}"`,
        `set ${this.#field}.positive and ${this.#field}.negative to the values this column uses, or correct the row`,
      );
    }
    if (label.classes !== undefined)
      return this.#reject(
        line,
        raw,
        `${shown(raw)} is not one of the classes ${label.classes.join(', ')}`,
        `add it to ${this.#field}.classes, or correct the row`,
      );
    return this.#classes.push(raw) - 1;
  }

  #observe(raw: string): void {
    // An empty label is its own error; it says nothing about what the column holds.
    if (raw.trim() === '') return;
    if (this.#distinct.size < DISTINCT_CAP) this.#distinct.add(raw);
    const value = Number(raw);
    if (!Number.isFinite(value)) this.#allNumeric = false;
    else if (!Number.isInteger(value)) this.#allIntegers = false;
  }

  #reject(line: number, raw: string, problem: string, fix: string): number {
    this.#badRows++;
    this.#bad ??= { line, raw, problem, fix };
    return NaN;
  }

  #error(bad: { line: number; raw: string; problem: string; fix: string }): DataError {
    const more = this.#badRows > 1 ? ` (and ${this.#badRows - 1} more row${this.#badRows > 2 ? 's' : ''} like it)` : '';
    return new DataError(
      'DATA_LABEL_INVALID',
      {
        file: this.#source,
        line: bad.line,
        column: this.#label.column,
        problem: `${bad.problem}${more}`,
        fix: this.#betterFix(bad),
      },
      { details: { badRows: this.#badRows } },
    );
  }

  /**
   * A binary label whose column holds more than two values is a segment
   * (multiclass), or, for numbers, a number to predict or a class code: say
   * so instead of only asking for positive/negative.
   */
  #betterFix(bad: { raw: string; fix: string }): string {
    const values = [...this.#distinct];
    if (this.#label.type !== 'binary' || bad.raw === '' || values.length <= 2) return bad.fix;
    const many = values.length >= DISTINCT_CAP ? `at least ${DISTINCT_CAP}` : String(values.length);
    if (!this.#allNumeric) {
      const shownValues = values.sort().slice(0, 6).join(', ');
      return `the column holds ${many} distinct values (${shownValues}${values.length > 6 ? ', …' : ''}): set ${this.#field}.type: multiclass to predict one of them (a cold-start job); for a binary label, set ${this.#field}.positive and ${this.#field}.negative`;
    }
    values.sort((a, b) => Number(a) - Number(b));
    const holds = `the column holds ${many} distinct numbers (${values.slice(0, 6).join(', ')}${values.length > 6 ? ', …' : ''})`;
    const continuous = `type: continuous to predict the number itself (a spend, a grade)`;
    const multiclass = `type: multiclass if each number is a class`;
    const first =
      !this.#allIntegers || this.#distinct.size > CLASS_CODE_MAX
        ? `${continuous}, or ${multiclass}`
        : `${multiclass}, or ${continuous}`;
    return `${holds}: set ${this.#field}.${first}; for a binary label, set ${this.#field}.positive and ${this.#field}.negative`;
  }
}

function shown(raw: string): string {
  return JSON.stringify(raw.length > 40 ? `${raw.slice(0, 37)}...` : raw);
}
