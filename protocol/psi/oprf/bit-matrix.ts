/**
 * Bit-matrix transposition, the step of IKNP/KKRT OT extension that turns
 * 512 pseudorandom columns (one AES-CTR stream per base OT) into one 512-bit
 * row per OPRF instance. It is the hottest loop of OPRF-PSI after AES, so the
 * 32×32 tile is unrolled (three times faster than the looped version on V8:
 * the 32 words stay in registers). The swap network is the classic one
 * (Hacker's Delight §7-3), written for least-significant-bit-first order.
 *
 * Layout. A column-major matrix of `rows` rows keeps column i in words
 * [i·stride, i·stride + rows/32), row j at bit j mod 32 of word j/32; the
 * stride is padded one word past rows/32 ({@link columnStride}): with a
 * power-of-two stride the 32 words of a tile all map to the same L1 cache set
 * and the transposition ran at half the speed. A row-major
 * matrix keeps row j in words [16j, 16j + 16), column i at bit i mod 32 of
 * word 16j + i/32. Words are little-endian Int32 views, so the byte layout is
 * the same on every platform Node runs on.
 */
import { CODE_BITS, ROW_WORDS } from './params.ts';

/** Words between the starts of two columns of a `rows`-row column-major matrix. */
export function columnStride(rows: number): number {
  return (rows >>> 5) + 1;
}

/** Transposes a column-major 512 × `rows` bit matrix (columns `stride` words apart) into row-major `out` (`rows` × 16 words); `rows` must be a multiple of 32. */
export function columnsToRows(col: Int32Array, rows: number, out: Int32Array, stride = columnStride(rows)): void {
  if (rows % 32 !== 0) throw new RangeError(`columnsToRows needs a multiple of 32 rows, got ${rows}`);
  if (stride < rows >>> 5 || col.length < (CODE_BITS - 1) * stride + (rows >>> 5) || out.length < rows * ROW_WORDS)
    throw new RangeError('columnsToRows: matrix smaller than 512 × rows bits');
  for (let r = 0; r < rows >>> 5; r++) {
    for (let g = 0; g < ROW_WORDS; g++) tile(col, 32 * g * stride + r, stride, out, 32 * ROW_WORDS * r + g);
  }
}

