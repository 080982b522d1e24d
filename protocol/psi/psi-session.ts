/**
 * ECDH-PSI as pure state machines, one per role: `(state, message) →
 * {state, outbound}`. The secret scalar, the shuffle and the ids are passed in.
 *
 * Flow (guest G with ids X and scalar a, host H with ids Y and scalar b):
 *   G → H  psi-guest-set        a·H(X), shuffled by G
 *   H → G  psi-host-set         b·H(Y), shuffled by H
 *   H → G  psi-guest-reblinded  b·a·H(X), in G's order (shuffled again in `size` mode)
 *   G → H  psi-result           (`intersection`) H's positions of the final rows, in the shared order
 * G compares a·b·H(Y) with b·a·H(X). What each side learns, by mode:
 *   intersection  both: which of their own rows are shared, in one shared order
 *   membership    G: for each of H's (shuffled) rows, whether it is one of G's ids; H: nothing
 *   size          both: only the count
 */
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { ProtocolStageError } from '../errors.ts';
import { blind, ELEMENT_BYTES, hashIds, hashIdsAsync } from './group.ts';

export type PsiMode = 'intersection' | 'membership' | 'size';

export type PsiMessage =
  | { readonly step: 'psi-guest-set'; readonly elements: Uint8Array }
  | { readonly step: 'psi-host-set'; readonly elements: Uint8Array }
  | { readonly step: 'psi-guest-reblinded'; readonly elements: Uint8Array }
  | { readonly step: 'psi-result'; readonly positions: Uint32Array; readonly count: number };

export type PsiSetup = {
  readonly mode: PsiMode;
  readonly ids: readonly string[];
  readonly domainKey: Uint8Array;
  readonly scalar: Uint8Array;
  /** `permutation[k]` = the local row sent at position k. */
  readonly permutation: Uint32Array;
  /** Shuffle used by the host to hide the order of re-blinded values in `size` mode. */
  readonly resultShuffle?: Uint32Array;
  readonly onProgress?: (done: number, total: number) => void;
};

/** One guest row matched with one host position, keyed by the doubly blinded value. */
export type PsiMatch = { readonly guestRow: number; readonly hostPosition: number; readonly key: Uint8Array };

export type GuestPsiResult =
  | { readonly mode: 'intersection'; readonly matches: readonly PsiMatch[]; readonly hostCount: number }
  | { readonly mode: 'membership'; readonly isMember: Uint8Array; readonly hostCount: number }
  | { readonly mode: 'size'; readonly size: number; readonly hostCount: number };

export type GuestPsiState =
  | {
      readonly stage: 'awaiting-host';
      readonly setup: PsiSetup;
      readonly hostSet?: Uint8Array;
      readonly reblinded?: Uint8Array;
    }
  | { readonly stage: 'done'; readonly result: GuestPsiResult };

export type HostPsiResult =
  | { readonly mode: 'intersection'; readonly rows: Uint32Array }
  | { readonly mode: 'membership'; readonly permutation: Uint32Array }
  | { readonly mode: 'size'; readonly size: number };

export type HostPsiState =
  | { readonly stage: 'awaiting-guest-set'; readonly setup: PsiSetup }
  | { readonly stage: 'awaiting-result'; readonly setup: PsiSetup }
  | { readonly stage: 'done'; readonly result: HostPsiResult };

export type Transition<S> = { readonly state: S; readonly outbound: readonly PsiMessage[] };

/**
 * Blinds like {@link blind} but off the calling thread (e.g. on a worker
 * pool), so a node keeps answering its peers meanwhile. Must give the same
 * bytes as `blind`. The `*Async` transitions take one; the plain ones blind
 * on the calling thread.
 */
export type AsyncBlinder = (
  scalar: Uint8Array,
  elements: Uint8Array,
  onProgress?: (done: number) => void,
) => Promise<Uint8Array>;

/** What a party blinds first: H(id) of its rows in its secret order. */
function ownElements(setup: PsiSetup): Uint8Array {
  return hashIds(
    setup.domainKey,
    Array.from(setup.permutation, (row) => setup.ids[row] ?? ''),
  );
}

/** {@link ownElements}, hashing in slices that let the event loop run (1M ids take seconds). */
function ownElementsAsync(setup: PsiSetup): Promise<Uint8Array> {
  return hashIdsAsync(setup.domainKey, setup.ids, setup.permutation);
}

