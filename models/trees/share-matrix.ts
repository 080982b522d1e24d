/**
 * The rows × width word matrices of secret-shared histograms
 * (secure-histogram.ts): V at the host and the dealer, B − V at the guest.
 * A wide host makes them large (100k rows × 100 columns × 33 bins is 330M
 * words, 1.3 GB), so they live as blocks of rows of about 4 MiB each, never
 * one array: the guest holds the blocks the host sent; V, which both the
 * host and the dealer can redraw from the host's seed, is held while it is
 * small and drawn a block at a time, on each use, once it is not (memory of
 * one block, for about 0.5 s of AES per GB drawn).
 */
import { prfWords } from './prf.ts';

/** The largest V held in memory; a larger one is redrawn block by block from its seed on each use (512 MiB). */
export const HELD_MASK_WORDS = 2 ** 27;

/** Rows per block: about 4 MiB of words (the host also sends B − V in messages of one block). */
export const rowsPerBlock = (width: number): number => Math.max(1, Math.floor((1 << 20) / Math.max(1, width)));

export type ShareMatrix = {
  readonly rows: number;
  readonly width: number;
  readonly rowsPerBlock: number;
  /** Whether the blocks are in memory (else each read draws its block again). */
  readonly held: boolean;
  /** Block `index`: rows index·rowsPerBlock … up to rowsPerBlock of them, row-major. */
  block(index: number): Uint32Array;
};

export const blockCount = (m: ShareMatrix): number => Math.ceil(m.rows / m.rowsPerBlock);

/** A matrix whose blocks are already in memory (the guest's B − V, as received). */
export function heldMatrix(
  rows: number,
  width: number,
  blocks: readonly Uint32Array[],
  per = rowsPerBlock(width),
): ShareMatrix {
  return {
    rows,
    width,
    rowsPerBlock: per,
    held: true,
    block(index) {
      const b = blocks[index];
      if (b === undefined) throw new RangeError(`block ${index} of a ${rows}-row matrix is missing`);
      return b;
    },
  };
}

/**
 * The mask matrix drawn from a seed and label: the same words as
 * `prfWords(seed, label, rows · width)`, held if it has at most `heldWords`
 * words, else drawn again block by block whenever it is read. (Tests
 * pass a small `per` to cross block boundaries on small data.)
 */
export function seededMatrix(
  seed: Uint8Array,
  label: string,
  rows: number,
  width: number,
  heldWords = HELD_MASK_WORDS,
  per = rowsPerBlock(width),
): ShareMatrix {
  const draw = (index: number): Uint32Array => {
    const first = index * per;
    return prfWords(seed, label, Math.min(per, rows - first) * width, first * width);
  };
  if (rows * width > heldWords) return { rows, width, rowsPerBlock: per, held: false, block: draw };
  return heldMatrix(
    rows,
    width,
    Array.from({ length: Math.ceil(rows / per) }, (_, k) => draw(k)),
    per,
  );
}

/**
 * For each vector x (one word per row, as int32 bits), the `width` sums
 * Σ_r M[r][k]·x[r] mod 2^32, over all rows or only `rowsOf` (a caller that
 * knows the other rows' x are zero saves the work; ascending rows read each
 * block once). Math.imul keeps a product's low 32 bits and `| 0` a sum's,
 * so every result is exact modulo 2^32. Four vectors share each read of a
 * row (1.5 times faster than one at a time at 3,300 bins).
 */
export function transposeTimes(m: ShareMatrix, xs: readonly Int32Array[], rowsOf?: Uint32Array): Int32Array[] {
  const { width, rowsPerBlock: per } = m;
  const out = xs.map(() => new Int32Array(width));
  let at = -1;
  let M: Uint32Array = new Uint32Array(0);
  const visit = (r: number): void => {
    const index = Math.floor(r / per);
    if (index !== at) {
      M = m.block(index);
      at = index;
    }
    const base = (r - index * per) * width;
    let v = 0;
    for (; v + 3 < xs.length; v += 4) {
      const x0 = (xs[v] as Int32Array)[r] ?? 0;
      const x1 = (xs[v + 1] as Int32Array)[r] ?? 0;
      const x2 = (xs[v + 2] as Int32Array)[r] ?? 0;
      const x3 = (xs[v + 3] as Int32Array)[r] ?? 0;
      const a0 = out[v] as Int32Array;
      const a1 = out[v + 1] as Int32Array;
      const a2 = out[v + 2] as Int32Array;
      const a3 = out[v + 3] as Int32Array;
      for (let k = 0; k < width; k++) {
        const m = M[base + k] ?? 0;
        a0[k] = ((a0[k] ?? 0) + Math.imul(m, x0)) | 0;
        a1[k] = ((a1[k] ?? 0) + Math.imul(m, x1)) | 0;
        a2[k] = ((a2[k] ?? 0) + Math.imul(m, x2)) | 0;
        a3[k] = ((a3[k] ?? 0) + Math.imul(m, x3)) | 0;
      }
    }
    for (; v + 1 < xs.length; v += 2) {
      const x0 = (xs[v] as Int32Array)[r] ?? 0;
      const x1 = (xs[v + 1] as Int32Array)[r] ?? 0;
      const a0 = out[v] as Int32Array;
      const a1 = out[v + 1] as Int32Array;
      for (let k = 0; k < width; k++) {
        const m = M[base + k] ?? 0;
        a0[k] = ((a0[k] ?? 0) + Math.imul(m, x0)) | 0;
        a1[k] = ((a1[k] ?? 0) + Math.imul(m, x1)) | 0;
      }
    }
    for (; v < xs.length; v++) {
      const x = (xs[v] as Int32Array)[r] ?? 0;
      if (x === 0) continue;
      const acc = out[v] as Int32Array;
      for (let k = 0; k < width; k++) acc[k] = ((acc[k] ?? 0) + Math.imul(M[base + k] ?? 0, x)) | 0;
    }
  };
  if (rowsOf === undefined) for (let r = 0; r < m.rows; r++) visit(r);
  else for (const r of rowsOf) visit(r);
  return out;
}
