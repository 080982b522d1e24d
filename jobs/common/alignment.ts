/**
 * Alignment by private set intersection (intersection mode): the guest runs
 * ECDH-PSI with every host (with `alignment.psi: oprf`, OPRF-PSI from
 * oblivious transfer: jobs/common/oprf-psi.ts; with `coordinator`, has the
 * coordinator match PRF lists: jobs/common/coordinator-psi.ts), keeps the rows
 * all hosts share, and tells each host its positions of those rows in one
 * shared order. Nobody learns another party's ids outside the intersection
 * (with the coordinator's help, as long as it colludes with no party).
 */
import { createHash, hash } from 'node:crypto';
import { newScalar } from '../../protocol/psi/group.ts';
import {
  guestReceiveAsync,
  hostReceiveAsync,
  startGuestAsync,
  startHostAsync,
  type GuestPsiResult,
  type GuestPsiState,
  type HostPsiState,
  type PsiMessage,
  type PsiMode,
  type PsiSetup,
} from '../../protocol/psi/psi-session.ts';
import { PSI_GUEST_REBLINDED, PSI_GUEST_SET, PSI_HOST_SET, PSI_RESULT, type Message } from '../../protocol/messages.ts';
import type { tandem } from '../../protocol/generated/tandem.js';
import { DataError } from '../../protocol/errors.ts';
import { Random } from '../../protocol/random.ts';
import type { CryptoPool } from '../../runtime/crypto-pool.ts';
import type { JobChannel } from '../../party/channel.ts';
import type { JobSpec } from '../../protocol/job-spec.ts';
import { alignAsHostViaCoordinator, matchViaCoordinator, type PrfMatch } from './coordinator-psi.ts';
import { oprfAsGuest, oprfAsHost, type OprfOptions } from './oprf-psi.ts';
import { senderRowsAt } from '../../protocol/psi/oprf/results.ts';

/** Where PSI is, for the guest's progress bar: steps done of the total, when the protocol counts them (OPRF: per bucket). */
export type PsiStepCount = { readonly done: number; readonly total: number };

/** A progress message; `step` when the protocol counts its own steps (otherwise each message is one). */
export type Progress = (message: string, step?: PsiStepCount) => void;

function domainKey(jobId: string, guest: string, host: string): Uint8Array {
  return createHash('sha256').update(`tandem/v1/psi|${jobId}|${guest}|${host}`).digest();
}

/**
 * This party's PSI scalar and shuffle for one peer. Given `seedFor` (a
 * secret only this node can compute, per job and peer) they are derived
 * from it, so a party restarted mid-PSI blinds exactly as before and its
 * resent messages match what the peer already used (docs/durability.md);
 * otherwise they are fresh random.
 */
export type PsiSeed = (peer: string) => Promise<Uint8Array>;

async function psiSecrets(
  peer: string,
  n: number,
  seedFor: PsiSeed | undefined,
): Promise<{ scalar: Uint8Array; permutation: Uint32Array }> {
  if (seedFor === undefined) return { scalar: newScalar(), permutation: new Random(newScalar()).permutation(n) };
  const seed = await seedFor(peer);
  const derive = (label: string): Uint8Array =>
    createHash('sha256').update(`tandem/v1/psi-${label}|`).update(seed).digest();
  return { scalar: derive('scalar'), permutation: new Random(derive('permutation')).permutation(n) };
}

type PsiElementsMessage = Message<tandem.v1.PsiElements, tandem.v1.PsiElements.$Properties>;

/** The catalogued message of each PSI step that carries blinded elements. */
const PSI_ELEMENT_STEPS: Readonly<Record<string, PsiElementsMessage>> = {
  [PSI_GUEST_SET.step]: PSI_GUEST_SET,
  [PSI_HOST_SET.step]: PSI_HOST_SET,
  [PSI_GUEST_REBLINDED.step]: PSI_GUEST_REBLINDED,
};

/** Sends a PSI session's outbound message (blinded elements) to `to`. */
export function postPsi(channel: JobChannel, to: string, message: PsiMessage): void {
  const m = PSI_ELEMENT_STEPS[message.step];
  if (m === undefined || !('elements' in message))
    throw new RangeError(`PSI step ${message.step} carries no blinded elements`);
  channel.post(to, m, 0, { elements: message.elements, count: message.elements.byteLength / 32 });
}

/** Waits for blinded elements from `from` at step `m`. */
export async function receivePsi(channel: JobChannel, from: string, m: PsiElementsMessage): Promise<PsiMessage> {
  const body = await channel.take(from, m, 0);
  return { step: m.step, elements: body.elements } as PsiMessage;
}