function ownProgress(setup: PsiSetup): (done: number) => void {
  return (done) => setup.onProgress?.(done, setup.ids.length * 2);
}

function hostSetProgress(setup: PsiSetup, hostSet: Uint8Array): (done: number) => void {
  const hostCount = hostSet.byteLength / ELEMENT_BYTES;
  return (done) => setup.onProgress?.(setup.ids.length + done, setup.ids.length + hostCount);
}

export function startGuest(setup: PsiSetup): Transition<GuestPsiState> {
  return guestStarted(setup, blind(setup.scalar, ownElements(setup), ownProgress(setup)));
}

export async function startGuestAsync(setup: PsiSetup, blinder: AsyncBlinder): Promise<Transition<GuestPsiState>> {
  return guestStarted(setup, await blinder(setup.scalar, await ownElementsAsync(setup), ownProgress(setup)));
}

function guestStarted(setup: PsiSetup, elements: Uint8Array): Transition<GuestPsiState> {
  return { state: { stage: 'awaiting-host', setup }, outbound: [{ step: 'psi-guest-set', elements }] };
}

export function startHost(setup: PsiSetup): Transition<HostPsiState> {
  return hostStarted(setup, blind(setup.scalar, ownElements(setup), ownProgress(setup)));
}

export async function startHostAsync(setup: PsiSetup, blinder: AsyncBlinder): Promise<Transition<HostPsiState>> {
  return hostStarted(setup, await blinder(setup.scalar, await ownElementsAsync(setup), ownProgress(setup)));
}

function hostStarted(setup: PsiSetup, elements: Uint8Array): Transition<HostPsiState> {
  return { state: { stage: 'awaiting-guest-set', setup }, outbound: [{ step: 'psi-host-set', elements }] };
}

type GuestCollecting = Extract<GuestPsiState, { stage: 'awaiting-host' }>;

/** Stores a host message; once both are in, the host set still needs blinding with our scalar. */
function guestCollect(state: GuestPsiState, message: PsiMessage): GuestCollecting {
  if (state.stage !== 'awaiting-host' || (message.step !== 'psi-host-set' && message.step !== 'psi-guest-reblinded')) {
    throw new ProtocolStageError(
      'psi-guest',
      state.stage === 'awaiting-host' ? 'psi-host-set | psi-guest-reblinded' : state.stage,
      message.step,
    );
  }
  return message.step === 'psi-host-set'
    ? { ...state, hostSet: message.elements }
    : { ...state, reblinded: message.elements };
}

export function guestReceive(state: GuestPsiState, message: PsiMessage): Transition<GuestPsiState> {
  const next = guestCollect(state, message);
  if (next.hostSet === undefined || next.reblinded === undefined) return { state: next, outbound: [] };
  const doubleHost = blind(next.setup.scalar, next.hostSet, hostSetProgress(next.setup, next.hostSet));
  return { state: { stage: 'done', result: compareAtGuest(next.setup, doubleHost, next.reblinded) }, outbound: [] };
}

export async function guestReceiveAsync(
  state: GuestPsiState,
  message: PsiMessage,
  blinder: AsyncBlinder,
): Promise<Transition<GuestPsiState>> {
  const next = guestCollect(state, message);
  if (next.hostSet === undefined || next.reblinded === undefined) return { state: next, outbound: [] };
  const doubleHost = await blinder(next.setup.scalar, next.hostSet, hostSetProgress(next.setup, next.hostSet));
  return {
    state: { stage: 'done', result: await compareAtGuestAsync(next.setup, doubleHost, next.reblinded) },
    outbound: [],
  };
}

/** Elements compared per slice before the async comparison yields to the event loop. */
const COMPARE_SLICE = 65_536;

/** Compares a·b·H(Y) (the host set blinded by us) with b·a·H(X), on this thread in one go. */
function compareAtGuest(setup: PsiSetup, doubleHost: Uint8Array, reblinded: Uint8Array): GuestPsiResult {
  const steps = comparing(setup, doubleHost, reblinded);
  for (;;) {
    const step = steps.next();
    if (step.done === true) return step.value;
  }
}

