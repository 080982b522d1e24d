import { describe, expect, it } from 'vitest';
import { rankDescending } from './rank.ts';

/** The reference order: a comparator sort of positions. */
const reference = (s: Float64Array): number[] =>
  Array.from(s.keys()).sort((a, b) => (s[b] ?? 0) - (s[a] ?? 0) || a - b);

describe('rankDescending', () => {
  it('orders by descending score with ties in file order, as a comparator sort does', () => {
    // Seeded: positives, negatives, zeros of both signs, repeats, extremes and subnormals.
    let state = 12345;
    const next = (): number => (state = (state * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const special = [
      0,
      -0,
      1,
      -1,
      Number.MAX_VALUE,
      -Number.MAX_VALUE,
      Number.MIN_VALUE,
      -Number.MIN_VALUE,
      Infinity,
      -Infinity,
      1e-300,
      -1e-300,
    ];
    const scores = Float64Array.from({ length: 20_000 }, (_, i) =>
      i % 7 === 0
        ? (special[i % special.length] ?? 0)
        : i % 5 === 0
          ? Math.round(next() * 10) - 5
          : (next() - 0.5) * 10 ** Math.floor(next() * 12 - 6),
    );
    expect(Array.from(rankDescending(scores))).toEqual(reference(scores));
  });

  it('handles the empty and one-row pools', () => {
    expect(Array.from(rankDescending(new Float64Array()))).toEqual([]);
    expect(Array.from(rankDescending(Float64Array.of(-2.5)))).toEqual([0]);
  });
});
