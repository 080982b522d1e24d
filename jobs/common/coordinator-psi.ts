/**
 * The parties' side of coordinator-aided PSI (`alignment.psi: coordinator`,
 * protocol/psi/coordinator-aided.ts). The guest and each host send the
 * coordinator PRF values of their ids under their pair key; the coordinator
 * tells the guest which positions matched; from there the guest finishes
 * exactly as after ECDH-PSI (jobs/common/alignment.ts): shared rows in the
 * shared order, and each host told its positions of them, sealed.
 */
import { createHash } from 'node:crypto';
import type { tandem } from '../../protocol/generated/tandem.js';
import { prfSetAsync, psiInputError, readPositions } from '../../protocol/psi/coordinator-aided.ts';
import { newScalar } from '../../protocol/psi/group.ts';
import { PSI_MATCHES, PSI_PRF, PSI_RESULT } from '../../protocol/messages.ts';
import { DataError } from '../../protocol/errors.ts';
import { Random } from '../../protocol/random.ts';
import { COORDINATOR } from '../../protocol/version.ts';
import type { JobChannel } from '../../party/channel.ts';

/** Per job and peer, secret to this node (see PsiSeed in alignment.ts). */
type Seed = ((peer: string) => Promise<Uint8Array>) | undefined;

/** A guest row matched with a position in the host's (secret) order. */
export type PrfMatch = { readonly guestRow: number; readonly hostPosition: number };

/** The pair key's purpose: one key per job and pair, for this PRF only. */
const PURPOSE = 'psi-prf';

/** This party's secret order of its ids for `peer`: from the node seed (a restart sends the same list), else fresh. */
async function order(peer: string, n: number, seedFor: Seed): Promise<Uint32Array> {
  const seed =
    seedFor === undefined
      ? newScalar()
      : createHash('sha256')
          .update('tandem/v1/psi-prf-order|')
          .update(await seedFor(peer))
          .digest();
  return new Random(seed).permutation(n);
}

async function sendSet(
  channel: JobChannel,
  ids: readonly string[],
  peer: string,
  seq: number,
  seedFor: Seed,
): Promise<Uint32Array> {
  const permutation = await order(peer, ids.length, seedFor);
  const values = await prfSetAsync(channel.pairKey(peer, PURPOSE), ids, permutation);
  channel.post(COORDINATOR, PSI_PRF, 0, { peer, values, count: ids.length }, seq);
  return permutation;
}

/** Guest: the coordinator's answer for `host` (sent at `seq`), checked against the list sent. */
async function receiveMatches(
  channel: JobChannel,
  host: string,
  seq: number,
  guestCount: number,
): Promise<tandem.v1.PsiPrfMatches> {
  const body = await channel.take(COORDINATOR, PSI_MATCHES, 0, seq);
  if (body.peer !== host || body.guestCount !== guestCount)
    throw psiInputError(
      `the coordinator answered for ${body.peer} with ${body.guestCount} guest values, expected ${host} with ${guestCount}`,
    );
  return body;
}

/** Guest: for each host, its rows shared with that host, the host's positions of them, and the host's list size. */
export async function matchViaCoordinator(
  channel: JobChannel,
  ids: readonly string[],
  hosts: readonly string[],
  progress: (message: string) => void,
  seedFor: Seed,
): Promise<Array<{ matches: PrfMatch[]; hostCount: number }>> {
  return Promise.all(
    hosts.map(async (host, seq) => {
      const permutation = await sendSet(channel, ids, host, seq, seedFor);
      progress(`PSI with ${host}: sent ${ids.length} PRF values to the coordinator`);
      const body = await receiveMatches(channel, host, seq, ids.length);
      const guestPositions = readPositions(
        body.guestPositions,
        body.count,
        ids.length,
        `psi-matches for ${host} (guest positions)`,
      );
      const hostPositions = readPositions(
        body.hostPositions,
        body.count,
        body.hostCount,
        `psi-matches for ${host} (host positions)`,
      );
      progress(`PSI with ${host}: ${body.count} shared of ${ids.length} (host has ${body.hostCount})`);
      return {
        matches: Array.from(guestPositions, (p, k) => ({
          guestRow: permutation[p] ?? 0,
          hostPosition: hostPositions[k] ?? 0,
        })),
        hostCount: body.hostCount,
      };
    }),
  );
}

/** Guest, reach jobs: only how many of its ids `host` holds (the coordinator sends no positions). */
export async function countViaCoordinator(
  channel: JobChannel,
  ids: readonly string[],
  host: string,
): Promise<{ size: number; hostCount: number }> {
  await sendSet(channel, ids, host, 0, undefined);
  const body = await receiveMatches(channel, host, 0, ids.length);
  if (
    body.guestPositions.byteLength > 0 ||
    body.hostPositions.byteLength > 0 ||
    body.count > Math.min(ids.length, body.hostCount)
  ) {
    throw psiInputError(
      `the coordinator's count for ${host} carries positions or exceeds the list sizes (${body.count} of ${ids.length} and ${body.hostCount})`,
    );
  }
  return { size: body.count, hostCount: body.hostCount };
}

/** Host: sends its PRF list for `guest`; returns its secret order (position k of the list is row permutation[k]). */
export function offerViaCoordinator(
  channel: JobChannel,
  ids: readonly string[],
  guest: string,
  seedFor: Seed,
): Promise<Uint32Array> {
  return sendSet(channel, ids, guest, 0, seedFor);
}

/** Host: sends its PRF set, then takes its rows in the shared order from the guest (sealed). */
export async function alignAsHostViaCoordinator(
  channel: JobChannel,
  ids: readonly string[],
  guest: string,
  file: string,
  progress: (message: string) => void,
  seedFor: Seed,
): Promise<Uint32Array> {
  const permutation = await offerViaCoordinator(channel, ids, guest, seedFor);
  progress(`PSI with ${guest}: sent ${ids.length} PRF values to the coordinator`);
  const selection = await channel.take(guest, PSI_RESULT, 0);
  const positions = readPositions(selection.indices, selection.count, ids.length, `psi-result from ${guest}`);
  if (positions.length === 0) {
    throw new DataError('PSI_EMPTY_INTERSECTION', {
      file,
      problem: `none of the ${ids.length} ids is shared with ${guest}`,
      fix: 'check that both sides use the same id column and format',
    });
  }
  progress(`PSI with ${guest}: ${positions.length} shared of ${ids.length}`);
  return Uint32Array.from(positions, (p) => permutation[p] ?? 0);
}
