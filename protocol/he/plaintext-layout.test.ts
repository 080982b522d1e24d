import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { constantCoefficient, viewPlaintext } from './plaintext-layout.ts';

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
    for (let at = 0; at < count; at += 32)
      out.set(
        createHash('sha256')
          .update(`${seed}|${block++}`)
          .digest()
          .subarray(0, Math.min(32, count - at)),
        at,
      );
    return out;
  };
}

describe('constantCoefficient', () => {
  const q0 = (1n << 59n) + 1234567n;
  const n = 4096;
  const nInverse = 987654321987n;

  it('equals N⁻¹·Σ residues mod q0 computed with BigInt', () => {
    const bytes = blankPlaintext(n);
    const view = viewPlaintext(bytes);
    const draw = seededBytes('residues');
    let sum = 0n;
    for (let i = 0; i < n; i++) {
      const value = new DataView(draw(8).buffer).getBigUint64(0, true) % q0;
      view.data.setBigUint64(i * 8, value, true);
      sum += value;
    }
    expect(constantCoefficient(view, n, q0, nInverse)).toBe(((sum % q0) * nInverse) % q0);
  });
});
