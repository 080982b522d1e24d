/**
 * The best split of a node over one party's columns, from its histogram:
 * XGBoost's gain ½[G_L²/(H_L+λ) + G_R²/(H_R+λ) − G²/(H+λ)] − γ, every bin
 * boundary of every column, with the missing bin tried on each side (the
 * learned default direction). Pure and deterministic: ties keep the first
 * candidate in column, then bin order, so the federated model and its
 * plaintext twin choose alike.
 */
import type { BinLayout } from './binning.ts';
import type { Histogram } from './histogram.ts';

export type SplitRule = {
  /** L2 regularisation of leaf values. */
  readonly lambda: number;
  /** Minimum gain for a split to be kept. */
  readonly gamma: number;
  /** Minimum sum of h in each child. */
  readonly minChildWeight: number;
};

/** A candidate: rows with the column's bin ≤ `bin` go left, missing values as `missingLeft` says. */
export type SplitChoice = {
  readonly gain: number;
  readonly column: number;
  readonly bin: number;
  readonly missingLeft: boolean;
};

/**
 * `scaleG`/`scaleH` turn quantised sums back into gradient units; `G`/`H` are
 * the node's quantised totals.
 */
export function bestSplit(
  hist: Histogram,
  layout: BinLayout,
  G: number,
  H: number,
  scaleG: number,
  scaleH: number,
  rule: SplitRule,
): SplitChoice | undefined {
  const total = layout.total;
  const g = G / scaleG;
  const h = H / scaleH;
  const parent = (g * g) / (h + rule.lambda);
  let best: SplitChoice | undefined;
  for (let c = 0; c < layout.offsets.length; c++) {
    const offset = layout.offsets[c] ?? 0;
    const count = layout.counts[c] ?? 0;
    const missing = offset + count - 1;
    const gMissing = (hist[missing] ?? 0) / scaleG;
    const hMissing = (hist[total + missing] ?? 0) / scaleH;
    let gLeft = 0;
    let hLeft = 0;
    // The last value bin cannot be a threshold: nothing of value would go right.
    for (let b = 0; b < count - 2; b++) {
      gLeft += (hist[offset + b] ?? 0) / scaleG;
      hLeft += (hist[total + offset + b] ?? 0) / scaleH;
      for (const missingLeft of [false, true]) {
        if (missingLeft && hMissing === 0 && gMissing === 0) continue;
        const gl = missingLeft ? gLeft + gMissing : gLeft;
        const hl = missingLeft ? hLeft + hMissing : hLeft;
        const gr = g - gl;
        const hr = h - hl;
        if (hl < rule.minChildWeight || hr < rule.minChildWeight || hl <= 0 || hr <= 0) continue;
        const gain = 0.5 * ((gl * gl) / (hl + rule.lambda) + (gr * gr) / (hr + rule.lambda) - parent) - rule.gamma;
        if (gain > 0 && (best === undefined || gain > best.gain)) best = { gain, column: c, bin: b, missingLeft };
      }
    }
  }
  return best;
}

/** Whether a row with this column-local bin goes left under a split. */
export function goesLeft(
  bin: number,
  split: { readonly bin: number; readonly missingLeft: boolean },
  missingBin: number,
): boolean {
  return bin === missingBin ? split.missingLeft : bin <= split.bin;
}
