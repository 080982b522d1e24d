import { describe, expect, it } from 'vitest';
import { createCipheriv } from 'node:crypto';
import { digestIds, digestKey, IdDigester } from './digest.ts';
import { seedFrom } from '../../random.ts';

const domainKey = seedFrom('digest-test', 'domain');

/** CBC-MAC the slow, obvious way: AES-128-CBC with a zero IV over the length-prefixed, zero-padded bytes; the last block. */
function reference(id: string): string {
  const bytes = Buffer.from(id, 'utf8');
  const message = Buffer.alloc(Math.ceil((bytes.byteLength + 4) / 16) * 16);
  message.writeUInt32LE(bytes.byteLength, 0);
  bytes.copy(message, 4);
  const cipher = createCipheriv('aes-128-cbc', digestKey(domainKey), Buffer.alloc(16)).setAutoPadding(false);
  const out = Buffer.concat([cipher.update(message), cipher.final()]);
  return out.subarray(out.byteLength - 16).toString('hex');
}

describe('id digests', () => {
  const ids = [
    '',
    'a',
    'ß',
    'ss',
    '😀',
    '\ud800',
    'x'.repeat(11),
    'x'.repeat(12),
    'x'.repeat(13),
    'y'.repeat(10_000),
    'user-42@example.com',
    '0042',
    '42',
  ];

  it('are the CBC-MAC of the length-prefixed UTF-8 bytes, computed a chunk at a time', () => {
    const batch = digestIds(domainKey, ids);
    expect(ids.map((_, k) => Buffer.from(batch.subarray(16 * k, 16 * k + 16)).toString('hex'))).toEqual(
      ids.map(reference),
    );
  });

  it('do not depend on which chunk an id falls in or on what came before it', () => {
    const digester = new IdDigester(domainKey);
    const one = new Uint8Array(16);
    const many = new Uint8Array(16 * ids.length);
    digester.digestMany(ids, many, 0);
    ids.forEach((id, k) => {
      digester.digest(id, one, 0);
      expect(Buffer.from(one).equals(Buffer.from(many.subarray(16 * k, 16 * k + 16)))).toBe(true);
    });
  });

  it('differ for every distinct id and change with the domain key', () => {
    const all = Array.from({ length: 50_000 }, (_, k) => `id-${k}`);
    const digests = digestIds(domainKey, all);
    const seen = new Set(
      Array.from({ length: all.length }, (_, k) => Buffer.from(digests.subarray(16 * k, 16 * k + 16)).toString('hex')),
    );
    expect(seen.size).toBe(all.length);
    expect(
      Buffer.from(digestIds(seedFrom('digest-test', 'other'), ['a'])).equals(Buffer.from(digestIds(domainKey, ['a']))),
    ).toBe(false);
  });
});
