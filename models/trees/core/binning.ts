/**
 * Quantile binning, each party on its own columns: the only view of a
 * feature that tree training uses. Bin b of a column holds
 * edges[b−1] < x ≤ edges[b] (bin 0: x ≤ edges[0]; the last value bin:
 * x > the last edge); a missing value (NaN) has a bin of its own, after the
 * value bins, so a split can send it either way. Edges are fitted on the
 * training rows only and stay with the party that owns the column: a split
 * on another party's column is known to the label holder by bin number, never
 * by value.
 */

/** Where each column's bins sit in a party's histogram, which is `total` wide. */
export type BinLayout = {
  /** Per column, its value-bin edges (ascending). */
  readonly edges: readonly Float64Array[];
  /** Per column, the index of its first bin in the histogram. */
  readonly offsets: Uint32Array;
  /** Per column, its number of bins: value bins plus the missing bin. */
  readonly counts: Uint32Array;
  readonly total: number;
};

/**
 * Edges for up to `maxBins` value bins per column, from the values at `rows`
 * (row-major X): midpoints between distinct values when there are few
 * (as scikit-learn's HistGradientBoosting does), else midpoints at quantiles.
 */
export function fitEdges(X: Float64Array, columns: number, rows: ArrayLike<number>, maxBins: number): Float64Array[] {
  const edges: Float64Array[] = [];
  const values = new Float64Array(rows.length);
  for (let c = 0; c < columns; c++) {
    let n = 0;
    for (let k = 0; k < rows.length; k++) {
      const v = X[(rows[k] ?? 0) * columns + c] ?? Number.NaN;
      if (!Number.isNaN(v)) values[n++] = v;
    }
    const sorted = values.subarray(0, n).slice().sort();
    const distinct: number[] = [];
    for (let k = 0; k < n; k++) if (k === 0 || sorted[k] !== sorted[k - 1]) distinct.push(sorted[k] ?? 0);
    const cut: number[] = [];
    if (distinct.length <= maxBins) {
      for (let k = 1; k < distinct.length; k++) cut.push(((distinct[k - 1] ?? 0) + (distinct[k] ?? 0)) / 2);
    } else {
      for (let b = 1; b < maxBins; b++) {
        const at = Math.min(n - 1, Math.floor((b * n) / maxBins));
        const below = sorted[at - 1] ?? sorted[at] ?? 0;
        const here = sorted[at] ?? 0;
        const edge = below === here ? here : (below + here) / 2;
        if (cut.length === 0 || edge > (cut[cut.length - 1] ?? -Infinity)) cut.push(edge);
      }
      // A cut at the maximum would leave an empty last bin.
      while (cut.length > 0 && (cut[cut.length - 1] ?? 0) >= (sorted[n - 1] ?? 0)) cut.pop();
    }
    edges.push(Float64Array.from(cut));
  }
  return edges;
}

export function layoutOf(edges: readonly Float64Array[]): BinLayout {
  const offsets = new Uint32Array(edges.length);
  const counts = new Uint32Array(edges.length);
  let total = 0;
  edges.forEach((e, c) => {
    offsets[c] = total;
    counts[c] = e.length + 2;
    total += e.length + 2;
  });
  return { edges, offsets, counts, total };
}

/** The value bin of x among ascending edges (binary search), or the missing bin for NaN. */
export function binOf(x: number, edges: Float64Array): number {
  if (Number.isNaN(x)) return edges.length + 1;
  let lo = 0;
  let hi = edges.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (x <= (edges[mid] ?? 0)) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/** Every row's bin per column (row-major, rows × columns), local to the column (0 … counts[c]−1). */
export function binRows(X: Float64Array, columns: number, edges: readonly Float64Array[]): Uint16Array {
  const rows = columns === 0 ? 0 : X.length / columns;
  const codes = new Uint16Array(rows * columns);
  for (let i = 0; i < rows; i++) {
    for (let c = 0; c < columns; c++)
      codes[i * columns + c] = binOf(X[i * columns + c] ?? Number.NaN, edges[c] ?? new Float64Array(0));
  }
  return codes;
}

/** The value a split at bin `bin` compares with: rows with x ≤ threshold go left. */
export function thresholdOf(edges: Float64Array, bin: number): number {
  return bin < edges.length ? (edges[bin] ?? Infinity) : Infinity;
}
