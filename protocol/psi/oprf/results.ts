/**
 * From per-bucket outcomes to what each alignment mode gives each side, in
 * the shapes ECDH-PSI gives them (psi-session.ts), so a job can switch
 * protocols without changing what it does with the result.
 *
 *   intersection  receiver: the shared rows with the sender's (global)
 *                 positions, in the order of those positions (the sender's
 *                 secret shuffle, so the order says nothing about the
 *                 receiver's rows, and the sender can sort them itself);
 *                 sender: its rows at the positions the receiver sends back
 *                 (psi-result). A job then puts the shared rows in its own
 *                 common order (alignment.ts: by a hash of seed and id).
 *   membership    receiver: for each of the sender's padded positions,
 *                 whether it is one of the receiver's ids; sender: nothing
 *                 but its own position → row map (padding positions map to
 *                 -1, and a selection naming one is skipped by the sender)
 *   size          not offered: an OPRF receiver learns its own OPRF values,
 *                 so it always learns *which* of its ids are shared; a
 *                 cardinality-only result needs ECDH-PSI's re-shuffle of the
 *                 receiver's blinded set (alignment.psi: ecdh).
 */
import { ProtocolError } from '../../errors.ts';
import type { ReceiverBucketResult } from './receiver-bucket.ts';
import type { SenderBucketResult } from './sender-bucket.ts';
import type { OprfParams } from './session.ts';

export type OprfMode = 'intersection' | 'membership';

/**
 * The shared ids in order of the sender's positions, column by column (an object per match
 * costs more than the match at 10^6 matches): match m is the receiver's row
 * `receiverRows[m]`, the sender's global position `senderPositions[m]`, and
 * the OPRF value both know, bytes [m·ℓ, (m+1)·ℓ) of `keys`.
 */
export type OprfMatches = {
  readonly receiverRows: Uint32Array;
  readonly senderPositions: Uint32Array;
  readonly keys: Uint8Array;
  readonly keyBytes: number;
};

export type OprfReceiverResult =
  | ({ readonly mode: 'intersection'; readonly senderCount: number } & OprfMatches)
  | { readonly mode: 'membership'; readonly isMember: Uint8Array; readonly senderCount: number };

/** The receiver's result once every bucket is done (any order). */
export function receiverResult(
  mode: OprfMode,
  params: OprfParams,
  buckets: readonly ReceiverBucketResult[],
): OprfReceiverResult {
  checkComplete(
    params,
    buckets.map((b) => b.bucket),
  );
  if (mode === 'membership') {
    const isMember = new Uint8Array(params.buckets * params.senderCapacity);
    for (const b of buckets)
      for (const position of b.positions) isMember[b.bucket * params.senderCapacity + position] = 1;
    return { mode, isMember, senderCount: params.senderCount };
  }
  const total = buckets.reduce((n, b) => n + b.rows.length, 0);
  const l = params.valueBytes;
  const receiverRows = new Uint32Array(total);
  const senderPositions = new Uint32Array(total);
  const keys = new Uint8Array(total * l);
  let at = 0;
  for (const b of [...buckets].sort((x, y) => x.bucket - y.bucket)) {
    receiverRows.set(b.rows, at);
    const base = b.bucket * params.senderCapacity;
    for (let m = 0; m < b.positions.length; m++) senderPositions[at + m] = base + b.positions[m]!;
    keys.set(b.keys, at * l);
    at += b.rows.length;
  }
  return { mode, senderCount: params.senderCount, keyBytes: l, keys, receiverRows, senderPositions };
}

/** The sender's position → row map over all buckets (-1 at padding positions). */
export function senderPositionRows(params: OprfParams, buckets: readonly SenderBucketResult[]): Int32Array {
  checkComplete(
    params,
    buckets.map((b) => b.bucket),
  );
  const out = new Int32Array(params.buckets * params.senderCapacity);
  for (const b of buckets) out.set(b.rows, b.bucket * params.senderCapacity);
  return out;
}

/** The sender's rows at the positions the receiver names (psi-result): a padding or unknown position is a corrupt message. */
export function senderRowsAt(positionRows: Int32Array, positions: Uint32Array): Uint32Array {
  return Uint32Array.from(positions, (position) => {
    const row = positionRows[position] ?? -1;
    if (row < 0)
      throw new ProtocolError(
        'MESSAGE_CORRUPT',
        `psi-result names position ${position}, which holds no id of this party`,
      );
    return row;
  });
}

function checkComplete(params: OprfParams, buckets: readonly number[]): void {
  const seen = new Set(buckets);
  if (seen.size !== params.buckets || buckets.some((b) => b < 0 || b >= params.buckets)) {
    throw new RangeError(`OPRF-PSI needs the result of each of ${params.buckets} buckets once, got ${buckets.length}`);
  }
}
