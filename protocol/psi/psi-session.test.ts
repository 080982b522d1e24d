import { describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import {
  guestReceive,
  guestReceiveAsync,
  hostReceive,
  hostReceiveAsync,
  startGuest,
  startGuestAsync,
  startHost,
  startHostAsync,
  type GuestPsiState,
  type HostPsiState,
  type PsiMessage,
  type PsiMode,
} from './psi-session.ts';
import { blind, newScalar } from './group.ts';
import { ProtocolStageError } from '../errors.ts';

function permutation(n: number): Uint32Array {
  const p = Uint32Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = randomBytes(4).readUInt32LE() % (i + 1);
    [p[i], p[j]] = [p[j]!, p[i]!];
  }
  return p;
}

function run(mode: PsiMode, guestIds: string[], hostIds: string[]) {
  const domainKey = randomBytes(32);
  const stages: string[] = [];
  const wire: PsiMessage[] = [];
  const g = startGuest({
    mode,
    ids: guestIds,
    domainKey,
    scalar: newScalar(),
    permutation: permutation(guestIds.length),
  });
  const h = startHost({
    mode,
    ids: hostIds,
    domainKey,
    scalar: newScalar(),
    permutation: permutation(hostIds.length),
    resultShuffle: permutation(guestIds.length),
  });
  let guest: GuestPsiState = g.state;
  let host: HostPsiState = h.state;
  const toHost = [...g.outbound];
  const toGuest = [...h.outbound];
  while (toHost.length > 0 || toGuest.length > 0) {
    const m = toHost.shift();
    if (m !== undefined) {
      wire.push(m);
      const t = hostReceive(host, m);
      host = t.state;
      stages.push(`host:${host.stage}`);
      toGuest.push(...t.outbound);
    }
    const n = toGuest.shift();
    if (n !== undefined) {
      wire.push(n);
      const t = guestReceive(guest, n);
      guest = t.state;
      stages.push(`guest:${guest.stage}`);
    }
  }
  return { guest, host, stages, wire };
}

const ids = (prefix: string, from: number, to: number): string[] =>
  Array.from({ length: to - from }, (_, i) => `${prefix}${from + i}`);

