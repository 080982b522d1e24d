import { describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { tandem } from '../protocol/generated/tandem.js';
import { compileJobSpec, jobSpecSchema } from '../protocol/job-spec.ts';
import { prfSet } from '../protocol/psi/coordinator-aided.ts';
import { Random } from '../protocol/random.ts';
import { PsiMatcher } from './psi-match.ts';

const spec = (psi: 'ecdh' | 'coordinator') =>
  compileJobSpec(
    jobSpecSchema.parse({
      name: 'x',
      kind: 'hetero-lr',
      alignment: { psi },
      parties: [
        { name: 'brand', role: 'guest', dataset: 'd' },
        { name: 'p1', role: 'host', dataset: 'd' },
        { name: 'p2', role: 'host', dataset: 'd' },
      ],
    }),
  );
const ids = (from: number, to: number): string[] => Array.from({ length: to - from }, (_, i) => `id-${from + i}`);
const key = (host: string): Uint8Array => createHash('sha256').update(`pair|${host}`).digest();
const set = (peer: string, keyOf: string, list: string[], seed = peer): tandem.v1.PsiPrfSet =>
  tandem.v1.PsiPrfSet.decode(
    tandem.v1.PsiPrfSet.encode({
      peer,
      values: prfSet(key(keyOf), list, new Random(seed).permutation(list.length)),
      count: list.length,
    }).finish(),
  );

/** Matches a TandemError with this code. */
const refused = (code: string): unknown => expect.objectContaining({ code });

describe('the coordinator in coordinator-aided PSI', () => {
  it('answers the guest per host, once both lists of the pair are in, with counts only for the host lists', () => {
    const m = new PsiMatcher('job-0', spec('coordinator'));
    expect(m.offer('p2', 0, set('brand', 'p2', ids(50, 150)))).toBeUndefined();
    expect(m.offer('brand', 0, set('p1', 'p1', ids(0, 100)))).toBeUndefined();
    const two = m.offer('brand', 1, set('p2', 'p2', ids(0, 100)));
    expect(two).toMatchObject({ to: 'brand', seq: 1 });
    const body = tandem.v1.PsiPrfMatches.decode(two!.body);
    expect({ peer: body.peer, count: body.count, guestCount: body.guestCount, hostCount: body.hostCount }).toEqual({
      peer: 'p2',
      count: 50,
      guestCount: 100,
      hostCount: 100,
    });
    const one = m.offer('p1', 0, set('brand', 'p1', ids(90, 300)));
    expect(tandem.v1.PsiPrfMatches.decode(one!.body).count).toBe(10);
    // A resent list (a restarted party derives the same one) gets the same answer; a different one is refused.
    expect(m.offer('p1', 0, set('brand', 'p1', ids(90, 300)))).toEqual(one);
    expect(() => m.offer('p1', 0, set('brand', 'p1', ids(90, 301)))).toThrow(refused('PSI_INPUT_INVALID'));
  });

  it('refuses lists for the wrong pair, of the wrong length, or in an ECDH job', () => {
    const m = new PsiMatcher('job-0', spec('coordinator'));
    expect(() => m.offer('p1', 0, set('p2', 'p1', ids(0, 5)))).toThrow(refused('PSI_INPUT_INVALID'));
    expect(() => m.offer('brand', 0, set('p2', 'p2', ids(0, 5)))).toThrow(refused('PSI_INPUT_INVALID'));
    expect(() => m.offer('brand', 0, set('brand', 'p1', ids(0, 5)))).toThrow(refused('PSI_INPUT_INVALID'));
    const short = set('p1', 'p1', ids(0, 5));
    expect(() => m.offer('brand', 0, { ...short, count: 6 })).toThrow(refused('PSI_INPUT_INVALID'));
    expect(() => m.offer('brand', 0, { ...short, values: short.values.subarray(1) })).toThrow(
      refused('PSI_INPUT_INVALID'),
    );
    expect(() => new PsiMatcher('job-0', spec('ecdh')).offer('brand', 0, short)).toThrow(refused('JOB_STATE_CONFLICT'));
  });

  it('tells the guest of a reach job the count only', () => {
    const reach = compileJobSpec(
      jobSpecSchema.parse({
        name: 'x',
        kind: 'reach',
        alignment: { psi: 'coordinator' },
        parties: [
          { name: 'brand', role: 'guest', dataset: 'd' },
          { name: 'p1', role: 'host', dataset: 'd' },
        ],
      }),
    );
    const m = new PsiMatcher('job-0', reach);
    m.offer('brand', 0, set('p1', 'p1', ids(0, 100)));
    const body = tandem.v1.PsiPrfMatches.decode(m.offer('p1', 0, set('brand', 'p1', ids(60, 200)))!.body);
    expect({ count: body.count, guestCount: body.guestCount, hostCount: body.hostCount }).toEqual({
      count: 40,
      guestCount: 100,
      hostCount: 140,
    });
    expect([body.guestPositions.byteLength, body.hostPositions.byteLength]).toEqual([0, 0]);
  });

  it('refuses a pair whose lists repeat a value', () => {
    const m = new PsiMatcher('job-0', spec('coordinator'));
    const s = set('brand', 'p1', ids(0, 4));
    const repeated = tandem.v1.PsiPrfSet.create({
      peer: 'brand',
      values: Buffer.concat([s.values, s.values.subarray(0, 16)]),
      count: 5,
    });
    m.offer('brand', 0, set('p1', 'p1', ids(0, 4)));
    expect(() => m.offer('p1', 0, repeated)).toThrow(refused('PSI_INPUT_INVALID'));
  });
});
