/**
 * Arithmetic modulo 2^32 for secret-shared histograms (../secure-histogram.ts):
 * shares are uint32 words (the matrix products are in ../share-matrix.ts).
 * `| 0` keeps a sum's low 32 bits, so every result is exact modulo 2^32;
 * quantised gradients keep true sums below 2^31, so a combined histogram
 * reads back as int32.
 */

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
