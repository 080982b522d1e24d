import { describe, expect, it } from 'vitest';
import { columnStride, columnsToRows } from './bit-matrix.ts';
import { Random } from '../../random.ts';

const bit = (words: Int32Array, index: number): number => (words[index >>> 5]! >>> (index & 31)) & 1;

describe('columnsToRows', () => {
  it('puts bit j of column i at bit i of row j, for every bit of random matrices', () => {
    const random = new Random('bit-matrix');
    for (const rows of [32, 64, 96, 320]) {
      for (const stride of [rows / 32, columnStride(rows)]) {
        const col = Int32Array.from({ length: 512 * stride }, () => random.nextUint32() | 0);
        const out = new Int32Array(rows * 16);
        columnsToRows(col, rows, out, stride);
        let mismatches = 0;
        for (let i = 0; i < 512; i++)
          for (let j = 0; j < rows; j++) if (bit(col, i * 32 * stride + j) !== bit(out, j * 512 + i)) mismatches++;
        expect(mismatches).toBe(0);
      }
    }
  });

  it('refuses a row count that is not a multiple of 32', () => {
    expect(() => columnsToRows(new Int32Array(512), 16, new Int32Array(256))).toThrow(
      'columnsToRows needs a multiple of 32 rows, got 16',
    );
  });
});
