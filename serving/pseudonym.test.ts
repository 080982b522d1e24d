import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { keyedHash, pseudonym, pseudonymIndex } from './pseudonym.ts';

/** Seeded bytes (a 32-bit LCG), so the cases are the same on every run. */
function bytes(seed: number, n: number): Uint8Array {
  const out = new Uint8Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s >>> 24;
  }
  return out;
}

const messages = [
  '',
  'u-000123',
  'é'.repeat(300), // longer than the scratch buffer it starts with: it must grow, not cut
  'a short one after a long one',
  '😀 emoji and a lone surrogate \ud800 end',
  'x'.repeat(5000),
];

describe('keyedHash', () => {
  it.each([0, 1, 16, 32, 63, 64, 65, 200])('equals createHmac with a %i-byte key, message after message', (n) => {
    const key = bytes(n + 7, n);
    const h = keyedHash(key);
    for (const m of messages) {
      const mac = createHmac('sha256', key).update(m, 'utf8').digest();
      expect(h.base64url(m)).toBe(mac.toString('base64url'));
      expect(h.uint48(m)).toBe(mac.readUIntBE(0, 6));
    }
  });
});

describe('pseudonym', () => {
  it('is HMAC-SHA256 of the id under the scoring key, base64url, and the index maps it to the row', () => {
    const key = bytes(42, 32);
    const ids = ['u1', 'u2', 'ü3'];
    for (const id of ids) expect(pseudonym(key, id)).toBe(createHmac('sha256', key).update(id).digest('base64url'));
    const index = pseudonymIndex(key, ids);
    expect(ids.map((id) => index.get(pseudonym(key, id)))).toEqual([0, 1, 2]);
    expect(pseudonym(bytes(43, 32), 'u1')).not.toBe(pseudonym(key, 'u1'));
  });
});
