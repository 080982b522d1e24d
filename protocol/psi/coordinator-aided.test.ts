import { describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { matchPrfSets, prfSet, prfSetAsync, PRF_BYTES, readPositions, uint32Bytes } from './coordinator-aided.ts';
import { guestReceive, hostReceive, startGuest, startHost } from './psi-session.ts';
import { newScalar } from './group.ts';
import { Random } from '../random.ts';
import { compileJobSpec, jobSpecProblem, jobSpecSchema } from '../job-spec.ts';

const ids = (prefix: string, from: number, to: number): string[] =>
  Array.from({ length: to - from }, (_, i) => `${prefix}${from + i}`);
const names = { guest: 'brand', host: 'partner' };
const fixedKey = (label: string): Uint8Array => createHash('sha256').update(label).digest();

/** (guest row, host row) pairs of every match, sorted: what alignment needs from PSI. */
function prfPairs(guestIds: string[], hostIds: string[], seed: string): string[] {
  const key = fixedKey('k1');
  const gp = new Random(`${seed}-g`).permutation(guestIds.length);
  const hp = new Random(`${seed}-h`).permutation(hostIds.length);
  const { guestPositions, hostPositions } = matchPrfSets(prfSet(key, guestIds, gp), prfSet(key, hostIds, hp), names);
  return Array.from(guestPositions, (p, k) => `${gp[p]}:${hp[hostPositions[k]!]}`).sort();
}

function ecdhPairs(guestIds: string[], hostIds: string[], seed: string): string[] {
  const domainKey = fixedKey('k2');
  const gp = new Random(`${seed}-g`).permutation(guestIds.length);
  const hp = new Random(`${seed}-h`).permutation(hostIds.length);
  const g = startGuest({ mode: 'intersection', ids: guestIds, domainKey, scalar: newScalar(), permutation: gp });
  const h = startHost({ mode: 'intersection', ids: hostIds, domainKey, scalar: newScalar(), permutation: hp });
  const reblinded = hostReceive(h.state, g.outbound[0]!);
  let guest = guestReceive(g.state, h.outbound[0]!).state;
  guest = guestReceive(guest, reblinded.outbound[0]!).state;
  if (guest.stage !== 'done' || guest.result.mode !== 'intersection') throw new Error('ECDH PSI did not finish');
  return guest.result.matches.map((m) => `${m.guestRow}:${hp[m.hostPosition]}`).sort();
}

/** Matches a TandemError with this code. */
const refused = (code: string): unknown => expect.objectContaining({ code });

describe('coordinator-aided PSI', () => {
  it('matches exactly the pairs of rows ECDH-PSI matches', () => {
    const guestIds = ids('user-', 0, 300);
    const hostIds = ids('user-', 200, 600).reverse();
    const viaPrf = prfPairs(guestIds, hostIds, 'a');
    expect(viaPrf).toHaveLength(100);
    expect(viaPrf).toEqual(ecdhPairs(guestIds, hostIds, 'a'));
    // Every pair is the same id on both sides.
    for (const pair of viaPrf) {
      const [g, h] = pair.split(':').map(Number);
      expect(guestIds[g!]).toBe(hostIds[h!]);
    }
  });

  it('puts only 16-byte PRF values on the wire, keyed: another key matches nothing', () => {
    const a = prfSet(fixedKey('k3'), ids('alice-', 0, 50), new Random('p').permutation(50));
    expect(a.byteLength).toBe(50 * PRF_BYTES);
    expect(Buffer.from(a).includes(Buffer.from('alice-'))).toBe(false);
    const b = prfSet(fixedKey('k4'), ids('alice-', 0, 50), new Random('p').permutation(50));
    expect(matchPrfSets(a, b, names).guestPositions).toHaveLength(0);
  });

  it('gives the same bytes when it yields between slices as in one go', async () => {
    const list = ids('v', 0, 40_000);
    const permutation = new Random('s').permutation(list.length);
    const sliced = await prfSetAsync(fixedKey('k5'), list, permutation);
    expect(Buffer.from(sliced).equals(Buffer.from(prfSet(fixedKey('k5'), list, permutation)))).toBe(true);
  });

  it('answers in guest-position order with the host positions alongside', () => {
    const key = fixedKey('k5');
    const m = matchPrfSets(
      prfSet(key, ['x', 'y', 'z'], Uint32Array.of(0, 1, 2)),
      prfSet(key, ['z', 'q', 'x'], Uint32Array.of(0, 1, 2)),
      names,
    );
    expect([...m.guestPositions]).toEqual([0, 2]);
    expect([...m.hostPositions]).toEqual([2, 0]);
  });

  it('refuses a list of the wrong length or with a repeated value (PSI_INPUT_INVALID)', () => {
    const key = fixedKey('k6');
    const good = prfSet(key, ids('u', 0, 10), new Random('q').permutation(10));
    expect(() => matchPrfSets(good.subarray(0, 150), good, names)).toThrow(refused('PSI_INPUT_INVALID'));
    const repeated = Buffer.concat([good, good.subarray(0, PRF_BYTES)]);
    expect(() => matchPrfSets(repeated, good, names)).toThrow(refused('PSI_INPUT_INVALID'));
    expect(() => matchPrfSets(good, repeated, names)).toThrow(refused('PSI_INPUT_INVALID'));
    expect(() => matchPrfSets(good, repeated, names)).toThrow(/partner's PRF value 10 repeats/);
  });

  it('reads positions back, refusing wrong lengths, out-of-range and repeated positions', () => {
    expect([...readPositions(uint32Bytes(Uint32Array.of(4, 0, 7)), 3, 8, 'test')]).toEqual([4, 0, 7]);
    expect(() => readPositions(uint32Bytes(Uint32Array.of(4, 0)), 3, 8, 'test')).toThrow(refused('PSI_INPUT_INVALID'));
    expect(() => readPositions(uint32Bytes(Uint32Array.of(4, 8)), 2, 8, 'test')).toThrow(refused('PSI_INPUT_INVALID'));
    expect(() => readPositions(uint32Bytes(Uint32Array.of(4, 4)), 2, 8, 'test')).toThrow(refused('PSI_INPUT_INVALID'));
    expect(() => readPositions(uint32Bytes(Uint32Array.of(9)), 1, 8, 'psi-result')).toThrow(
      'psi-result: position 9 is out of range (the list has 8)',
    );
  });

  it('is chosen in the job spec for every job kind, ECDH by default', () => {
    for (const kind of ['hetero-lr', 'cold-start', 'lookalike', 'reach']) {
      const spec = {
        name: 'x',
        kind,
        parties: [
          { name: 'a', role: 'guest', dataset: 'd' },
          { name: 'b', role: 'host', dataset: 'd' },
        ],
      };
      expect(jobSpecProblem(jobSpecSchema.parse({ ...spec, alignment: { psi: 'coordinator' } }))).toBeUndefined();
      expect(compileJobSpec(jobSpecSchema.parse({ ...spec, alignment: { psi: 'coordinator' } })).alignmentPsi).toBe(
        'coordinator',
      );
      expect(compileJobSpec(jobSpecSchema.parse(spec)).alignmentPsi).toBe('ecdh');
    }
    expect(() => jobSpecSchema.parse({ name: 'x', kind: 'reach', parties: [], alignment: { psi: 'server' } })).toThrow(
      /psi/,
    );
  });
});
