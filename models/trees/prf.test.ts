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

  it('can start at any word: a block drawn alone equals the same words of the whole stream', () => {
    const seed = new Uint8Array(32).fill(5);
    const long = prfWords(seed, 'V', 300_001);
    for (const from of [0, 1, 3, 4, 5, 262_143, 262_144, 262_147])
      expect(prfWords(seed, 'V', 1000, from)).toEqual(long.subarray(from, from + 1000));
  });
});
