import { describe, expect, it } from 'vitest';
import { Random } from '../../protocol/random.ts';
import { prfWords } from './prf.ts';
import { blockCount, heldMatrix, seededMatrix, transposeTimes } from './share-matrix.ts';

/** Σ_r M[r][k]·x[r] mod 2^32, one multiply at a time, in BigInt. */
function naive(M: Uint32Array, width: number, x: Int32Array, rowsOf?: Uint32Array): Int32Array {
  const out = new Int32Array(width);
  for (const r of rowsOf ?? Array.from(x, (_, i) => i))
    for (let k = 0; k < width; k++)
      out[k] = Number(BigInt.asIntN(32, BigInt(out[k] ?? 0) + BigInt(M[r * width + k] ?? 0) * BigInt(x[r] ?? 0)));
  return out;
}

describe('share matrices', () => {
  const seed = new Uint8Array(32).fill(4);
  const rows = 53;
  const width = 11;
  const whole = prfWords(seed, 'V', rows * width);
  const random = new Random('share-matrix');
  const xs = Array.from({ length: 7 }, () =>
    Int32Array.from({ length: rows }, () => random.nextInt(2 ** 31) - 2 ** 30),
  );

  it('hold or redraw, in blocks of any size, exactly the words of the whole stream', () => {
    for (const [held, per] of [
      [2 ** 20, 5],
      [0, 5],
      [0, 53],
      [2 ** 20, 1],
    ] as const) {
      const m = seededMatrix(seed, 'V', rows, width, held, per);
      expect(m.held).toBe(held > 0);
      const joined = new Uint32Array(rows * width);
      for (let b = 0; b < blockCount(m); b++) joined.set(m.block(b), b * per * width);
      expect(joined).toEqual(whole);
    }
  });

  it('multiply exactly modulo 2^32 for any number of vectors, over all rows or some', () => {
    const rowsOf = Uint32Array.from([0, 4, 5, 6, 20, 52]);
    for (let count = 1; count <= xs.length; count++) {
      const some = xs.slice(0, count);
      for (const m of [seededMatrix(seed, 'V', rows, width, 0, 6), heldMatrix(rows, width, [whole], rows)]) {
        expect(transposeTimes(m, some)).toEqual(some.map((x) => naive(whole, width, x)));
        expect(transposeTimes(m, some, rowsOf)).toEqual(some.map((x) => naive(whole, width, x, rowsOf)));
      }
    }
  });
});
