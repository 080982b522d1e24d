/**
 * Exact ridge least squares on pooled columns: the reference for federated
 * linear regression (continuous labels) and the guest-only baseline. Same
 * penalty as the federated model (½·l2·‖w‖² on the mean loss, intercept
 * free), solved in closed form: (XᵀX/n + l2·I) w = Xᵀy/n.
 */
import { choleskySolve } from './centralised.ts';
import type { CentralisedModel } from './centralised.ts';

export function fitLeastSquares(
  X: Float64Array,
  columns: number,
  targets: ArrayLike<number>,
  rows: ArrayLike<number>,
  l2 = 1e-4,
): CentralisedModel {
  const p = columns + 1;
  const A = new Float64Array(p * p);
  const b = new Float64Array(p);
  const x = new Float64Array(p);
  const n = Math.max(1, rows.length);
  for (let r = 0; r < rows.length; r++) {
    const row = rows[r] ?? 0;
    for (let j = 0; j < columns; j++) x[j] = X[row * columns + j] ?? 0;
    x[columns] = 1;
    const y = targets[row] ?? 0;
    for (let j = 0; j < p; j++) {
      const xj = x[j] ?? 0;
      b[j] = (b[j] ?? 0) + xj * y;
      for (let k = 0; k <= j; k++) A[j * p + k] = (A[j * p + k] ?? 0) + xj * (x[k] ?? 0);
    }
  }
  for (let j = 0; j < p; j++) {
    b[j] = (b[j] ?? 0) / n;
    for (let k = 0; k <= j; k++) {
      const v = (A[j * p + k] ?? 0) / n + (j === k && j < columns ? l2 : 0);
      A[j * p + k] = v;
      A[k * p + j] = v;
    }
    A[j * p + j] = (A[j * p + j] ?? 0) + 1e-12;
  }
  const w = choleskySolve(A, b, p);
  return { weights: w.slice(0, columns), intercept: w[columns] ?? 0, iterations: 1 };
}
