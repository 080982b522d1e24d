import { describe, expect, it } from 'vitest';
import { runInMemory, type InMemoryOutcome } from './in-memory.ts';
import { guestReceive, hostReceive, startGuest, startHost, type GuestPsiState } from '../psi-session.ts';
import { newScalar } from '../group.ts';
import { Random, seedFrom } from '../../random.ts';
import type { OprfMessage } from './messages.ts';

const domainKey = seedFrom('oprf-psi-test', 'domain');
const secret = (label: string): Uint8Array => seedFrom('oprf-psi-test', label);

function run(
  receiverIds: readonly string[],
  senderIds: readonly string[],
  options: {
    minBuckets?: number;
    mode?: 'intersection' | 'membership';
    seen?: (from: string, m: OprfMessage) => void;
  } = {},
): InMemoryOutcome {
  return runInMemory({
    mode: options.mode ?? 'intersection',
    domainKey,
    minBuckets: options.minBuckets ?? 1,
    receiver: { ids: receiverIds, secret: secret('receiver') },
    sender: { ids: senderIds, secret: secret('sender') },
    ...(options.seen === undefined ? {} : { onMessage: options.seen }),
  });
}

/** The shared ids as each side sees them, in the receiver's order; and a check that both sides agree row by row. */
function shared(outcome: InMemoryOutcome, receiverIds: readonly string[], senderIds: readonly string[]): string[] {
  if (outcome.receiver.mode !== 'intersection' || outcome.senderRows === undefined)
    throw new Error('not an intersection');
  const receiverSide = Array.from(outcome.receiver.receiverRows, (r) => receiverIds[r] ?? '<missing>');
  const senderSide = Array.from(outcome.senderRows, (r) => senderIds[r] ?? '<missing>');
  expect(senderSide).toEqual(receiverSide);
  return receiverSide;
}

const plaintext = (a: readonly string[], b: readonly string[]): string[] =>
  [...new Set(a)].filter((id) => new Set(b).has(id)).sort();

/** ECDH-PSI (psi-session.ts) on the same ids: the guest's matched ids. */
function ecdh(guestIds: readonly string[], hostIds: readonly string[]): string[] {
  const random = new Random('ecdh');
  const g = startGuest({
    mode: 'intersection',
    ids: guestIds,
    domainKey,
    scalar: newScalar(),
    permutation: random.permutation(guestIds.length),
  });
  const h = startHost({
    mode: 'intersection',
    ids: hostIds,
    domainKey,
    scalar: newScalar(),
    permutation: random.permutation(hostIds.length),
  });
  const toGuest = hostReceive(h.state, g.outbound[0]!);
  let guest: GuestPsiState = g.state;
  for (const m of [h.outbound[0]!, toGuest.outbound[0]!]) guest = guestReceive(guest, m).state;
  if (guest.stage !== 'done' || guest.result.mode !== 'intersection') throw new Error('ECDH did not finish');
  return guest.result.matches.map((m) => guestIds[m.guestRow]!);
}

function randomIds(random: Random, count: number, universe: number): string[] {
  return Array.from({ length: count }, () => `id-${random.nextInt(universe)}`);
}

