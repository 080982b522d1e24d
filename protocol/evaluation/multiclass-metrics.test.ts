import { describe, expect, it } from 'vitest';
import { confusionMatrix, multiclassReport, predictClasses } from './multiclass-metrics.ts';

/** One-hot score rows for the given predicted classes. */
const oneHot = (predicted: number[], k: number): number[][] =>
  predicted.map((p) => Array.from({ length: k }, (_, c) => (c === p ? 1 : 0)));

describe('multi-class metrics (checked against scikit-learn on the same inputs)', () => {
  // y_true and y_pred as in sklearn.metrics: accuracy_score 0.75, f1_score(average='macro') 7/9,
  // precision_score(average=None) [1, 2/3, 2/3], recall_score(average=None) [1, 2/3, 2/3].
  const truth = [0, 1, 2, 2, 1, 0, 2, 1];
  const predicted = [0, 2, 2, 2, 1, 0, 1, 1];

  it('matches accuracy, per-class precision/recall/F1, macro-F1 and the confusion matrix', () => {
    const r = multiclassReport(oneHot(predicted, 3), truth, 3);
    expect(r.accuracy).toBe(0.75);
    expect(r.macroF1).toBeCloseTo(7 / 9, 12);
    expect(r.perClass.map((c) => c.precision)).toEqual([1, 2 / 3, 2 / 3]);
    expect(r.perClass.map((c) => c.recall)).toEqual([1, 2 / 3, 2 / 3]);
    expect(r.perClass.map((c) => c.support)).toEqual([2, 3, 3]);
    expect(r.confusion).toEqual([
      [2, 0, 0],
      [0, 2, 1],
      [0, 1, 2],
    ]);
  });

  it('reads flat row-major scores the same as rows, and breaks ties towards the lower class', () => {
    const flat = [0.2, 0.5, 0.3, 0.4, 0.4, 0.2];
    expect([...predictClasses(flat, 2, 3)]).toEqual([1, 0]);
    expect([
      ...predictClasses(
        [
          [0.2, 0.5, 0.3],
          [0.4, 0.4, 0.2],
        ],
        2,
        3,
      ),
    ]).toEqual([1, 0]);
  });

  it('counts a class that never occurs and is never predicted as F1 0 in the macro average (zero_division=0)', () => {
    const r = multiclassReport(oneHot([0, 1, 1], 3), [0, 1, 0], 3);
    expect(r.perClass[2]).toEqual({ precision: 0, recall: 0, f1: 0, support: 0 });
    // class 0: precision 1, recall 1/2, F1 2/3; class 1: precision 1/2, recall 1, F1 2/3.
    expect(r.macroF1).toBeCloseTo((2 / 3 + 2 / 3 + 0) / 3, 12);
  });

  it('refuses mismatched shapes, NaN scores and labels outside [0, k)', () => {
    expect(() => predictClasses([1, 2, 3], 2, 2)).toThrow(/needs 4 values/);
    expect(() => predictClasses([Number.NaN, 1], 1, 2)).toThrow(/NaN/);
    expect(() => confusionMatrix([0, 3], [0, 1], 3)).toThrow(/labels\[1\] is 3/);
    expect(() => multiclassReport([1], [0], 1)).toThrow(/k ≥ 2/);
  });
});