describe('PSI', () => {
  it('in intersection mode gives both sides the same shared rows in the same order', () => {
    const guestIds = ids('user-', 0, 300);
    const hostIds = ids('user-', 200, 600).reverse();
    const { guest, host, stages } = run('intersection', guestIds, hostIds);

    expect(stages).toEqual(['host:awaiting-result', 'guest:awaiting-host', 'guest:done']);
    if (guest.stage !== 'done' || guest.result.mode !== 'intersection') throw new Error('guest not done');
    const matches = guest.result.matches;
    expect(matches).toHaveLength(100);
    const guestSide = matches.map((m) => guestIds[m.guestRow]);
    expect(new Set(guestSide)).toEqual(new Set(ids('user-', 200, 300)));

    // The guest tells the host its positions in the shared order.
    const t = hostReceive(host, {
      step: 'psi-result',
      positions: Uint32Array.from(matches.map((m) => m.hostPosition)),
      count: matches.length,
    });
    if (t.state.stage !== 'done' || t.state.result.mode !== 'intersection') throw new Error('host not done');
    expect(Array.from(t.state.result.rows, (r) => hostIds[r])).toEqual(guestSide);
  });

  it('never puts an id on the wire, only 32-byte blinded elements', () => {
    const guestIds = ids('alice-', 0, 50);
    const { wire } = run('intersection', guestIds, ids('alice-', 25, 75));
    const bytes = Buffer.concat(wire.map((m) => ('elements' in m ? Buffer.from(m.elements) : Buffer.alloc(0))));
    expect(bytes.byteLength).toBe((50 + 50 + 50) * 32);
    expect(bytes.includes(Buffer.from('alice-'))).toBe(false);
  });

  it('in membership mode tells the guest which host rows are its seeds and the host nothing', () => {
    const seeds = ids('u', 0, 40);
    const pool = ids('u', 20, 220);
    const { guest, host } = run('membership', seeds, pool);
    if (guest.stage !== 'done' || guest.result.mode !== 'membership') throw new Error('guest not done');
    if (host.stage !== 'done' || host.result.mode !== 'membership') throw new Error('host not done');
    const flagged = Array.from(guest.result.isMember).flatMap((bit, position) =>
      bit === 1 ? [pool[host.result.mode === 'membership' ? host.result.permutation[position]! : 0]] : [],
    );
    expect(new Set(flagged)).toEqual(new Set(ids('u', 20, 40)));
    // The host's result holds only its own shuffle: no seed information.
    expect(Object.keys(host.result)).toEqual(['mode', 'permutation']);
  });

  it('in size mode gives the guest only the count', () => {
    const { guest } = run('size', ids('k', 0, 100), ids('k', 90, 150));
    if (guest.stage !== 'done' || guest.result.mode !== 'size') throw new Error('guest not done');
    expect(guest.result.size).toBe(10);
    expect(Object.keys(guest.result).sort()).toEqual(['hostCount', 'mode', 'size']);
  });

  it('names the expected and received stage when a message arrives out of order', () => {
    const h = startHost({
      mode: 'intersection',
      ids: ['a'],
      domainKey: randomBytes(32),
      scalar: newScalar(),
      permutation: Uint32Array.of(0),
    });
    const early: PsiMessage = { step: 'psi-result', positions: new Uint32Array(0), count: 0 };
    expect(() => hostReceive(h.state, early)).toThrow(ProtocolStageError);
    expect(() => hostReceive(h.state, early)).toThrow(
      'psi-host: expected stage "psi-guest-set" but received "psi-result"',
    );
  });

  it('gives the same result through the async transitions and an async blinder', async () => {
    const guestIds = ids('user-', 0, 300);
    const hostIds = ids('user-', 200, 600);
    const domainKey = randomBytes(32);
    const guestSetup = {
      mode: 'intersection' as const,
      ids: guestIds,
      domainKey,
      scalar: newScalar(),
      permutation: permutation(guestIds.length),
    };
    const hostSetup = {
      mode: 'intersection' as const,
      ids: hostIds,
      domainKey,
      scalar: newScalar(),
      permutation: permutation(hostIds.length),
    };
    let blinded = 0;
    const blinder = async (scalar: Uint8Array, elements: Uint8Array): Promise<Uint8Array> => {
      blinded += elements.byteLength / 32;
      return Promise.resolve(blind(scalar, elements));
    };
    const drive = async (async: boolean) => {
      const g = async ? await startGuestAsync(guestSetup, blinder) : startGuest(guestSetup);
      const h = async ? await startHostAsync(hostSetup, blinder) : startHost(hostSetup);
      const toGuest = async
        ? await hostReceiveAsync(h.state, g.outbound[0]!, blinder)
        : hostReceive(h.state, g.outbound[0]!);
      let guest = g.state;
      for (const m of [h.outbound[0]!, toGuest.outbound[0]!])
        guest = (async ? await guestReceiveAsync(guest, m, blinder) : guestReceive(guest, m)).state;
      if (guest.stage !== 'done' || guest.result.mode !== 'intersection') throw new Error('guest not done');
      return guest.result.matches.map((m) => [m.guestRow, m.hostPosition]);
    };
    const sync = await drive(false);
    expect(sync).toHaveLength(100);
    expect(await drive(true)).toEqual(sync);
    expect(blinded).toBe(300 + 400 + 300 + 400); // every blinding went through the async blinder
  });

  it('compares packed values exactly as a map of their bytes would: matches, shared order, repeats and near-equal prefixes', async () => {
    // Values chosen so that some agree on their first 8 bytes (the sort's numeric prefix) and differ later, and some repeat.
    const element = (k: number, tail: number): Uint8Array =>
      Uint8Array.from({ length: 32 }, (_, b) => (b < 8 ? (k * 37 + b) % 7 : (tail * 131 + b) % 251));
    const pack = (values: Uint8Array[]): Uint8Array => {
      const out = new Uint8Array(values.length * 32);
      values.forEach((v, k) => out.set(v, k * 32));
      return out;
    };
    const guestValues = Array.from({ length: 400 }, (_, k) => element(k, k % 50));
    const hostValues = Array.from({ length: 300 }, (_, k) => element(k * 3, (k * 3) % 170));
    const reblinded = pack(guestValues);
    const hostSet = pack(hostValues);
    const perm = Uint32Array.from({ length: 400 }, (_, k) => (k * 7) % 400);
    const setup = (mode: PsiMode) => ({
      mode,
      ids: [],
      domainKey: new Uint8Array(32),
      scalar: new Uint8Array(32),
      permutation: perm,
    });
    const identity = async (_scalar: Uint8Array, elements: Uint8Array): Promise<Uint8Array> =>
      Promise.resolve(elements);
    const compare = async (mode: PsiMode) => {
      let state: GuestPsiState = { stage: 'awaiting-host', setup: setup(mode), reblinded };
      state = (await guestReceiveAsync(state, { step: 'psi-host-set', elements: hostSet }, identity)).state;
      if (state.stage !== 'done') throw new Error('guest not done');
      return state.result;
    };

    // The reference: what the comparison did before, base64 keys in a Map (a repeated value keeps its last position) and Buffer.compare.
    const byKey = new Map(guestValues.map((v, k) => [Buffer.from(v).toString('base64'), k]));
    const expected = hostValues
      .flatMap((v, j) => {
        const k = byKey.get(Buffer.from(v).toString('base64'));
        return k === undefined ? [] : [{ guestRow: perm[k], hostPosition: j, key: v }];
      })
      .sort((x, y) => Buffer.compare(x.key, y.key));
    expect(expected.length).toBeGreaterThan(20);
    expect(expected.length).toBeLessThan(300);

    const intersection = await compare('intersection');
    if (intersection.mode !== 'intersection') throw new Error('wrong mode');
    expect(intersection.matches.map((m) => [m.guestRow, m.hostPosition, Buffer.from(m.key).toString('hex')])).toEqual(
      expected.map((m) => [m.guestRow, m.hostPosition, Buffer.from(m.key).toString('hex')]),
    );
    const membership = await compare('membership');
    if (membership.mode !== 'membership') throw new Error('wrong mode');
    expect([...membership.isMember]).toEqual(
      hostValues.map((v) => (byKey.has(Buffer.from(v).toString('base64')) ? 1 : 0)),
    );
    expect(await compare('size')).toEqual({ mode: 'size', size: expected.length, hostCount: 300 });
  });
});
