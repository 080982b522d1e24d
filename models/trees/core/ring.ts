/**
 * Arithmetic modulo 2^32 for secret-shared histograms (../secure-histogram.ts):
 * shares are uint32 words; a histogram is Σ_rows bins[row]·x[row] with bins a
 * rows × width word matrix. Math.imul keeps the low 32 bits of a product and
 * `| 0` of a sum, so every result is exact modulo 2^32; quantised gradients
 * keep true sums below 2^31, so a combined histogram reads back as int32.
 */

/**
 * For each vector x (rows words, a row's value as uint32/int32 bits), the
 * `width` sums Σ_r M[r·width + k]·x[r] mod 2^32. Rows where every x is zero
 * are skipped (a caller that knows they are zero saves the work).
 */
export function matrixTransposeTimes(
  M: Uint32Array,
  width: number,
  xs: readonly Int32Array[],
  rowsOf?: Uint32Array,
): Int32Array[] {
  const rows = width === 0 ? 0 : M.length / width;
  const out = xs.map(() => new Int32Array(width));
  const visit = (r: number): void => {
    const base = r * width;
    for (let v = 0; v < xs.length; v++) {
      const x = (xs[v] as Int32Array)[r] ?? 0;
      if (x === 0) continue;
      const acc = out[v] as Int32Array;
      for (let k = 0; k < width; k++) acc[k] = ((acc[k] ?? 0) + Math.imul(M[base + k] ?? 0, x)) | 0;
    }
  };
  if (rowsOf === undefined) for (let r = 0; r < rows; r++) visit(r);
  else for (const r of rowsOf) visit(r);
  return out;
}

/** a + b (+ c) mod 2^32, as int32. */
export function addWords(a: Int32Array, b: Int32Array | Uint32Array, c?: Int32Array | Uint32Array): Int32Array {
  const out = new Int32Array(a.length);
  for (let k = 0; k < a.length; k++) out[k] = ((a[k] ?? 0) + (b[k] ?? 0) + (c?.[k] ?? 0)) | 0;
  return out;
}

/** a − b mod 2^32. */
export function subtractWords(a: Int32Array | Uint32Array, b: Int32Array | Uint32Array): Int32Array {
  const out = new Int32Array(a.length);
  for (let k = 0; k < a.length; k++) out[k] = ((a[k] ?? 0) - (b[k] ?? 0)) | 0;
  return out;
}
