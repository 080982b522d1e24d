import { describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { chooserPoints, chosenSeeds, SCALAR_SOURCE_BYTES, SEED_BYTES, senderSeeds } from './base-ot.ts';
import { ProtocolError } from '../../errors.ts';

describe('base OTs (Bellare–Micali over ed25519)', () => {
  const context = randomBytes(32);
  const choices = randomBytes(64);
  const chooserSource = randomBytes(512 * SCALAR_SOURCE_BYTES);
  const points = chooserPoints(context, choices, chooserSource);
  const { reply, seeds } = senderSeeds(context, points, randomBytes(SCALAR_SOURCE_BYTES));
  const chosen = chosenSeeds(context, choices, chooserSource, reply);

  it('give the chooser exactly the seed of its choice bit in each of the 512 OTs', () => {
    let same = 0;
    let other = 0;
    for (let i = 0; i < 512; i++) {
      const bit = (choices[i >>> 3]! >>> (i & 7)) & 1;
      const seed = (s: Uint8Array): string =>
        Buffer.from(s.subarray(i * SEED_BYTES, (i + 1) * SEED_BYTES)).toString('hex');
      if (seed(chosen) === seed(bit === 0 ? seeds.zero : seeds.one)) same++;
      if (seed(chosen) === seed(bit === 0 ? seeds.one : seeds.zero)) other++;
    }
    expect(same).toBe(512);
    expect(other).toBe(0);
  });

  it('reject a point outside the prime-order group with MESSAGE_CORRUPT', () => {
    const bad = new Uint8Array(points);
    bad.fill(0, 0, 32); // the encoding of a small-order point
    expect(() => senderSeeds(context, bad, randomBytes(SCALAR_SOURCE_BYTES))).toThrow(ProtocolError);
    expect(() => senderSeeds(context, bad, randomBytes(SCALAR_SOURCE_BYTES))).toThrow(
      'OPRF-PSI base OT: point 0 is not a point of the prime-order group',
    );
  });
});
