/**
 * Per-party decorrelation (ZCA-style whitening) of a party's own
 * standardised features, fitted on its own training rows: a local linear
 * change of basis that makes first-order training converge in a few epochs
 * where correlated columns would otherwise need hundreds.
 *
 * Why: FATE's vehicle data (4 classes, 18 highly correlated columns) needs
 * ≥ 200 epochs of Adam to get within 0.02 of the exact multinomial fit;
 * after each party decorrelates its own columns it gets there in 10–20
 * (plaintext simulation over 9 splits: within 0.008 of the centralised
 * multinomial fit on average, README "Cold start"). Each party
 * trains weights v on X·W and keeps w = W·v on its standardised columns, so
 * the model, its export and its scoring are unchanged: z = x·w = (x·W)·v.
 * Cross-party correlation stays (nobody sees the other's columns); the L2
 * penalty applies to v.
 *
 * Local only: W never leaves the party.
 */

/** Eigen-decomposition of a symmetric n×n matrix by cyclic Jacobi rotations: A = V·diag(λ)·Vᵀ. */
export function symmetricEigen(A: Float64Array, n: number): { values: Float64Array; vectors: Float64Array } {
  const a = A.slice();
  const V = new Float64Array(n * n);
  for (let i = 0; i < n; i++) V[i * n + i] = 1;
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0;
    let scale = 0;
    for (let p = 0; p < n; p++) {
      scale += (a[p * n + p] ?? 0) ** 2;
      for (let q = p + 1; q < n; q++) off += (a[p * n + q] ?? 0) ** 2;
    }
    if (off <= 1e-30 * Math.max(scale, 1e-300)) break;
    for (let p = 0; p < n; p++) {
      for (let q = p + 1; q < n; q++) {
        const apq = a[p * n + q] ?? 0;
        if (apq === 0) continue;
        const theta = ((a[q * n + q] ?? 0) - (a[p * n + p] ?? 0)) / (2 * apq);
        const t = (theta >= 0 ? 1 : -1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < n; k++) {
          const akp = a[k * n + p] ?? 0;
          const akq = a[k * n + q] ?? 0;
          a[k * n + p] = c * akp - s * akq;
          a[k * n + q] = s * akp + c * akq;
        }
        for (let k = 0; k < n; k++) {
          const apk = a[p * n + k] ?? 0;
          const aqk = a[q * n + k] ?? 0;
          a[p * n + k] = c * apk - s * aqk;
          a[q * n + k] = s * apk + c * aqk;
        }
        for (let k = 0; k < n; k++) {
          const vkp = V[k * n + p] ?? 0;
          const vkq = V[k * n + q] ?? 0;
          V[k * n + p] = c * vkp - s * vkq;
          V[k * n + q] = s * vkp + c * vkq;
        }
      }
    }
  }
  return { values: Float64Array.from({ length: n }, (_, i) => a[i * n + i] ?? 0), vectors: V };
}

export type Decorrelation = {
  /** n×n, row-major: whitened row = row·W. */
  readonly W: Float64Array;
  readonly columns: number;
};

/**
 * Fits W = V·diag(1/√(λ + ridge)) from the second moments of the training
 * rows (standardised features have mean ≈ 0). At most `maxRows` evenly
 * spaced training rows are used: W need not be exact, only well conditioned.
 *
 * The ridge (default 0.3, in units of a standardised column's variance)
 * caps how much a near-degenerate direction is stretched (≤ 1/√0.3 ≈ 1.8×):
 * with 0.01, breast's 30 collinear columns had their noise directions
 * stretched 10× and the validation AUC fell (9 splits, plaintext twin: mean
 * 0.981 at 0.01, 0.984 at 0.3; vehicle accuracy 0.802 and 0.804).
 */
export function fitDecorrelation(
  X: Float64Array,
  columns: number,
  rows: ArrayLike<number>,
  options: { ridge?: number | undefined; maxRows?: number | undefined } = {},
): Decorrelation {
  const ridge = options.ridge ?? 0.3;
  const n = columns;
  const step = Math.max(1, Math.ceil(rows.length / (options.maxRows ?? 20_000)));
  const C = new Float64Array(n * n);
  let count = 0;
  for (let r = 0; r < rows.length; r += step) {
    const base = (rows[r] ?? 0) * n;
    for (let i = 0; i < n; i++) {
      const xi = X[base + i] ?? 0;
      if (xi === 0) continue;
      for (let j = i; j < n; j++) C[i * n + j] = (C[i * n + j] ?? 0) + xi * (X[base + j] ?? 0);
    }
    count += 1;
  }
  for (let i = 0; i < n; i++) {
    for (let j = i; j < n; j++) {
      const c = (C[i * n + j] ?? 0) / Math.max(count, 1);
      C[i * n + j] = c;
      C[j * n + i] = c;
    }
  }
  const { values, vectors } = symmetricEigen(C, n);
  const W = new Float64Array(n * n);
  for (let j = 0; j < n; j++) {
    const f = 1 / Math.sqrt(Math.max(values[j] ?? 0, 0) + ridge);
    for (let i = 0; i < n; i++) W[i * n + j] = (vectors[i * n + j] ?? 0) * f;
  }
  return { W, columns: n };
}

/** X·W for every row (a new matrix). */
export function decorrelateRows(d: Decorrelation, X: Float64Array): Float64Array {
  const n = d.columns;
  const rows = n === 0 ? 0 : X.length / n;
  const out = new Float64Array(X.length);
  for (let r = 0; r < rows; r++) {
    const base = r * n;
    for (let i = 0; i < n; i++) {
      const xi = X[base + i] ?? 0;
      if (xi === 0) continue;
      for (let j = 0; j < n; j++) out[base + j] = (out[base + j] ?? 0) + xi * (d.W[i * n + j] ?? 0);
    }
  }
  return out;
}

/** Weights on the standardised columns from weights on the decorrelated ones: w = W·v. */
export function correlatedWeights(d: Decorrelation, v: ArrayLike<number>): Float64Array {
  const n = d.columns;
  const w = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let j = 0; j < n; j++) s += (d.W[i * n + j] ?? 0) * (v[j] ?? 0);
    w[i] = s;
  }
  return w;
}
