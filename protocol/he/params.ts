/**
 * CKKS parameters for a job. The coordinator picks them, every party checks
 * them. The default needs no relinearisation or Galois keys: the protocol
 * uses exactly two plaintext multiplications (the guest's residual, then
 * each party's gradient), so two 40-bit rescaling primes suffice.
 */

/** Parameters as written in a job spec. */
export type CkksParamsOptions = {
  /** Ring dimension N; slots per ciphertext = N/2. @default 8192 */
  readonly polyModulusDegree?: number | undefined;
  /** Bit sizes of the coefficient-modulus primes, first (decryption) prime first. @default [60, 40, 40, 60] */
  readonly coeffModulusBits?: readonly number[] | undefined;
  /** log2 of the encoding scale Δ. @default 40 */
  readonly scaleBits?: number | undefined;
};

export type CkksParams = {
  readonly polyModulusDegree: number;
  readonly coeffModulusBits: readonly number[];
  readonly scaleBits: number;
  /** Values per ciphertext (N/2). */
  readonly slots: number;
};

/** SEAL's 128-bit-security bounds on the total modulus size (HE standard). */
const MAX_BITS_128: Readonly<Record<number, number>> = { 4096: 109, 8192: 218, 16384: 438, 32768: 881 };

/** Multiplicative depth the hetero-LR protocol consumes. */
export const REQUIRED_LEVELS = 2;

export function compileCkksParams(options: CkksParamsOptions = {}): CkksParams {
  const polyModulusDegree = options.polyModulusDegree ?? 8192;
  const coeffModulusBits = Object.freeze([...(options.coeffModulusBits ?? [60, 40, 40, 60])]);
  const scaleBits = options.scaleBits ?? 40;
  const problem = checkCkksParams(polyModulusDegree, coeffModulusBits, scaleBits);
  if (problem !== undefined) throw new RangeError(problem);
  return Object.freeze({ polyModulusDegree, coeffModulusBits, scaleBits, slots: polyModulusDegree / 2 });
}

/** Returns why the parameters are unusable, or undefined when they are fine. */
export function checkCkksParams(n: number, bits: readonly number[], scaleBits: number): string | undefined {
  const maxBits = MAX_BITS_128[n];
  if (maxBits === undefined) return `polyModulusDegree must be one of ${Object.keys(MAX_BITS_128).join(', ')}`;
  const total = bits.reduce((sum, b) => sum + b, 0);
  if (total > maxBits)
    return `coefficient modulus of ${total} bits exceeds the 128-bit-security limit of ${maxBits} for N=${n}`;
  // One special prime for key switching plus the decryption prime plus one per level.
  if (bits.length < REQUIRED_LEVELS + 2)
    return `need at least ${REQUIRED_LEVELS + 2} primes (decryption prime, ${REQUIRED_LEVELS} rescaling primes, special prime)`;
  const first = bits[0] ?? 0;
  if (first < scaleBits + 16)
    return `the first prime (${first} bits) must exceed the scale (${scaleBits} bits) by at least 16 bits of headroom`;
  for (const b of bits.slice(1, -1)) {
    if (Math.abs(b - scaleBits) > 0)
      return `rescaling primes must equal the scale (${scaleBits} bits) so scales stay aligned; got ${b}`;
  }
  return undefined;
}

export const DEFAULT_CKKS_PARAMS: CkksParams = compileCkksParams();