/** {@link compareAtGuest} letting the event loop run between slices (1M ids take about a second of CPU). */
async function compareAtGuestAsync(
  setup: PsiSetup,
  doubleHost: Uint8Array,
  reblinded: Uint8Array,
): Promise<GuestPsiResult> {
  const steps = comparing(setup, doubleHost, reblinded);
  for (;;) {
    const step = steps.next();
    if (step.done === true) return step.value;
    await yieldToEventLoop();
  }
}

/**
 * The comparison, pausing (`yield`) between slices: the guest's values go
 * in an open-addressing table on their packed bytes (no string per value —
 * base64 keys in a Map took seconds and hundreds of MB at 1M ids).
 */
function* comparing(setup: PsiSetup, doubleHost: Uint8Array, reblinded: Uint8Array): Generator<void, GuestPsiResult> {
  const hostCount = doubleHost.byteLength / ELEMENT_BYTES;
  const guestByKey = new ElementIndex(reblinded);
  for (let k = 0; k < reblinded.byteLength / ELEMENT_BYTES; k++) {
    guestByKey.add(k);
    if (k % COMPARE_SLICE === COMPARE_SLICE - 1) yield;
  }
  const found = new Int32Array(hostCount);
  for (let j = 0; j < hostCount; j++) {
    found[j] = guestByKey.get(doubleHost, j);
    if (j % COMPARE_SLICE === COMPARE_SLICE - 1) yield;
  }
  if (setup.mode === 'size') return { mode: 'size', size: found.reduce((n, k) => (k >= 0 ? n + 1 : n), 0), hostCount };
  if (setup.mode === 'membership')
    return { mode: 'membership', isMember: Uint8Array.from(found, (k) => (k >= 0 ? 1 : 0)), hostCount };
  const hostPositions: number[] = [];
  found.forEach((k, j) => {
    if (k >= 0) hostPositions.push(j);
  });
  yield;
  // The shared order: by doubly blinded value, pseudorandom and known to both sides.
  const order = sortedByElement(doubleHost, hostPositions);
  yield;
  const matches = Array.from(order, (m): PsiMatch => {
    const j = hostPositions[m] ?? 0;
    return {
      guestRow: setup.permutation[found[j] ?? 0] ?? 0,
      hostPosition: j,
      key: doubleHost.slice(j * ELEMENT_BYTES, (j + 1) * ELEMENT_BYTES),
    };
  });
  return { mode: 'intersection', matches, hostCount };
}

/** Big-endian 32-bit word `w` of packed element k: comparing words in order compares bytes lexicographically. */
function wordAt(elements: Uint8Array, k: number, w: number): number {
  const o = k * ELEMENT_BYTES + w * 4;
  return (
    (((elements[o] ?? 0) << 24) |
      ((elements[o + 1] ?? 0) << 16) |
      ((elements[o + 2] ?? 0) << 8) |
      (elements[o + 3] ?? 0)) >>>
    0
  );
}

function sameElement(a: Uint8Array, i: number, b: Uint8Array, j: number): boolean {
  for (let k = 0; k < ELEMENT_BYTES; k++) if (a[i * ELEMENT_BYTES + k] !== b[j * ELEMENT_BYTES + k]) return false;
  return true;
}

/** Indices into `positions`, ordered as Buffer.compare orders the elements at those positions (ties by position). */
function sortedByElement(elements: Uint8Array, positions: readonly number[]): Uint32Array {
  const first = Float64Array.from(positions, (j) => wordAt(elements, j, 0) * 2 ** 32 + wordAt(elements, j, 1));
  const order = Uint32Array.from(positions, (_, m) => m);
  const bytes = Buffer.from(elements.buffer, elements.byteOffset, elements.byteLength);
  return order.sort((x, y) => {
    const byPrefix = (first[x] ?? 0) - (first[y] ?? 0);
    if (byPrefix !== 0) return byPrefix;
    const i = positions[x] ?? 0;
    const j = positions[y] ?? 0;
    return (
      Buffer.compare(
        bytes.subarray(i * ELEMENT_BYTES, (i + 1) * ELEMENT_BYTES),
        bytes.subarray(j * ELEMENT_BYTES, (j + 1) * ELEMENT_BYTES),
      ) || i - j
    );
  });
}

