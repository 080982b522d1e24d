import { describe, expect, it } from 'vitest';
import { classMajorWeights, oneVsRestProbabilities } from './one-vs-rest.ts';

describe('one-vs-rest helpers', () => {
  it('turns per-class logits into probabilities that sum to 1, keeping the arg-max', () => {
    const z = Float64Array.from([2, -1, 0.5, -3, -3, -3]);
    const p = oneVsRestProbabilities(z, 3);
    expect(p[0]! + p[1]! + p[2]!).toBeCloseTo(1, 15);
    expect(p[3]! + p[4]! + p[5]!).toBeCloseTo(1, 15);
    expect(p[0]).toBeGreaterThan(p[2]!);
    expect(p[2]).toBeGreaterThan(p[1]!);
    expect(p[3]).toBeCloseTo(1 / 3, 15);
    // σ(2) / (σ(2) + σ(−1) + σ(0.5))
    const s = (x: number) => 1 / (1 + Math.exp(-x));
    expect(p[0]).toBeCloseTo(s(2) / (s(2) + s(-1) + s(0.5)), 15);
  });

  it('stores class weights class-major', () => {
    const part = (w: number[]) => ({
      weights: Float64Array.from(w),
      intercept: 0,
      losses: [],
      epochs: 1,
      lastRound: 1,
    });
    expect([...classMajorWeights([part([1, 2]), part([3, 4]), part([5, 6])])]).toEqual([1, 2, 3, 4, 5, 6]);
  });
});
