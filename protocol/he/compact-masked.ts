/**
 * Compact masked sums: half the bytes of a masked ciphertext.
 *
 * The key holder returns only the constant coefficient of the decryption,
 * m₀ = N⁻¹ · Σᵢ (ĉ0ᵢ + ĉ1ᵢ·ŝᵢ) mod q₀ (NTT form; see plaintext-layout.ts).
 * Of the first polynomial ĉ0 it therefore needs only Σᵢ ĉ0ᵢ, so a party
 * sends that one residue, masked with a uniform r, instead of all N:
 *
 *   S₀ = (Σᵢ ĉ0ᵢ + r) mod q₀,  mask constant = N⁻¹·r.
 *
 * The key holder rebuilds a SEAL ciphertext whose ĉ0 is (S₀, 0, …, 0) and
 * decrypts it as usual: the constant coefficient is m₀ + N⁻¹·r.
 *
 * What the key holder sees is ĉ1 (exactly as before) and one uniform residue,
 * strictly less than before (ĉ1 and a uniformly masked ĉ0). A last-level
 * ciphertext is 2·N residues of 8 bytes; this form is N + 1 of them, so the
 * 100 masked sums a host sends per mini-batch go from 13.1 MB to 6.6 MB.
 *
 * Layout: "TMS1" | SEAL ciphertext header (uncompressed, as saved) | S₀ u64 |
 * ĉ1 residues u64[N], little-endian. Only last-level ciphertexts (one prime)
 * have this form.
 */

import { sumResidues } from './plaintext-layout.ts';

const MAGIC = [0x54, 0x4d, 0x53, 0x31]; // "TMS1"
const MAGIC_BYTES = MAGIC.length;
const SEAL_HEADER_BYTES = 16;
const SEAL_SIZE_OFFSET = 8;
const SEAL_COMPRESSION_OFFSET = 5;

/** True when `bytes` is a compact masked sum (not a plain SEAL ciphertext). */
export function isCompactMasked(bytes: Uint8Array): boolean {
  return bytes.byteLength >= MAGIC_BYTES && MAGIC.every((b, i) => bytes[i] === b);
}

/**
 * Compacts a serialized, uncompressed last-level ciphertext (residues of ĉ0
 * then ĉ1 at its end) and masks it. `randomBytes` must be a CSPRNG.
 */
export function compactMasked(
  ciphertext: Uint8Array,
  n: number,
  q0: bigint,
  nInverse: bigint,
  randomBytes: (count: number) => Uint8Array,
): { readonly payload: Uint8Array; readonly maskConstant: bigint } {
  const headerBytes = ciphertext.byteLength - 2 * n * 8;
  checkHeader(ciphertext, headerBytes, ciphertext.byteLength);
  const sum = sumResidues(
    new DataView(ciphertext.buffer, ciphertext.byteOffset, ciphertext.byteLength),
    headerBytes,
    n,
    q0,
  );
  const r = uniformBelow(q0, randomBytes);
  const payload = new Uint8Array(MAGIC_BYTES + headerBytes + 8 + n * 8);
  payload.set(MAGIC, 0);
  payload.set(ciphertext.subarray(0, headerBytes), MAGIC_BYTES);
  new DataView(payload.buffer).setBigUint64(MAGIC_BYTES + headerBytes, (sum + r) % q0, true);
  payload.set(ciphertext.subarray(headerBytes + n * 8), MAGIC_BYTES + headerBytes + 8);
  return { payload, maskConstant: (r * nInverse) % q0 };
}

/**
 * The SEAL ciphertext a compact masked sum stands for: ĉ0 = (S₀, 0, …, 0).
 * Throws RangeError naming what is wrong when the shape does not fit N.
 */
export function inflateMasked(payload: Uint8Array, n: number, q0: bigint): Uint8Array {
  if (!isCompactMasked(payload)) throw new RangeError('not a compact masked sum (bad magic)');
  const headerBytes = payload.byteLength - MAGIC_BYTES - 8 - n * 8;
  const full = new Uint8Array(headerBytes + 2 * n * 8);
  checkHeader(payload.subarray(MAGIC_BYTES), headerBytes, full.byteLength);
  const s0 = new DataView(payload.buffer, payload.byteOffset + MAGIC_BYTES + headerBytes, 8).getBigUint64(0, true);
  if (s0 >= q0) throw new RangeError('compact masked sum: its residue is not below q0');
  full.set(payload.subarray(MAGIC_BYTES, MAGIC_BYTES + headerBytes + 8), 0);
  full.set(payload.subarray(MAGIC_BYTES + headerBytes + 8), headerBytes + n * 8);
  return full;
}

/** The SEAL header must be uncompressed and declare the full ciphertext's size. */
function checkHeader(bytes: Uint8Array, headerBytes: number, fullBytes: number): void {
  if (headerBytes < SEAL_HEADER_BYTES)
    throw new RangeError(`masked sum of ${bytes.byteLength} bytes is too short for N residues`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, headerBytes);
  if (view.getUint8(SEAL_COMPRESSION_OFFSET) !== 0) throw new RangeError('masked sum must be saved uncompressed');
  const declared = view.getBigUint64(SEAL_SIZE_OFFSET, true);
  if (declared !== BigInt(fullBytes))
    throw new RangeError(
      `masked sum declares ${declared} bytes, expected ${fullBytes} (one prime, N residues per polynomial)`,
    );
}

/** A uniform value in [0, q) by rejection sampling on q's bit length. */
function uniformBelow(q: bigint, randomBytes: (count: number) => Uint8Array): bigint {
  const bits = BigInt(q.toString(2).length);
  const keep = (1n << bits) - 1n;
  for (;;) {
    const bytes = randomBytes(8);
    const value = new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true) & keep;
    if (value < q) return value;
  }
}