/**
 * Packed elements by value: linear probing on their first word (blinded
 * values are uniformly random, so it spreads them). A repeated value keeps
 * its last position, as `Map.set` did.
 */
class ElementIndex {
  readonly #elements: Uint8Array;
  readonly #slots: Int32Array;
  readonly #mask: number;

  constructor(elements: Uint8Array) {
    this.#elements = elements;
    const count = elements.byteLength / ELEMENT_BYTES;
    let size = 16;
    while (size < count * 2) size *= 2;
    this.#slots = new Int32Array(size).fill(-1);
    this.#mask = size - 1;
  }

  /** Indexes element k of the set (call in order: a repeated value keeps its last position). */
  add(k: number): void {
    this.#slots[this.#find(this.#elements, k)] = k;
  }

  /** The position of element j of `elements` in the indexed set, or -1. */
  get(elements: Uint8Array, j: number): number {
    return this.#slots[this.#find(elements, j)] ?? -1;
  }

  /** The slot holding element j of `elements`, or the empty slot where it would go. */
  #find(elements: Uint8Array, j: number): number {
    let slot = wordAt(elements, j, 0) & this.#mask;
    for (;;) {
      const k = this.#slots[slot] ?? -1;
      if (k < 0 || sameElement(this.#elements, k, elements, j)) return slot;
      slot = (slot + 1) & this.#mask;
    }
  }
}

export function hostReceive(state: HostPsiState, message: PsiMessage): Transition<HostPsiState> {
  if (state.stage === 'awaiting-guest-set' && message.step === 'psi-guest-set')
    return hostReblinded(state.setup, blind(state.setup.scalar, message.elements));
  return hostOther(state, message);
}

export async function hostReceiveAsync(
  state: HostPsiState,
  message: PsiMessage,
  blinder: AsyncBlinder,
): Promise<Transition<HostPsiState>> {
  if (state.stage === 'awaiting-guest-set' && message.step === 'psi-guest-set')
    return hostReblinded(state.setup, await blinder(state.setup.scalar, message.elements));
  return hostOther(state, message);
}

/** The host answers the guest set with b·a·H(X). */
function hostReblinded(setup: PsiSetup, blinded: Uint8Array): Transition<HostPsiState> {
  const reblinded = setup.mode === 'size' ? permuteElements(blinded, setup.resultShuffle) : blinded;
  const outbound: PsiMessage[] = [{ step: 'psi-guest-reblinded', elements: reblinded }];
  if (setup.mode === 'membership')
    return { state: { stage: 'done', result: { mode: 'membership', permutation: setup.permutation } }, outbound };
  return { state: { stage: 'awaiting-result', setup }, outbound };
}

function hostOther(state: HostPsiState, message: PsiMessage): Transition<HostPsiState> {
  if (state.stage === 'awaiting-result' && message.step === 'psi-result') {
    if (state.setup.mode === 'size')
      return { state: { stage: 'done', result: { mode: 'size', size: message.count } }, outbound: [] };
    const rows = new Uint32Array(message.positions.length);
    for (let k = 0; k < rows.length; k++) {
      const position = message.positions[k] ?? 0;
      if (position >= state.setup.permutation.length)
        throw new ProtocolStageError(
          'psi-host',
          `psi-result positions below ${state.setup.permutation.length}`,
          `position ${position}`,
        );
      rows[k] = state.setup.permutation[position] ?? 0;
    }
    return { state: { stage: 'done', result: { mode: 'intersection', rows } }, outbound: [] };
  }
  const expected =
    state.stage === 'awaiting-guest-set' ? 'psi-guest-set' : state.stage === 'awaiting-result' ? 'psi-result' : 'done';
  throw new ProtocolStageError('psi-host', expected, message.step);
}

function permuteElements(elements: Uint8Array, shuffle: Uint32Array | undefined): Uint8Array {
  if (shuffle === undefined) throw new RangeError('size mode needs a resultShuffle');
  const out = new Uint8Array(elements.byteLength);
  for (let k = 0; k < shuffle.length; k++)
    out.set(
      elements.subarray((shuffle[k] ?? 0) * ELEMENT_BYTES, ((shuffle[k] ?? 0) + 1) * ELEMENT_BYTES),
      k * ELEMENT_BYTES,
    );
  return out;
}
