/**
 * Differentially private training, as every node derives it from the job
 * spec and the number of training rows (which the guest announces):
 *
 * - each party clips each of its preprocessed feature rows to L2 norm
 *   clip/√P (P parties), so one example's whole feature vector, intercept
 *   included, has norm ≤ √(clip² + 1);
 * - the residual of one example is bounded by B_d = 1.05 (σ ∈ [0, 1], the
 *   Chebyshev link's error < 0.05), so one example moves the joint gradient
 *   sum by at most S = B_d·√(clip² + 1);
 * - the coordinator adds N(0, (z·S)²) to every gradient coordinate it
 *   decrypts, before the party sees it (the party cannot remove it);
 * - z is the smallest noise multiplier for which the subsampled-Gaussian
 *   RDP accountant keeps ε ≤ the declared budget after every planned step;
 *   a budget that no z ≤ 1000 meets is refused before training starts;
 * - validation rows are disjoint from training rows, so the hosts' partial
 *   scores released for evaluation are a separate Gaussian mechanism on
 *   other rows (parallel composition): each host adds N(0, (z_eval·2·c_p·‖w_h‖)²)
 *   with z_eval calibrated to the same ε;
 * - the encrypted loss is not decrypted (it would be another release), so
 *   training runs its planned epochs.
 */
import { calibrateNoise, epsilonFor } from './accountant.ts';

export const RESIDUAL_BOUND = 1.05;

export type DpOptions = { readonly epsilon: number; readonly delta: number; readonly clip: number };

export type DpPlan = DpOptions & {
  readonly q: number;
  readonly steps: number;
  readonly noiseMultiplier: number;
  readonly evaluationNoiseMultiplier: number;
  /** Per-party clipping norm of feature rows. */
  readonly partyClip: number;
  /** Noise standard deviation added to each gradient-sum coordinate, in value units. */
  readonly gradientSigma: number;
  /** ε actually reached by the plan (≤ epsilon). */
  readonly epsilonSpent: number;
};

export class DpBudgetError extends Error {}

export function planDp(
  dp: DpOptions,
  trainRows: number,
  batchSize: number,
  maxEpochs: number,
  parties: number,
): DpPlan {
  const batches = Math.ceil(trainRows / batchSize);
  const q = Math.min(1, batchSize / trainRows);
  const steps = batches * maxEpochs;
  const z = calibrateNoise({ epsilon: dp.epsilon, delta: dp.delta, q, steps });
  const zEval = calibrateNoise({ epsilon: dp.epsilon, delta: dp.delta, q: 1, steps: 1 });
  if (z === undefined || zEval === undefined) {
    throw new DpBudgetError(
      `ε = ${dp.epsilon} (δ = ${dp.delta}) cannot be met in ${steps} steps of ${batchSize} of ${trainRows} rows even with noise 1000× the sensitivity; raise epsilon, or lower maxEpochs`,
    );
  }
  const sensitivity = RESIDUAL_BOUND * Math.sqrt(dp.clip * dp.clip + 1);
  return {
    ...dp,
    q,
    steps,
    noiseMultiplier: z,
    evaluationNoiseMultiplier: zEval,
    partyClip: dp.clip / Math.sqrt(parties),
    gradientSigma: z * sensitivity,
    epsilonSpent: epsilonFor({ q, noiseMultiplier: z, steps, delta: dp.delta }).epsilon,
  };
}

/** Scales every row of a row-major matrix whose L2 norm exceeds `clip` down to it, in place. */
export function clipRows(X: Float64Array, columns: number, clip: number): number {
  let clipped = 0;
  if (columns === 0) return 0;
  for (let base = 0; base < X.length; base += columns) {
    let s = 0;
    for (let j = 0; j < columns; j++) s += (X[base + j] ?? 0) ** 2;
    const norm = Math.sqrt(s);
    if (norm > clip) {
      clipped++;
      const f = clip / norm;
      for (let j = 0; j < columns; j++) X[base + j] = (X[base + j] ?? 0) * f;
    }
  }
  return clipped;
}
