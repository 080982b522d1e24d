import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { constantCoefficient, fillUniformMask, viewPlaintext } from './plaintext-layout.ts';

/** An uncompressed serialized plaintext of `count` zero residues (SEAL 4.1 layout). */
function blankPlaintext(count: number): Uint8Array {
  const bytes = new Uint8Array(88 + count * 8);
  const view = new DataView(bytes.buffer);
  view.setUint16(0, 0xa15e, true);
  view.setBigUint64(48, BigInt(count), true);
  view.setFloat64(56, 2 ** 40, true);
  return bytes;
}

/** A seeded byte stream standing in for the CSPRNG, so two implementations can draw the same bytes. */
function seededBytes(seed: string): (count: number) => Uint8Array {
  let block = 0;
  return (count) => {
    const out = new Uint8Array(count);
    for (let at = 0; at < count; at += 32) out.set(createHash('sha256').update(`${seed}|${block++}`).digest().subarray(0, Math.min(32, count - at)), at);
    return out;
  };
}

/** The BigInt-per-residue form this module had before: the reference. */
function referenceMask(data: DataView, n: number, moduli: readonly bigint[], nInverse: bigint, randomBytes: (count: number) => Uint8Array): bigint {
  for (let k = 0; k < moduli.length; k++) {
    const q = moduli[k] ?? 0n;
    const keep = (1n << BigInt(q.toString(2).length)) - 1n;
    let pool = randomBytes(n * 8);
    let next = 0;
    for (let i = 0; i < n; i++) {
      let value: bigint;
      do {
        if (next === pool.byteLength) {
          pool = randomBytes(n * 8);
          next = 0;
        }
        value = new DataView(pool.buffer, pool.byteOffset).getBigUint64(next, true) & keep;
        next += 8;
      } while (value >= q);
      data.setBigUint64((k * n + i) * 8, value, true);
    }
  }
  let sum = 0n;
  for (let i = 0; i < n; i++) sum += data.getBigUint64(i * 8, true);
  const q0 = moduli[0] ?? 1n;
  return ((sum % q0) * nInverse) % q0;
}

describe('fillUniformMask and constantCoefficient', () => {
  // A 60-bit and a 40-bit modulus just above a power of two (about half the draws rejected), and a 33-bit one.
  const moduli = [(1n << 59n) + 1234567n, (1n << 39n) + 99n, (1n << 32n) + 15n];
  const n = 4096;
  const nInverse = 987654321987n;

  it('draws the same residues and the same constant coefficient as the BigInt form, from the same bytes', () => {
    const fast = blankPlaintext(n * moduli.length);
    const reference = blankPlaintext(n * moduli.length);

    const constant = fillUniformMask(viewPlaintext(fast), n, moduli, nInverse, seededBytes('mask'));
    const expected = referenceMask(viewPlaintext(reference).data, n, moduli, nInverse, seededBytes('mask'));

    expect(constant).toBe(expected);
    expect(Buffer.from(fast).equals(Buffer.from(reference))).toBe(true);
    expect(constantCoefficient(viewPlaintext(fast), n, moduli[0] as bigint, nInverse)).toBe(expected);
    const data = viewPlaintext(fast).data;
    for (let k = 0; k < moduli.length; k++) {
      const residues = Array.from({ length: n }, (_, i) => data.getBigUint64((k * n + i) * 8, true));
      expect(residues.every((r) => r < (moduli[k] as bigint))).toBe(true);
      // Uniform below q: about half the residues are in its upper half.
      const upper = residues.filter((r) => r >= (moduli[k] as bigint) / 2n).length / n;
      expect(upper).toBeGreaterThan(0.45);
      expect(upper).toBeLessThan(0.55);
    }
  });
});