/**
 * The guest's side of one PSI run with `host`, in any mode: sends its blinded
 * set, takes the host's two answers (blinding on the worker pool) and
 * returns the result; `onSent` runs once the set is on its way.
 */
export async function runGuestPsi<M extends PsiMode>(
  channel: JobChannel,
  crypto: CryptoPool,
  host: string,
  setup: PsiSetup & { readonly mode: M },
  onSent?: () => void,
): Promise<Extract<GuestPsiResult, { mode: M }>> {
  let t = await startGuestAsync(setup, crypto.blind);
  for (const m of t.outbound) postPsi(channel, host, m);
  onSent?.();
  let state: GuestPsiState = t.state;
  for (const step of [PSI_HOST_SET, PSI_GUEST_REBLINDED]) {
    t = await guestReceiveAsync(state, await receivePsi(channel, host, step), crypto.blind);
    state = t.state;
  }
  if (state.stage !== 'done' || state.result.mode !== setup.mode)
    throw new RangeError(`${setup.mode} PSI with ${host} did not finish`);
  return state.result as Extract<GuestPsiResult, { mode: M }>;
}

/** How ids are matched: the job spec's `alignment.psi`. */
export type PsiProtocol = JobSpec['alignmentPsi'];

/** Guest: returns its aligned rows in the shared order. */
export async function alignAsGuest(
  channel: JobChannel,
  crypto: CryptoPool,
  ids: readonly string[],
  hosts: readonly string[],
  seed: string,
  file: string,
  progress: Progress,
  seedFor?: PsiSeed,
  psi: PsiProtocol = 'ecdh',
  oprf: OprfOptions = {},
): Promise<Uint32Array> {
  const perHost = await guestMatches(channel, crypto, ids, hosts, progress, seedFor, psi, oprf);
  const positionByHost = perHost.map((matches) => new Map(matches.map((m) => [m.guestRow, m.hostPosition])));
  const shared = (perHost[0] ?? []).map((m) => m.guestRow).filter((row) => positionByHost.every((map) => map.has(row)));
  const rows = alignmentOrder(ids, shared, seed);
  if (rows.length === 0) {
    throw new DataError('PSI_EMPTY_INTERSECTION', {
      file,
      problem: `none of the ${ids.length} ids is shared with ${hosts.join(' and ')}`,
      fix: 'check that both sides use the same id column and format (case, spaces, leading zeros)',
    });
  }
  hosts.forEach((host, k) => {
    const positions = Uint32Array.from(rows, (row) => positionByHost[k]?.get(row) ?? 0);
    channel.post(host, PSI_RESULT, 0, {
      indices: writeIndices(positions),
      count: positions.length,
      purpose: 'alignment',
    });
  });
  return Uint32Array.from(rows);
}

/** Guest: per host, its rows shared with that host and the host's (secret-order) positions of them. */
async function guestMatches(
  channel: JobChannel,
  crypto: CryptoPool,
  ids: readonly string[],
  hosts: readonly string[],
  progress: Progress,
  seedFor: PsiSeed | undefined,
  psi: PsiProtocol,
  oprf: OprfOptions,
): Promise<ReadonlyArray<readonly PrfMatch[]>> {
  if (psi === 'coordinator')
    return (await matchViaCoordinator(channel, ids, hosts, progress, seedFor)).map((r) => r.matches);
  if (psi === 'oprf') {
    const results = await oprfAsGuest({
      channel,
      ids,
      hosts,
      mode: 'intersection',
      seedFor,
      options: oprf,
      onStep: (message, done, total) => progress(message, { done, total }),
    });
    return results.map((r) =>
      Array.from(r.receiverRows, (guestRow, m) => ({ guestRow, hostPosition: r.senderPositions[m] ?? 0 })),
    );
  }
  return Promise.all(
    hosts.map(async (host) => {
      const result = await runGuestPsi(
        channel,
        crypto,
        host,
        {
          mode: 'intersection',
          ids,
          domainKey: domainKey(channel.jobId, channel.me, host),
          ...(await psiSecrets(host, ids.length, seedFor)),
        },
        () => progress(`PSI with ${host}: sent ${ids.length} blinded ids`),
      );
      progress(`PSI with ${host}: ${result.matches.length} shared of ${ids.length} (host has ${result.hostCount})`);
      return result.matches;
    }),
  );
}

