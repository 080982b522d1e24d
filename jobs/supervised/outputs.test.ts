import { describe, expect, it } from 'vitest';
import { DataError } from '../../protocol/errors.ts';
import { checkClassSizes, checkLabelVaries, MIN_CLASS_TRAINING_ROWS } from './outputs.ts';

describe('the class-size guard of multi-class jobs', () => {
  const classes = ['bus', 'opel', 'saab', 'van'];
  const aligned = Uint32Array.from({ length: 40 }, (_, i) => i);
  const train = Uint32Array.from({ length: 32 }, (_, i) => i);

  it('lets through a label whose every class has enough training rows', () => {
    const labels = Int32Array.from(aligned, (i) => i % 4);
    expect(() => checkClassSizes(labels, train, aligned, classes, 'brand.csv', 'y')).not.toThrow();
  });

  it('refuses, naming every class with too few rows and its count, the file and the column', () => {
    const labels = Int32Array.from(aligned, (i) => (i < 3 ? 2 : i < 4 ? 3 : i % 2));
    let error: unknown;
    try {
      checkClassSizes(labels, train, aligned, classes, 'brand.csv', 'y');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(DataError);
    expect((error as DataError).code).toBe('DATA_LABEL_INVALID');
    expect((error as DataError).message).toContain(
      `2 of the label's 4 classes have fewer than ${MIN_CLASS_TRAINING_ROWS} training rows`,
    );
    expect((error as DataError).message).toContain('"saab": 3, "van": 1');
    expect((error as DataError).message).toMatch(/^brand\.csv, column "y": .* Fix: merge rare classes/);
  });

  it('does not apply to binary labels', () => {
    expect(() => checkClassSizes(new Int32Array(40), train, aligned, ['no', 'yes'], 'brand.csv', 'y')).not.toThrow();
  });
});

describe("the guest's check that its label varies", () => {
  const aligned = Uint32Array.from({ length: 10 }, (_, i) => i);
  const train = Uint32Array.from({ length: 8 }, (_, i) => i);
  it('refuses a label of one value on the training rows, naming the value, file and column', () => {
    expect(() =>
      checkLabelVaries(
        new Int32Array(10).fill(1),
        train,
        aligned,
        (v) => JSON.stringify(['no', 'yes'][v]),
        'brand.csv',
        'churned',
      ),
    ).toThrow(
      /^brand\.csv, column "churned": every one of the 8 training rows among the shared rows has the label "yes", so there is nothing to learn/,
    );
  });
  it('lets a varying label through', () => {
    expect(() =>
      checkLabelVaries(
        Int32Array.from(aligned, (i) => i % 2),
        train,
        aligned,
        String,
        'brand.csv',
        'y',
      ),
    ).not.toThrow();
  });
});
