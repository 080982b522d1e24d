import { describe, expect, it } from 'vitest';
import { DataError } from '../protocol/errors.ts';
import { loadDataset } from './dataset.ts';
import { DEFAULT_MISSING_TOKENS, type DatasetConfig, type LabelConfig } from '../party/config.ts';
import { LabelCoder } from './labels.ts';

const STUDENT = '/work/shared/data/fate/student_hetero_guest.csv';

function student(label: LabelConfig): DatasetConfig {
  return {
    name: 'grades',
    file: STUDENT,
    delimiter: ',',
    id: { kind: 'column', column: 'id' },
    label,
    features: 'all',
    missing: { policy: 'mean', tokens: DEFAULT_MISSING_TOKENS },
    duplicateIds: 'error',
  };
}

function thrown(fn: () => unknown): DataError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(DataError);
    return error as DataError;
  }
  throw new Error('expected a failure');
}

/** Codes every value (line = position + 2, as in a file with a header), then finishes. */
function code(label: LabelConfig, values: readonly string[]): { codes: number[]; classes: string[] } {
  const coder = new LabelCoder(label, 'labels.csv', 'datasets.d.label');
  const codes = values.map((v, i) => coder.code(v, i + 2));
  const done = coder.finish(label.type === 'continuous' ? Float64Array.from(codes) : Int32Array.from(codes));
  return { codes: [...done.codes], classes: done.classes };
}

describe('continuous labels', () => {
  it('reads the real student grades (0–20) as floats, with no classes', async () => {
    const data = await loadDataset(student({ column: 'y', type: 'continuous' }));

    expect(data.targets).toHaveLength(395);
    expect([...(data.targets ?? []).slice(0, 3)]).toEqual([6, 6, 10]);
    expect(Math.max(...(data.targets ?? []))).toBe(20);
    expect(data.labels).toBeUndefined();
    expect(data.labelClasses).toBeUndefined();
  });

  it('parses decimals and exponents', () => {
    expect(code({ column: 'y', type: 'continuous' }, ['1.5', '-2', '3e2', ' 4 '.trim()]).codes).toEqual([
      1.5, -2, 300, 4,
    ]);
  });

  it('refuses a value that is not a number, naming the row and counting the others like it', () => {
    const error = thrown(() => code({ column: 'y', type: 'continuous' }, ['1.5', 'high', '2', 'low']));

    expect(error).toMatchObject({ code: 'DATA_LABEL_INVALID', line: 3, column: 'y' });
    expect(error.message).toBe(
      'labels.csv, line 3, column "y": "high" is not a number, but datasets.d.label.type is continuous (and 1 more row like it). Fix: correct the row; if the column holds classes, set datasets.d.label.type to binary or multiclass',
    );
  });
});

describe('a numeric label read as binary', () => {
  it('on the real student grades, suggests type: continuous before multiclass instead of only positive/negative', async () => {
    const error = await loadDataset(student({ column: 'y', type: 'binary', positive: '1', negative: '0' })).then(
      () => undefined,
      (e: unknown) => e as DataError,
    );

    expect(error).toMatchObject({ code: 'DATA_LABEL_INVALID', line: 2, column: 'y' });
    expect(error?.message).toContain(
      '"6" is neither the positive value "1" nor the negative value "0" (and 356 more rows like it)',
    );
    expect(error?.message).toContain(
      'Fix: the column holds 18 distinct numbers (0, 4, 5, 6, 7, 8, …): set datasets.grades.label.type: continuous to predict the number itself (a spend, a grade), or type: multiclass if each number is a class',
    );
  });

  it('with a few class codes, suggests multiclass first', () => {
    const error = thrown(() =>
      code({ column: 'y', type: 'binary', positive: '1', negative: '0' }, ['0', '1', '2', '1', '0']),
    );

    expect(error.message).toContain(
      'Fix: the column holds 3 distinct numbers (0, 1, 2): set datasets.d.label.type: multiclass if each number is a class, or type: continuous',
    );
  });

  it('with more than two text values, suggests multiclass (the segments of a cold-start job)', () => {
    const error = thrown(() =>
      code({ column: 'y', type: 'binary', positive: '1', negative: '0' }, [
        'coffee',
        'candy',
        '',
        'milk-powder',
        'coffee',
      ]),
    );

    expect(error).toMatchObject({ line: 2 });
    expect(error.message).toContain(
      '(and 4 more rows like it). Fix: the column holds 3 distinct values (candy, coffee, milk-powder): set datasets.d.label.type: multiclass to predict one of them (a cold-start job); for a binary label, set datasets.d.label.positive and datasets.d.label.negative',
    );
  });

  it('with only two values, keeps asking for positive and negative', () => {
    const error = thrown(() => code({ column: 'y', type: 'binary', positive: '1', negative: '0' }, ['0', '2', '0']));

    expect(error.message).toContain(
      'Fix: set datasets.d.label.positive and datasets.d.label.negative to the values this column uses, or correct the row',
    );
  });
});

describe('binary and multiclass labels', () => {
  it('codes binary values and sorts unlisted classes', () => {
    expect(code({ column: 'y', type: 'binary', positive: 'yes', negative: 'no' }, ['yes', 'no', 'yes'])).toEqual({
      codes: [1, 0, 1],
      classes: ['no', 'yes'],
    });
    expect(code({ column: 'y', type: 'multiclass', classes: undefined }, ['10', '9', '2', '9'])).toEqual({
      codes: [2, 1, 0, 1],
      classes: ['2', '9', '10'],
    });
  });
});
