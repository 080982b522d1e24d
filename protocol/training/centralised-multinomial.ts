/**
 * Exact centralised multinomial (softmax) logistic regression on pooled
 * data: Newton's method on all K classes' weights with an L2 penalty on the
 * weights (not the intercepts), as scikit-learn's `LogisticRegression`
 * (multinomial, lbfgs) fits it. The accuracy bar for cold-start jobs: tests
 * and benchmarks fit it on the same joined columns and split, in process.
 */
import { choleskySolve, dampedStep, type NewtonOptions } from './centralised.ts';

export type MultinomialModel = {
  /** Class-major: `weights[c·columns + j]`. */
  readonly weights: Float64Array;
  readonly intercepts: Float64Array;
  readonly classes: number;
  readonly iterations: number;
};

/** Softmax of one row's logits, in place, stable for large logits. */
export function softmaxInPlace(z: Float64Array): Float64Array {
  let max = -Infinity;
  for (const v of z) max = Math.max(max, v);
  let sum = 0;
  for (let c = 0; c < z.length; c++) {
    z[c] = Math.exp((z[c] ?? 0) - max);
    sum += z[c] ?? 0;
  }
  for (let c = 0; c < z.length; c++) z[c] = (z[c] ?? 0) / sum;
  return z;
}

/**
 * Fits on the given rows of a row-major matrix.
 * @param labels class index 0..classes-1 per row of X
 */
export function fitMultinomialNewton(
  X: Float64Array,
  columns: number,
  labels: ArrayLike<number>,
  classes: number,
  rows: ArrayLike<number>,
  options: NewtonOptions = {},
): MultinomialModel {
  const l2 = options.l2 ?? 1e-4;
  const maxIterations = options.maxIterations ?? 50;
  const tolerance = options.tolerance ?? 1e-10;
  const q = columns + 1; // per class: weights, then the intercept
  const P = classes * q;
  const beta = new Float64Array(P);
  const x = new Float64Array(q);
  const p = new Float64Array(classes);
  const n = rows.length;
  let iterations = 0;
  for (; iterations < maxIterations; iterations++) {
    const gradient = new Float64Array(P);
    const hessian = new Float64Array(P * P);
    for (let r = 0; r < n; r++) {
      const row = rows[r] ?? 0;
      for (let j = 0; j < columns; j++) x[j] = X[row * columns + j] ?? 0;
      x[columns] = 1;
      for (let c = 0; c < classes; c++) {
        let z = 0;
        for (let j = 0; j < q; j++) z += (x[j] ?? 0) * (beta[c * q + j] ?? 0);
        p[c] = z;
      }
      softmaxInPlace(p);
      const y = labels[row] ?? 0;
      for (let c = 0; c < classes; c++) {
        const pc = p[c] ?? 0;
        const residual = pc - (c === y ? 1 : 0);
        for (let j = 0; j < q; j++) gradient[c * q + j] = (gradient[c * q + j] ?? 0) + residual * (x[j] ?? 0);
        // ∂²/∂β_c∂β_d = (p_c·[c=d] − p_c·p_d)·x xᵀ; lower triangle only, mirrored below.
        for (let d = 0; d <= c; d++) {
          const w = (c === d ? pc : 0) - pc * (p[d] ?? 0);
          if (w === 0) continue;
          for (let j = 0; j < q; j++) {
            const wx = w * (x[j] ?? 0);
            const at = (c * q + j) * P + d * q;
            for (let k = 0; k < q; k++) hessian[at + k] = (hessian[at + k] ?? 0) + wx * (x[k] ?? 0);
          }
        }
      }
    }
    for (let a = 0; a < P; a++) {
      const penalised = a % q < columns;
      gradient[a] = (gradient[a] ?? 0) / n + (penalised ? l2 * (beta[a] ?? 0) : 0);
      for (let b = 0; b <= a; b++) {
        const h = (hessian[a * P + b] ?? 0) / n + (a === b && penalised ? l2 : 0);
        hessian[a * P + b] = h;
        hessian[b * P + a] = h;
      }
      // Intercepts are free to shift together: a small ridge on them keeps the system solvable without moving the fit.
      hessian[a * P + a] = (hessian[a * P + a] ?? 0) + (penalised ? 1e-12 : 1e-9);
    }
    const step = choleskySolve(hessian, gradient, P);
    const objective = (b: Float64Array): number => {
      let loss = 0;
      const z = new Float64Array(classes);
      for (let r = 0; r < n; r++) {
        const row = rows[r] ?? 0;
        let max = -Infinity;
        for (let c = 0; c < classes; c++) {
          let s = b[c * q + columns] ?? 0;
          for (let j = 0; j < columns; j++) s += (X[row * columns + j] ?? 0) * (b[c * q + j] ?? 0);
          z[c] = s;
          max = Math.max(max, s);
        }
        let sum = 0;
        for (let c = 0; c < classes; c++) sum += Math.exp((z[c] ?? 0) - max);
        loss += max + Math.log(sum) - (z[labels[row] ?? 0] ?? 0);
      }
      let penalty = 0;
      for (let a = 0; a < P; a++) if (a % q < columns) penalty += (b[a] ?? 0) ** 2;
      return loss / n + (l2 / 2) * penalty;
    };
    const largest = dampedStep(beta, step, gradient, objective);
    if (largest < tolerance) {
      iterations += 1;
      break;
    }
  }
  const weights = new Float64Array(classes * columns);
  const intercepts = new Float64Array(classes);
  for (let c = 0; c < classes; c++) {
    weights.set(beta.subarray(c * q, c * q + columns), c * columns);
    intercepts[c] = beta[c * q + columns] ?? 0;
  }
  return { weights, intercepts, classes, iterations };
}

/** Class probabilities of the given rows, row-major `rows × classes`. */
export function multinomialProbabilities(
  model: MultinomialModel,
  X: Float64Array,
  columns: number,
  rows: ArrayLike<number>,
): Float64Array {
  const out = new Float64Array(rows.length * model.classes);
  const z = new Float64Array(model.classes);
  for (let r = 0; r < rows.length; r++) {
    const row = rows[r] ?? 0;
    for (let c = 0; c < model.classes; c++) {
      let s = model.intercepts[c] ?? 0;
      for (let j = 0; j < columns; j++) s += (X[row * columns + j] ?? 0) * (model.weights[c * columns + j] ?? 0);
      z[c] = s;
    }
    out.set(softmaxInPlace(z), r * model.classes);
  }
  return out;
}