/** Host: returns its aligned rows in the shared order. */
export async function alignAsHost(
  channel: JobChannel,
  crypto: CryptoPool,
  ids: readonly string[],
  guest: string,
  file: string,
  progress: Progress,
  seedFor?: PsiSeed,
  psi: PsiProtocol = 'ecdh',
  oprf: OprfOptions = {},
): Promise<Uint32Array> {
  if (psi === 'coordinator') return alignAsHostViaCoordinator(channel, ids, guest, file, progress, seedFor);
  if (psi === 'oprf') return alignAsHostOprf(channel, ids, guest, file, progress, seedFor, oprf);
  const setup = {
    mode: 'intersection' as const,
    ids,
    domainKey: domainKey(channel.jobId, guest, channel.me),
    ...(await psiSecrets(guest, ids.length, seedFor)),
  };
  let t = await startHostAsync(setup, crypto.blind);
  for (const m of t.outbound) postPsi(channel, guest, m);
  progress(`PSI with ${guest}: sent ${ids.length} blinded ids`);
  let state: HostPsiState = t.state;
  t = await hostReceiveAsync(state, await receivePsi(channel, guest, PSI_GUEST_SET), crypto.blind);
  state = t.state;
  for (const m of t.outbound) postPsi(channel, guest, m);
  const selection = await channel.take(guest, PSI_RESULT, 0);
  t = await hostReceiveAsync(
    state,
    { step: 'psi-result', positions: readIndices(selection.indices, selection.count), count: selection.count },
    crypto.blind,
  );
  if (t.state.stage !== 'done' || t.state.result.mode !== 'intersection') throw new RangeError('PSI did not finish');
  if (t.state.result.rows.length === 0) {
    throw new DataError('PSI_EMPTY_INTERSECTION', {
      file,
      problem: `none of the ${ids.length} ids is shared with ${guest}`,
      fix: 'check that both sides use the same id column and format',
    });
  }
  progress(`PSI with ${guest}: ${t.state.result.rows.length} shared of ${ids.length}`);
  return t.state.result.rows;
}

/** Host, OPRF-PSI: the sender's side, then its rows at the positions the guest sends (psi-result), in the shared order. */
async function alignAsHostOprf(
  channel: JobChannel,
  ids: readonly string[],
  guest: string,
  file: string,
  progress: Progress,
  seedFor: PsiSeed | undefined,
  oprf: OprfOptions,
): Promise<Uint32Array> {
  const { positionRows } = await oprfAsHost(channel, ids, guest, 'intersection', seedFor, oprf, progress);
  const selection = await channel.take(guest, PSI_RESULT, 0);
  // A position outside the host's list, or at padding, is MESSAGE_CORRUPT (protocol/psi/oprf/results.ts).
  const rows = senderRowsAt(positionRows, readIndices(selection.indices, selection.count));
  if (rows.length === 0) {
    throw new DataError('PSI_EMPTY_INTERSECTION', {
      file,
      problem: `none of the ${ids.length} ids is shared with ${guest}`,
      fix: 'check that both sides use the same id column and format',
    });
  }
  progress(`PSI with ${guest}: ${rows.length} shared of ${ids.length}`);
  return rows;
}

/**
 * The shared row order: by SHA-256 of the job seed and the id. A host can
 * compute it for the ids it already knows are shared, so it learns nothing
 * about the guest's file order; a test can reproduce it on pooled data.
 */
export function alignmentOrder(ids: readonly string[], rows: readonly number[], seed: string): Uint32Array {
  const keys = rows.map((row) => hash('sha256', `tandem/v1/align|${seed}|${ids[row] ?? ''}`, 'hex'));
  // Sorted on a 48-bit prefix first: comparing numbers, not strings, is what keeps 500,000 rows under a second.
  const prefix = Float64Array.from(keys, (key) => parseInt(key.slice(0, 12), 16));
  const order = Uint32Array.from(rows, (_, k) => k).sort(
    (a, b) =>
      (prefix[a] ?? 0) - (prefix[b] ?? 0) ||
      ((keys[a] ?? '') < (keys[b] ?? '') ? -1 : (keys[a] ?? '') > (keys[b] ?? '') ? 1 : 0),
  );
  return Uint32Array.from(order, (k) => rows[k] ?? 0);
}

export function readIndices(bytes: Uint8Array, count: number): Uint32Array {
  if (bytes.byteLength !== count * 4)
    throw new DataError('DATA_SCHEMA_MISMATCH', {
      file: 'row selection',
      problem: `${bytes.byteLength} bytes for ${count} indices`,
      fix: 'upgrade both parties to the same version',
    });
  const out = new Uint32Array(count);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let k = 0; k < count; k++) out[k] = view.getUint32(k * 4, true);
  return out;
}

export function writeIndices(indices: Uint32Array): Uint8Array {
  const out = new Uint8Array(indices.length * 4);
  const view = new DataView(out.buffer);
  indices.forEach((v, k) => view.setUint32(k * 4, v, true));
  return out;
}
