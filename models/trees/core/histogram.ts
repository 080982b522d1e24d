/**
 * Histograms of quantised gradients: per (column, bin) of a party, the sums
 * of g and of h over a node's rows. Gradients are integers (quantise.ts), so
 * every sum is exact: the label holder's own histograms, the secret-shared
 * ones of another party's columns (../secure-histogram.ts) and the plaintext
 * twin's are the same numbers, and a larger child's histogram is its
 * parent's minus its sibling's with nothing lost.
 */
import type { BinLayout } from './binning.ts';

/** A node's histogram: g sums in [0, total), h sums in [total, 2·total). */
export type Histogram = Float64Array;

/**
 * Sums of gq and hq over `rows` (indices into the codes' rows and into gq/hq).
 * `codes` is row-major rows × columns of column-local bins.
 */
export function histogramOf(
  codes: Uint16Array,
  layout: BinLayout,
  rows: Uint32Array,
  gq: Int32Array,
  hq: Int32Array,
): Histogram {
  const columns = layout.offsets.length;
  const total = layout.total;
  const out = new Float64Array(2 * total);
  for (const row of rows) {
    const g = gq[row] ?? 0;
    const h = hq[row] ?? 0;
    const base = row * columns;
    for (let c = 0; c < columns; c++) {
      const k = (layout.offsets[c] ?? 0) + (codes[base + c] ?? 0);
      out[k] = (out[k] ?? 0) + g;
      out[total + k] = (out[total + k] ?? 0) + h;
    }
  }
  return out;
}

/** parent − child, bin by bin: the sibling's histogram. */
export function subtract(parent: Histogram, child: Histogram): Histogram {
  const out = new Float64Array(parent.length);
  for (let k = 0; k < parent.length; k++) out[k] = (parent[k] ?? 0) - (child[k] ?? 0);
  return out;
}
