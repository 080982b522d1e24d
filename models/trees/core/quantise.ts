/**
 * Gradients as integers, so that sums over rows are exact in any order and
 * survive arithmetic modulo 2^32 (the secret-shared histograms): each value
 * times a scale chosen so that no sum over any set of rows can reach 2^31,
 * rounded up or down at random in proportion (stochastic rounding, as in
 * SecureBoost+ and LightGBM's quantised training): unbiased, and with the
 * label holder's seeded randomness the plaintext twin quantises alike.
 */
import type { Random } from '../../../protocol/random.ts';

/** Sums of |v|·scale over any rows stay below this (plus one per row for rounding). */
const BUDGET = 2 ** 30;

export type Quantised = { readonly values: Int32Array; readonly scale: number };

/** `values` at `rows` (others are 0) as integers; `scale` maps them back (v ≈ q / scale). */
export function quantise(values: Float64Array, rows: Uint32Array, random: Random): Quantised {
  let sum = 0;
  for (const r of rows) sum += Math.abs(values[r] ?? 0);
  if (rows.length >= BUDGET) throw new RangeError(`cannot quantise ${rows.length} rows into 32-bit sums`);
  const scale = sum > 0 ? (BUDGET - rows.length) / sum : 1;
  const out = new Int32Array(values.length);
  for (const r of rows) {
    const x = (values[r] ?? 0) * scale;
    const floor = Math.floor(x);
    out[r] = floor + (random.nextFloat() < x - floor ? 1 : 0);
  }
  return { values: out, scale };
}
