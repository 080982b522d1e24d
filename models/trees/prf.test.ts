import { describe, expect, it } from 'vitest';
import { prfWords } from './prf.ts';

describe('mask words', () => {
  it('are the same stream whatever the count (chunk boundaries included), and differ by seed and label', () => {
    const seed = new Uint8Array(32).fill(5);
    const long = prfWords(seed, 'V', 300_001);
    expect(prfWords(seed, 'V', 262_145)).toEqual(long.subarray(0, 262_145));
    expect(prfWords(seed, 'V', 7)).toEqual(long.subarray(0, 7));
    expect(prfWords(seed, 'z|0', 7)).not.toEqual(long.subarray(0, 7));
    expect(prfWords(new Uint8Array(32).fill(6), 'V', 7)).not.toEqual(long.subarray(0, 7));
  });
});
