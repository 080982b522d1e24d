import { describe, expect, it } from 'vitest';
import { Random } from '../random.ts';
import { correlatedWeights, decorrelateRows, fitDecorrelation, symmetricEigen } from './decorrelate.ts';

/** n rows of 3 strongly correlated columns (x1 ≈ x0, x2 ≈ x0 + x1), seeded. */
function correlated(n: number): Float64Array {
  const r = new Random('decorrelate-test');
  const X = new Float64Array(n * 3);
  for (let i = 0; i < n; i++) {
    const a = r.nextGaussian();
    const b = a + 0.1 * r.nextGaussian();
    X.set([a, b, a + b + 0.3 * r.nextGaussian()], i * 3);
  }
  return X;
}

describe('decorrelation', () => {
  it('finds eigenpairs of a symmetric matrix: A·v = λ·v', () => {
    const A = Float64Array.from([4, 1, 2, 1, 3, 0, 2, 0, 5]);
    const { values, vectors } = symmetricEigen(A, 3);
    for (let k = 0; k < 3; k++) {
      for (let i = 0; i < 3; i++) {
        const av =
          (A[i * 3] ?? 0) * (vectors[k] ?? 0) +
          (A[i * 3 + 1] ?? 0) * (vectors[3 + k] ?? 0) +
          (A[i * 3 + 2] ?? 0) * (vectors[6 + k] ?? 0);
        expect(av).toBeCloseTo((values[k] ?? 0) * (vectors[i * 3 + k] ?? 0), 10);
      }
    }
    expect([...values].reduce((a, b) => a + b, 0)).toBeCloseTo(12, 10); // the trace
  });

  it('makes the training rows’ second moments the identity (up to the ridge)', () => {
    const n = 2000;
    const X = correlated(n);
    const rows = Uint32Array.from({ length: n }, (_, i) => i);
    const Z = decorrelateRows(fitDecorrelation(X, 3, rows, { ridge: 1e-9 }), X);
    for (let i = 0; i < 3; i++) {
      for (let j = 0; j < 3; j++) {
        let s = 0;
        for (let r = 0; r < n; r++) s += (Z[r * 3 + i] ?? 0) * (Z[r * 3 + j] ?? 0);
        expect(s / n).toBeCloseTo(i === j ? 1 : 0, 6);
      }
    }
  });

  it('maps weights back so every row keeps its score: (x·W)·v = x·(W·v)', () => {
    const X = correlated(50);
    const d = fitDecorrelation(
      X,
      3,
      Uint32Array.from({ length: 50 }, (_, i) => i),
    );
    const Z = decorrelateRows(d, X);
    const v = [0.7, -1.3, 2.1];
    const w = correlatedWeights(d, v);
    for (let r = 0; r < 50; r++) {
      const viaZ = v.reduce((s, vj, j) => s + vj * (Z[r * 3 + j] ?? 0), 0);
      const viaX = [...w].reduce((s, wj, j) => s + wj * (X[r * 3 + j] ?? 0), 0);
      expect(viaX).toBeCloseTo(viaZ, 10);
    }
  });

  it('uses at most maxRows evenly spaced rows, and stays finite for a constant column', () => {
    const X = new Float64Array(30).fill(0);
    for (let r = 0; r < 10; r++) X[r * 3] = r - 4.5;
    const d = fitDecorrelation(
      X,
      3,
      Uint32Array.from({ length: 10 }, (_, i) => i),
      { maxRows: 5 },
    );
    expect([...d.W].every(Number.isFinite)).toBe(true);
  });
});
