/**
 * Coordinator-aided PSI (`alignment.psi: coordinator`), after Kamara,
 * Mohassel, Raykova and Sadeghian, "Scaling Private Set Intersection to
 * Billion-Element Sets" (FC 2014), as pure functions.
 *
 * The guest and a host share a key k the coordinator cannot compute (from
 * their sealing keys). Each sends the coordinator PRF_k(id) = HMAC-SHA256(k,
 * id) truncated to 16 bytes, for every id, in its own secret order. The
 * coordinator matches the two lists and tells the guest which positions
 * matched; the guest then tells the host its positions of the shared rows in
 * the shared order, exactly as after ECDH-PSI. So both sides end with the
 * same rows as ECDH gives them.
 *
 * Who learns what, if the coordinator colludes with no party (the model the
 * coordinator already needs, holding each job's CKKS secret key): the
 * coordinator, only the list sizes and the intersection size (PRF values are
 * pseudorandom without k, and the orders are shuffled); the guest, which of
 * its rows are shared (host positions are in the host's secret order); the
 * host, its shared rows. Neither party sees the other's PRF values, so neither
 * can test guesses of the other's ids. Cost: one HMAC per id and a hash-table
 * match, against four X25519 scalar multiplications per pair of ids.
 */
import { createHmac, createSecretKey, type KeyObject } from 'node:crypto';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { ProtocolError } from '../errors.ts';

/** Bytes of one PRF value: 128 bits, so 10⁹ ids collide by chance with probability ~10⁻²¹. */
export const PRF_BYTES = 16;

/** PRF_k(id) of `ids[permutation[k]]` at position k, concatenated. */
export function prfSet(key: Uint8Array, ids: readonly string[], permutation: Uint32Array): Uint8Array {
  const secret = createSecretKey(key);
  const out = Buffer.alloc(permutation.length * PRF_BYTES);
  prfInto(secret, ids, permutation, out, 0, permutation.length);
  return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
}

/** Ids per slice of {@link prfSetAsync}: ≈ 0.1–0.2 s of CPU here. */
const PRF_SLICE = 16_384;

/**
 * {@link prfSet} (same bytes), yielding to the event loop between slices: a
 * million HMACs take about 10 s of CPU, and a party whose thread is held that
 * long misses its gRPC keepalives.
 */
export async function prfSetAsync(
  key: Uint8Array,
  ids: readonly string[],
  permutation: Uint32Array,
): Promise<Uint8Array> {
  const secret = createSecretKey(key);
  const out = Buffer.alloc(permutation.length * PRF_BYTES);
  for (let from = 0; from < permutation.length; from += PRF_SLICE) {
    if (from > 0) await yieldToEventLoop();
    prfInto(secret, ids, permutation, out, from, Math.min(permutation.length, from + PRF_SLICE));
  }
  return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
}

function prfInto(
  secret: KeyObject,
  ids: readonly string[],
  permutation: Uint32Array,
  out: Buffer,
  from: number,
  to: number,
): void {
  for (let k = from; k < to; k++) {
    createHmac('sha256', secret)
      .update(ids[permutation[k] ?? 0] ?? '')
      .digest()
      .copy(out, k * PRF_BYTES, 0, PRF_BYTES);
  }
}

/** A PSI_INPUT_INVALID error; `problem` is safe to show the peer (counts and positions only). */
export function psiInputError(problem: string): ProtocolError {
  return new ProtocolError('PSI_INPUT_INVALID', `coordinator-aided PSI: ${problem}`, {
    publicMessage: `coordinator-aided PSI: ${problem}`,
  });
}

/** Checks a PRF set's length against its count; `who` names it in the error. */
export function checkPrfSet(values: Uint8Array, count: number, who: string): void {
  if (values.byteLength !== count * PRF_BYTES)
    throw psiInputError(`${who} sent ${values.byteLength} bytes for ${count} PRF values of ${PRF_BYTES} bytes`);
}

const keyAt = (values: Uint8Array, k: number): string =>
  Buffer.from(values.buffer, values.byteOffset + k * PRF_BYTES, PRF_BYTES).toString('latin1');

/** Positions of the values both lists hold, in guest-position order. */
export type PrfMatches = { readonly guestPositions: Uint32Array; readonly hostPositions: Uint32Array };

/**
 * The coordinator's match of a guest's and a host's PRF lists. A value
 * repeated within one list is refused: ids are unique per dataset, so a
 * repeat is a bug or a probe.
 */
export function matchPrfSets(
  guest: Uint8Array,
  host: Uint8Array,
  names: { readonly guest: string; readonly host: string },
): PrfMatches {
  const guestCount = guest.byteLength / PRF_BYTES;
  const hostCount = host.byteLength / PRF_BYTES;
  checkPrfSet(guest, Math.floor(guestCount), names.guest);
  checkPrfSet(host, Math.floor(hostCount), names.host);
  const byValue = new Map<string, number>();
  for (let k = 0; k < guestCount; k++) {
    const key = keyAt(guest, k);
    if (byValue.has(key)) throw psiInputError(`${names.guest}'s PRF values ${byValue.get(key)} and ${k} are equal`);
    byValue.set(key, k);
  }
  const matched = new Uint32Array(guestCount).fill(0xffffffff);
  const seen = new Set<string>();
  for (let j = 0; j < hostCount; j++) {
    const key = keyAt(host, j);
    if (seen.has(key)) throw psiInputError(`${names.host}'s PRF value ${j} repeats an earlier one`);
    seen.add(key);
    const position = byValue.get(key);
    if (position !== undefined) matched[position] = j;
  }
  const guestPositions: number[] = [];
  const hostPositions: number[] = [];
  matched.forEach((j, k) => {
    if (j === 0xffffffff) return;
    guestPositions.push(k);
    hostPositions.push(j);
  });
  return { guestPositions: Uint32Array.from(guestPositions), hostPositions: Uint32Array.from(hostPositions) };
}

/** uint32 little-endian bytes of `values`. */
export function uint32Bytes(values: Uint32Array): Uint8Array {
  const out = Buffer.alloc(values.length * 4);
  values.forEach((v, k) => out.writeUInt32LE(v, k * 4));
  return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
}

/**
 * Positions from uint32 little-endian `bytes`, refused unless there are
 * `count` of them, each below `limit` and none twice.
 */
export function readPositions(bytes: Uint8Array, count: number, limit: number, what: string): Uint32Array {
  if (bytes.byteLength !== count * 4) throw psiInputError(`${what}: ${bytes.byteLength} bytes for ${count} positions`);
  const view = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = new Uint32Array(count);
  const used = new Uint8Array(limit);
  for (let k = 0; k < count; k++) {
    const p = view.readUInt32LE(k * 4);
    if (p >= limit) throw psiInputError(`${what}: position ${p} is out of range (the list has ${limit})`);
    if (used[p] === 1) throw psiInputError(`${what}: position ${p} appears twice`);
    used[p] = 1;
    out[k] = p;
  }
  return out;
}
