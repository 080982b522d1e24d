/**
 * Direct access to the residues of a serialized SEAL Plaintext in NTT form.
 *
 * Two facts make masked decryption cheap and perfectly hiding:
 * 1. For a plaintext polynomial m in NTT form (its values at the N odd powers
 *    of a 2N-th root of unity), the constant coefficient is
 *    m₀ = N⁻¹ · Σᵢ NTT(m)ᵢ (mod q): the other coefficients cancel.
 * 2. For CKKS with real-valued slots, Σ slots = N·m₀ / (2Δ): the slot sum is
 *    the constant coefficient, scaled.
 * So the key holder returns only N⁻¹·Σ residues of a decryption; how a party
 * masks what it sends for that is in compact-masked.ts.
 *
 * Layout (SEAL 4.1, compression none), little-endian:
 * SEALHeader(16) | parms_id(32) | coeff_count u64 | scale f64 |
 * SEALHeader(16) | size u64 | data u64[coeff_count].
 */

const HEADER_BYTES = 16;
const MAGIC = 0xa15e;
const COEFF_COUNT_OFFSET = HEADER_BYTES + 32;
/** Byte offset of the scale (f64) in a serialized plaintext. */
export const SCALE_OFFSET = COEFF_COUNT_OFFSET + 8;
const DATA_OFFSET = SCALE_OFFSET + 8 + HEADER_BYTES + 8;

export type PlaintextView = {
  readonly coeffCount: number;
  readonly scale: number;
  readonly data: DataView;
};

/** Reads the residues of an uncompressed serialized plaintext, checking its shape. */
export function viewPlaintext(bytes: Uint8Array): PlaintextView {
  if (bytes.byteLength < DATA_OFFSET) throw new RangeError('serialized plaintext is too short');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (view.getUint16(0, true) !== MAGIC) throw new RangeError('not a SEAL object (bad magic)');
  if (view.getUint8(5) !== 0) throw new RangeError('serialized plaintext must be uncompressed');
  const coeffCount = Number(view.getBigUint64(COEFF_COUNT_OFFSET, true));
  const scale = view.getFloat64(SCALE_OFFSET, true);
  const expected = DATA_OFFSET + coeffCount * 8;
  if (bytes.byteLength !== expected)
    throw new RangeError(`serialized plaintext has ${bytes.byteLength} bytes, expected ${expected}`);
  return { coeffCount, scale, data: new DataView(bytes.buffer, bytes.byteOffset + DATA_OFFSET, coeffCount * 8) };
}

export function modPow(base: bigint, exponent: bigint, modulus: bigint): bigint {
  let result = 1n;
  let b = base % modulus;
  let e = exponent;
  while (e > 0n) {
    if ((e & 1n) === 1n) result = (result * b) % modulus;
    b = (b * b) % modulus;
    e >>= 1n;
  }
  return result;
}

/** N⁻¹ mod q for prime q (Fermat). */
export function inverseOfN(n: number, q: bigint): bigint {
  return modPow(BigInt(n), q - 2n, q);
}

/**
 * The constant coefficient, mod q₀, of a plaintext in NTT form whose first
 * `n` residues are mod q₀ (further primes, if any, are ignored).
 */
export function constantCoefficient(view: PlaintextView, n: number, q0: bigint, nInverse: bigint): bigint {
  if (view.coeffCount < n) throw new RangeError(`plaintext has ${view.coeffCount} residues, fewer than N=${n}`);
  return (sumResidues(view.data, 0, n, q0) * nInverse) % q0;
}

/**
 * Σ mod q of `n` little-endian 64-bit residues starting at byte `offset`,
 * summed in their low and high 32-bit halves: each half-sum stays below
 * n·2^32, exact in a double for n < 2^21, so no BigInt is made per residue.
 */
export function sumResidues(data: DataView, offset: number, n: number, q: bigint): bigint {
  if (n >= 2 ** 21) throw new RangeError(`N=${n} is too large for exact half-sums`);
  let low = 0;
  let high = 0;
  for (let i = 0; i < n; i++) {
    low += data.getUint32(offset + i * 8, true);
    high += data.getUint32(offset + i * 8 + 4, true);
  }
  return ((BigInt(high) << 32n) + BigInt(low)) % q;
}

/** Maps a residue mod q to the centred integer in (−q/2, q/2]. */
export function centre(value: bigint, q: bigint): bigint {
  const v = ((value % q) + q) % q;
  return v > q / 2n ? v - q : v;
}

/** Converts an unmasked constant coefficient to the sum of the slots it encodes. */
export function slotSumFromConstant(centred: bigint, n: number, scale: number): number {
  return (Number(centred) * n) / (2 * scale);
}
