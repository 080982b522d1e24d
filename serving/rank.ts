/**
 * Ranking a pool's scores, best first, ties by position: an LSD radix sort
 * on the scores' IEEE-754 bits (four 16-bit digits), stable, so equal scores
 * keep their file order. Same order as sorting positions with
 * `(a, b) => s[b] - s[a] || a - b`, without a comparator call per
 * comparison: on a million rows that comparator sort alone took longer than
 * reading and scoring the file. Keys travel with the positions, so every
 * pass reads sequentially.
 */

/** 16-bit digits, four passes (8-bit digits, eight passes, measured no faster). */
const DIGIT_BITS = 16;
const RADIX = 1 << DIGIT_BITS;
const MASK = RADIX - 1;

/** Positions 0..n-1 ordered by descending score, ties by ascending position. Scores must not be NaN. */
export function rankDescending(scores: Float64Array): Uint32Array {
  const n = scores.length;
  const bits = new Float64Array(n);
  // -0 and 0 are equal scores: fold -0 into 0 so their bits agree.
  for (let i = 0; i < n; i++) bits[i] = (scores[i] ?? 0) + 0;
  const words = new Uint32Array(bits.buffer);
  let hi = new Uint32Array(n);
  let lo = new Uint32Array(n);
  let order = new Uint32Array(n);
  for (let i = 0; i < n; i++) {
    // Ascending keys for descending scores: a negative score keeps its bits (sign set: after every
    // positive; larger magnitude, later); a positive one flips all but the sign (larger, earlier).
    let h = words[2 * i + 1] ?? 0;
    let l = words[2 * i] ?? 0;
    if (h >>> 31 === 0) {
      h = (~h & 0x7fffffff) >>> 0;
      l = ~l >>> 0;
    }
    hi[i] = h;
    lo[i] = l;
    order[i] = i;
  }
  let nextHi = new Uint32Array(n);
  let nextLo = new Uint32Array(n);
  let nextOrder = new Uint32Array(n);
  const counts = new Uint32Array(RADIX);
  for (let pass = 0; pass < 64 / DIGIT_BITS; pass++) {
    const digits = pass >= 32 / DIGIT_BITS ? hi : lo;
    const shift = (pass * DIGIT_BITS) % 32;
    counts.fill(0);
    for (let i = 0; i < n; i++) {
      const d = ((digits[i] ?? 0) >>> shift) & MASK;
      counts[d] = (counts[d] ?? 0) + 1;
    }
    // A digit every key shares does not reorder anything.
    if (counts.includes(n)) continue;
    let sum = 0;
    for (let d = 0; d < RADIX; d++) {
      const c = counts[d] ?? 0;
      counts[d] = sum;
      sum += c;
    }
    for (let i = 0; i < n; i++) {
      const d = ((digits[i] ?? 0) >>> shift) & MASK;
      const at = counts[d] ?? 0;
      counts[d] = at + 1;
      nextOrder[at] = order[i] ?? 0;
      nextHi[at] = hi[i] ?? 0;
      nextLo[at] = lo[i] ?? 0;
    }
    [order, nextOrder] = [nextOrder, order];
    [hi, nextHi] = [nextHi, hi];
    [lo, nextLo] = [nextLo, lo];
  }
  return order;
}
