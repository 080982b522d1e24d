/**
 * Differential-privacy accounting for noisy mini-batch training: Rényi DP
 * of the subsampled Gaussian mechanism (Mironov, Talwar & Zhang 2019,
 * integer orders), composed over steps, converted to (ε, δ) with the
 * tighter bound of Balle et al. 2020.
 *
 * Tandem's batches are a seeded shuffle cut into fixed-size pieces, not
 * Poisson samples; like most DP-SGD libraries we account them with the
 * Poisson rate q = batch / n. This is the usual approximation, stated in
 * the docs rather than hidden.
 */

/** Orders α at which RDP is evaluated; ε is minimised over them. */
export const ORDERS: readonly number[] = Object.freeze([
  ...Array.from({ length: 63 }, (_, k) => k + 2),
  80,
  96,
  128,
  160,
  192,
  256,
]);

function logAdd(a: number, b: number): number {
  if (a === -Infinity) return b;
  if (b === -Infinity) return a;
  const m = Math.max(a, b);
  return m + Math.log1p(Math.exp(-Math.abs(a - b)));
}

function logBinomial(n: number, k: number): number {
  let s = 0;
  for (let i = 1; i <= k; i++) s += Math.log(n - k + i) - Math.log(i);
  return s;
}

/** RDP ε(α) of one step of the Gaussian mechanism (sensitivity 1, noise σ = z) on a q-subsample. */
export function subsampledGaussianRdp(q: number, z: number, alpha: number): number {
  if (!(z > 0)) return Infinity;
  if (q >= 1) return alpha / (2 * z * z);
  if (q <= 0) return 0;
  // log Σ_k C(α,k) (1−q)^(α−k) q^k exp((k² − k) / (2z²))
  let logA = -Infinity;
  for (let k = 0; k <= alpha; k++) {
    const term = logBinomial(alpha, k) + (alpha - k) * Math.log1p(-q) + k * Math.log(q) + (k * k - k) / (2 * z * z);
    logA = logAdd(logA, term);
  }
  return logA / (alpha - 1);
}

/** (ε, δ) after `steps` steps and, optionally, extra RDP curves (e.g. one release of evaluation scores). */
export function epsilonFor(options: {
  readonly q: number;
  readonly noiseMultiplier: number;
  readonly steps: number;
  readonly delta: number;
  readonly extra?: ((alpha: number) => number) | undefined;
}): { epsilon: number; order: number } {
  let best = { epsilon: Infinity, order: 0 };
  for (const alpha of ORDERS) {
    const rdp =
      options.steps * subsampledGaussianRdp(options.q, options.noiseMultiplier, alpha) + (options.extra?.(alpha) ?? 0);
    const epsilon = rdp + Math.log((alpha - 1) / alpha) - (Math.log(options.delta) + Math.log(alpha)) / (alpha - 1);
    if (epsilon < best.epsilon) best = { epsilon: Math.max(0, epsilon), order: alpha };
  }
  return best;
}

/** RDP of one (non-subsampled) Gaussian release with noise multiplier z. */
export function gaussianRdp(z: number): (alpha: number) => number {
  return (alpha) => alpha / (2 * z * z);
}

/**
 * The smallest noise multiplier (to 0.1 %) that keeps ε ≤ `epsilon` after
 * `steps` steps. Returns undefined when even z = 1000 cannot.
 */
export function calibrateNoise(options: {
  readonly epsilon: number;
  readonly delta: number;
  readonly q: number;
  readonly steps: number;
  readonly extra?: (z: number) => (alpha: number) => number;
}): number | undefined {
  const eps = (z: number): number =>
    epsilonFor({
      q: options.q,
      noiseMultiplier: z,
      steps: options.steps,
      delta: options.delta,
      extra: options.extra?.(z),
    }).epsilon;
  let high = 1;
  while (eps(high) > options.epsilon) {
    high *= 2;
    if (high > 1000) return undefined;
  }
  let low = high / 2;
  if (eps(low) <= options.epsilon) low = 0;
  while (high - low > high * 1e-3) {
    const mid = (low + high) / 2;
    if (eps(mid) <= options.epsilon) high = mid;
    else low = mid;
  }
  return high;
}