/** One 32×32 tile: words col[at + c·stride] (c = 0..31) become out[to + 16·b] (b = 0..31). */
function tile(col: Int32Array, at: number, stride: number, out: Int32Array, to: number): void {
  let a0 = col[at + 0 * stride]!,
    a1 = col[at + 1 * stride]!,
    a2 = col[at + 2 * stride]!,
    a3 = col[at + 3 * stride]!,
    a4 = col[at + 4 * stride]!,
    a5 = col[at + 5 * stride]!,
    a6 = col[at + 6 * stride]!,
    a7 = col[at + 7 * stride]!;
  let a8 = col[at + 8 * stride]!,
    a9 = col[at + 9 * stride]!,
    a10 = col[at + 10 * stride]!,
    a11 = col[at + 11 * stride]!,
    a12 = col[at + 12 * stride]!,
    a13 = col[at + 13 * stride]!,
    a14 = col[at + 14 * stride]!,
    a15 = col[at + 15 * stride]!;
  let a16 = col[at + 16 * stride]!,
    a17 = col[at + 17 * stride]!,
    a18 = col[at + 18 * stride]!,
    a19 = col[at + 19 * stride]!,
    a20 = col[at + 20 * stride]!,
    a21 = col[at + 21 * stride]!,
    a22 = col[at + 22 * stride]!,
    a23 = col[at + 23 * stride]!;
  let a24 = col[at + 24 * stride]!,
    a25 = col[at + 25 * stride]!,
    a26 = col[at + 26 * stride]!,
    a27 = col[at + 27 * stride]!,
    a28 = col[at + 28 * stride]!,
    a29 = col[at + 29 * stride]!,
    a30 = col[at + 30 * stride]!,
    a31 = col[at + 31 * stride]!;
  let t: number;
  // swap 16-bit blocks
  t = ((a0 >>> 16) ^ a16) & 0x0000ffff;
  a0 ^= t << 16;
  a16 ^= t;
  t = ((a1 >>> 16) ^ a17) & 0x0000ffff;
  a1 ^= t << 16;
  a17 ^= t;
  t = ((a2 >>> 16) ^ a18) & 0x0000ffff;
  a2 ^= t << 16;
  a18 ^= t;
  t = ((a3 >>> 16) ^ a19) & 0x0000ffff;
  a3 ^= t << 16;
  a19 ^= t;
  t = ((a4 >>> 16) ^ a20) & 0x0000ffff;
  a4 ^= t << 16;
  a20 ^= t;
  t = ((a5 >>> 16) ^ a21) & 0x0000ffff;
  a5 ^= t << 16;
  a21 ^= t;
  t = ((a6 >>> 16) ^ a22) & 0x0000ffff;
  a6 ^= t << 16;
  a22 ^= t;
  t = ((a7 >>> 16) ^ a23) & 0x0000ffff;
  a7 ^= t << 16;
  a23 ^= t;
  t = ((a8 >>> 16) ^ a24) & 0x0000ffff;
  a8 ^= t << 16;
  a24 ^= t;
  t = ((a9 >>> 16) ^ a25) & 0x0000ffff;
  a9 ^= t << 16;
  a25 ^= t;
  t = ((a10 >>> 16) ^ a26) & 0x0000ffff;
  a10 ^= t << 16;
  a26 ^= t;
  t = ((a11 >>> 16) ^ a27) & 0x0000ffff;
  a11 ^= t << 16;
  a27 ^= t;
  t = ((a12 >>> 16) ^ a28) & 0x0000ffff;
  a12 ^= t << 16;
  a28 ^= t;
  t = ((a13 >>> 16) ^ a29) & 0x0000ffff;
  a13 ^= t << 16;
  a29 ^= t;
  t = ((a14 >>> 16) ^ a30) & 0x0000ffff;
  a14 ^= t << 16;
  a30 ^= t;
  t = ((a15 >>> 16) ^ a31) & 0x0000ffff;
  a15 ^= t << 16;
  a31 ^= t;
  // swap 8-bit blocks
  t = ((a0 >>> 8) ^ a8) & 0x00ff00ff;
  a0 ^= t << 8;
  a8 ^= t;
  t = ((a1 >>> 8) ^ a9) & 0x00ff00ff;
  a1 ^= t << 8;
  a9 ^= t;
  t = ((a2 >>> 8) ^ a10) & 0x00ff00ff;
  a2 ^= t << 8;
  a10 ^= t;
  t = ((a3 >>> 8) ^ a11) & 0x00ff00ff;
  a3 ^= t << 8;
  a11 ^= t;
  t = ((a4 >>> 8) ^ a12) & 0x00ff00ff;
  a4 ^= t << 8;
  a12 ^= t;
  t = ((a5 >>> 8) ^ a13) & 0x00ff00ff;
  a5 ^= t << 8;
  a13 ^= t;
  t = ((a6 >>> 8) ^ a14) & 0x00ff00ff;
  a6 ^= t << 8;
  a14 ^= t;
  t = ((a7 >>> 8) ^ a15) & 0x00ff00ff;
  a7 ^= t << 8;
  a15 ^= t;
  t = ((a16 >>> 8) ^ a24) & 0x00ff00ff;
  a16 ^= t << 8;
  a24 ^= t;
  t = ((a17 >>> 8) ^ a25) & 0x00ff00ff;
  a17 ^= t << 8;
  a25 ^= t;
  t = ((a18 >>> 8) ^ a26) & 0x00ff00ff;
  a18 ^= t << 8;
  a26 ^= t;
  t = ((a19 >>> 8) ^ a27) & 0x00ff00ff;
  a19 ^= t << 8;
  a27 ^= t;
  t = ((a20 >>> 8) ^ a28) & 0x00ff00ff;
  a20 ^= t << 8;
  a28 ^= t;
  t = ((a21 >>> 8) ^ a29) & 0x00ff00ff;
  a21 ^= t << 8;
  a29 ^= t;
  t = ((a22 >>> 8) ^ a30) & 0x00ff00ff;
  a22 ^= t << 8;
  a30 ^= t;
  t = ((a23 >>> 8) ^ a31) & 0x00ff00ff;
  a23 ^= t << 8;
  a31 ^= t;
  // swap 4-bit blocks
  t = ((a0 >>> 4) ^ a4) & 0x0f0f0f0f;
  a0 ^= t << 4;
  a4 ^= t;
  t = ((a1 >>> 4) ^ a5) & 0x0f0f0f0f;
  a1 ^= t << 4;
  a5 ^= t;
  t = ((a2 >>> 4) ^ a6) & 0x0f0f0f0f;
  a2 ^= t << 4;
  a6 ^= t;
  t = ((a3 >>> 4) ^ a7) & 0x0f0f0f0f;
  a3 ^= t << 4;
  a7 ^= t;
  t = ((a8 >>> 4) ^ a12) & 0x0f0f0f0f;
  a8 ^= t << 4;
  a12 ^= t;
  t = ((a9 >>> 4) ^ a13) & 0x0f0f0f0f;
  a9 ^= t << 4;
  a13 ^= t;
  t = ((a10 >>> 4) ^ a14) & 0x0f0f0f0f;
  a10 ^= t << 4;
  a14 ^= t;
  t = ((a11 >>> 4) ^ a15) & 0x0f0f0f0f;
  a11 ^= t << 4;
  a15 ^= t;
  t = ((a16 >>> 4) ^ a20) & 0x0f0f0f0f;
  a16 ^= t << 4;
  a20 ^= t;
  t = ((a17 >>> 4) ^ a21) & 0x0f0f0f0f;
  a17 ^= t << 4;
  a21 ^= t;
  t = ((a18 >>> 4) ^ a22) & 0x0f0f0f0f;
  a18 ^= t << 4;
  a22 ^= t;
  t = ((a19 >>> 4) ^ a23) & 0x0f0f0f0f;
  a19 ^= t << 4;
  a23 ^= t;
  t = ((a24 >>> 4) ^ a28) & 0x0f0f0f0f;
  a24 ^= t << 4;
  a28 ^= t;
  t = ((a25 >>> 4) ^ a29) & 0x0f0f0f0f;
  a25 ^= t << 4;
  a29 ^= t;
  t = ((a26 >>> 4) ^ a30) & 0x0f0f0f0f;
  a26 ^= t << 4;
  a30 ^= t;
  t = ((a27 >>> 4) ^ a31) & 0x0f0f0f0f;
  a27 ^= t << 4;
  a31 ^= t;
  // swap 2-bit blocks
  t = ((a0 >>> 2) ^ a2) & 0x33333333;
  a0 ^= t << 2;
  a2 ^= t;
  t = ((a1 >>> 2) ^ a3) & 0x33333333;
  a1 ^= t << 2;
  a3 ^= t;
  t = ((a4 >>> 2) ^ a6) & 0x33333333;
  a4 ^= t << 2;
  a6 ^= t;
  t = ((a5 >>> 2) ^ a7) & 0x33333333;
  a5 ^= t << 2;
  a7 ^= t;
  t = ((a8 >>> 2) ^ a10) & 0x33333333;
  a8 ^= t << 2;
  a10 ^= t;
  t = ((a9 >>> 2) ^ a11) & 0x33333333;
  a9 ^= t << 2;
  a11 ^= t;
  t = ((a12 >>> 2) ^ a14) & 0x33333333;
  a12 ^= t << 2;
  a14 ^= t;
  t = ((a13 >>> 2) ^ a15) & 0x33333333;
  a13 ^= t << 2;
  a15 ^= t;
  t = ((a16 >>> 2) ^ a18) & 0x33333333;
  a16 ^= t << 2;
  a18 ^= t;
  t = ((a17 >>> 2) ^ a19) & 0x33333333;
  a17 ^= t << 2;
  a19 ^= t;
  t = ((a20 >>> 2) ^ a22) & 0x33333333;
  a20 ^= t << 2;
  a22 ^= t;
  t = ((a21 >>> 2) ^ a23) & 0x33333333;
  a21 ^= t << 2;
  a23 ^= t;
  t = ((a24 >>> 2) ^ a26) & 0x33333333;
  a24 ^= t << 2;
  a26 ^= t;
  t = ((a25 >>> 2) ^ a27) & 0x33333333;
  a25 ^= t << 2;
  a27 ^= t;
  t = ((a28 >>> 2) ^ a30) & 0x33333333;
  a28 ^= t << 2;
  a30 ^= t;
  t = ((a29 >>> 2) ^ a31) & 0x33333333;
  a29 ^= t << 2;
  a31 ^= t;
  // swap 1-bit blocks
  t = ((a0 >>> 1) ^ a1) & 0x55555555;
  a0 ^= t << 1;
  a1 ^= t;
  t = ((a2 >>> 1) ^ a3) & 0x55555555;
  a2 ^= t << 1;
  a3 ^= t;
  t = ((a4 >>> 1) ^ a5) & 0x55555555;
  a4 ^= t << 1;
  a5 ^= t;
  t = ((a6 >>> 1) ^ a7) & 0x55555555;
  a6 ^= t << 1;
  a7 ^= t;
  t = ((a8 >>> 1) ^ a9) & 0x55555555;
  a8 ^= t << 1;
  a9 ^= t;
  t = ((a10 >>> 1) ^ a11) & 0x55555555;
  a10 ^= t << 1;
  a11 ^= t;
  t = ((a12 >>> 1) ^ a13) & 0x55555555;
  a12 ^= t << 1;
  a13 ^= t;
  t = ((a14 >>> 1) ^ a15) & 0x55555555;
  a14 ^= t << 1;
  a15 ^= t;
  t = ((a16 >>> 1) ^ a17) & 0x55555555;
  a16 ^= t << 1;
  a17 ^= t;
  t = ((a18 >>> 1) ^ a19) & 0x55555555;
  a18 ^= t << 1;
  a19 ^= t;
  t = ((a20 >>> 1) ^ a21) & 0x55555555;
  a20 ^= t << 1;
  a21 ^= t;
  t = ((a22 >>> 1) ^ a23) & 0x55555555;
  a22 ^= t << 1;
  a23 ^= t;
  t = ((a24 >>> 1) ^ a25) & 0x55555555;
  a24 ^= t << 1;
  a25 ^= t;
  t = ((a26 >>> 1) ^ a27) & 0x55555555;
  a26 ^= t << 1;
  a27 ^= t;
  t = ((a28 >>> 1) ^ a29) & 0x55555555;
  a28 ^= t << 1;
  a29 ^= t;
  t = ((a30 >>> 1) ^ a31) & 0x55555555;
  a30 ^= t << 1;
  a31 ^= t;
  out[to + 0] = a0;
  out[to + 16] = a1;
  out[to + 32] = a2;
  out[to + 48] = a3;
  out[to + 64] = a4;
  out[to + 80] = a5;
  out[to + 96] = a6;
  out[to + 112] = a7;
  out[to + 128] = a8;
  out[to + 144] = a9;
  out[to + 160] = a10;
  out[to + 176] = a11;
  out[to + 192] = a12;
  out[to + 208] = a13;
  out[to + 224] = a14;
  out[to + 240] = a15;
  out[to + 256] = a16;
  out[to + 272] = a17;
  out[to + 288] = a18;
  out[to + 304] = a19;
  out[to + 320] = a20;
  out[to + 336] = a21;
  out[to + 352] = a22;
  out[to + 368] = a23;
  out[to + 384] = a24;
  out[to + 400] = a25;
  out[to + 416] = a26;
  out[to + 432] = a27;
  out[to + 448] = a28;
  out[to + 464] = a29;
  out[to + 480] = a30;
  out[to + 496] = a31;
}
