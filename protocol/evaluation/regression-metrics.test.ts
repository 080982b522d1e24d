import { describe, expect, it } from 'vitest';
import { fitLeastSquares } from '../training/least-squares.ts';
import { Random } from '../random.ts';
import { regressionReport } from './regression-metrics.ts';

describe('regression metrics and least squares', () => {
  it('reports RMSE, MAE and R² by their definitions', () => {
    const r = regressionReport([1, 2, 4], [1, 3, 5]);
    expect(r.rmse).toBeCloseTo(Math.sqrt(2 / 3), 12);
    expect(r.mae).toBeCloseTo(2 / 3, 12);
    // mean 3, SST = 4 + 0 + 4 = 8, SSE = 2
    expect(r.r2).toBeCloseTo(1 - 2 / 8, 12);
    expect(regressionReport([3, 3, 3], [1, 3, 5]).r2).toBeCloseTo(0, 12);
  });

  it('recovers a linear relation by least squares', () => {
    const random = new Random('ls');
    const n = 500;
    const X = Float64Array.from({ length: n * 2 }, () => random.nextGaussian());
    const y = Float64Array.from(
      { length: n },
      (_, i) => 2 * X[i * 2]! - 0.5 * X[i * 2 + 1]! + 3 + 0.01 * random.nextGaussian(),
    );
    const rows = Uint32Array.from({ length: n }, (_, i) => i);
    const m = fitLeastSquares(X, 2, y, rows, 0);
    expect(m.weights[0]).toBeCloseTo(2, 2);
    expect(m.weights[1]).toBeCloseTo(-0.5, 2);
    expect(m.intercept).toBeCloseTo(3, 2);
  });
});