describe('OPRF-PSI', () => {
  it('finds exactly the plaintext intersection on random sets, with one bucket and with several, both sides in one order', () => {
    const random = new Random('random-sets');
    for (const [receiverCount, senderCount, buckets] of [
      [500, 800, 1],
      [3000, 2000, 4],
      [2000, 5000, 16],
    ] as const) {
      const universe = Math.round((receiverCount + senderCount) * 0.8);
      const receiverIds = [...new Set(randomIds(random, receiverCount, universe))];
      const senderIds = [...new Set(randomIds(random, senderCount, universe))];
      const outcome = run(receiverIds, senderIds, { minBuckets: buckets });
      expect(outcome.params.buckets).toBe(buckets);
      const found = shared(outcome, receiverIds, senderIds);
      expect([...found].sort()).toEqual(plaintext(receiverIds, senderIds));
      expect(found.length).toBeGreaterThan(100);
    }
  });

  it('agrees with ECDH-PSI on the same ids', () => {
    const random = new Random('ecdh-compare');
    const guestIds = [...new Set(randomIds(random, 400, 700))];
    const hostIds = [...new Set(randomIds(random, 400, 700))];
    const viaOprf = shared(run(guestIds, hostIds, { minBuckets: 2 }), guestIds, hostIds);
    expect([...viaOprf].sort()).toEqual([...ecdh(guestIds, hostIds)].sort());
  });

  it('counts a repeated id once, keeping its last row on each side', () => {
    const receiverIds = ['a', 'b', 'a', 'c', 'd', 'a'];
    const senderIds = ['a', 'x', 'a', 'c', 'c', 'y'];
    const outcome = run(receiverIds, senderIds);
    expect([...shared(outcome, receiverIds, senderIds)].sort()).toEqual(['a', 'c']);
    if (outcome.receiver.mode !== 'intersection' || outcome.senderRows === undefined)
      throw new Error('not an intersection');
    const receiverRowOf = new Map(Array.from(outcome.receiver.receiverRows, (r) => [receiverIds[r], r]));
    expect(receiverRowOf.get('a')).toBe(5);
    expect(new Set(outcome.senderRows)).toEqual(new Set([2, 4]));
  });

  it('gives an empty result, and sends no corrections or values, when either side or both are empty', () => {
    for (const [receiverIds, senderIds] of [
      [[], ['a']],
      [['a'], []],
      [[], []],
    ] as const) {
      const steps: string[] = [];
      const outcome = run(receiverIds, senderIds, { seen: (_, m) => steps.push(m.step) });
      expect(shared(outcome, receiverIds, senderIds)).toEqual([]);
      expect(steps).toEqual(['psi-oprf-hello', 'psi-oprf-setup', 'psi-result']);
    }
  });

  it('gives an empty result for disjoint sets and the one id for equal one-element sets', () => {
    expect(shared(run(['a', 'b', 'c'], ['d', 'e']), ['a', 'b', 'c'], ['d', 'e'])).toEqual([]);
    expect(shared(run(['solo'], ['solo']), ['solo'], ['solo'])).toEqual(['solo']);
    expect(shared(run(['solo'], ['other']), ['solo'], ['other'])).toEqual([]);
  });

  it('matches ids of any length and encoding byte for byte: unicode, long, numeric-looking, empty, whitespace', () => {
    const long = 'x'.repeat(10_000);
    const receiverIds = [
      'ß',
      'ss',
      'Ünïcødé 🚀',
      '東京',
      'e\u0301',
      '\u00e9',
      '007',
      '7',
      '7.0',
      '1e3',
      '',
      ' a',
      'a',
      long,
      `${long}y`,
      'tab\there',
      '😀'.repeat(50),
    ];
    const senderIds = [
      'ss',
      'Ünïcødé 🚀',
      '東京',
      '\u00e9',
      '7',
      '1000',
      '',
      'a ',
      'a',
      long,
      'tab\there',
      '😀'.repeat(50),
      'SS',
    ];
    const found = shared(run(receiverIds, senderIds), receiverIds, senderIds);
    expect([...found].sort()).toEqual(plaintext(receiverIds, senderIds));
    expect(found).toHaveLength(10);
  });

  it("in membership mode tells the receiver which of the sender's positions hold its ids, the sender only its own positions", () => {
    const random = new Random('membership');
    const seeds = [...new Set(randomIds(random, 300, 5000))];
    const pool = [...new Set(randomIds(random, 3000, 5000))];
    const outcome = run(seeds, pool, { mode: 'membership', minBuckets: 4 });
    if (outcome.receiver.mode !== 'membership') throw new Error('not membership');
    const flagged = Array.from(outcome.receiver.isMember).flatMap((bit, position) =>
      bit === 1 ? [pool[outcome.senderPositions[position]!]] : [],
    );
    expect(flagged.sort()).toEqual(plaintext(seeds, pool));
    // Every real pool row has exactly one position; the rest are padding (-1).
    const rows = Array.from(outcome.senderPositions)
      .filter((r) => r >= 0)
      .sort((a, b) => a - b);
    expect(rows).toEqual(pool.map((_, k) => k));
    expect(outcome.receiver.isMember).toHaveLength(outcome.senderPositions.length);
  });

  it('sends the same bytes again from the same secrets, so a restarted party resends what its peer may have used', () => {
    const capture = (): Buffer[] => {
      const out: Buffer[] = [];
      run(['a', 'b', 'c', 'd'], ['c', 'd', 'e'], {
        minBuckets: 2,
        seen: (_, m) =>
          out.push(
            Buffer.from(
              JSON.stringify(m, (_k, v: unknown) =>
                v instanceof Uint8Array || v instanceof Uint32Array
                  ? Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('hex')
                  : v,
              ),
            ),
          ),
      });
      return out;
    };
    expect(capture()).toEqual(capture());
  });
});
