/**
 * A party's ids as OPRF-PSI consumes them: 16-byte digests with the local
 * row each came from, split into the session's buckets, one copy per
 * distinct id. Duplicates are dropped here, on both sides: a sender that
 * sent a repeated id twice would show the receiver two equal values, an
 * equality among ids it must not learn. A repeated id keeps its last row,
 * as ECDH-PSI's comparison does.
 */
import { DIGEST_BYTES } from './params.ts';
import { bucketOf } from './digest.ts';

/** Ids of one bucket (or of a whole party): digest k came from local row `rows[k]`. */
export type BucketItems = { readonly digests: Uint8Array; readonly rows: Uint32Array };

/** The 32-bit little-endian words of packed digests (4 per digest), without copying when aligned. */
export function digestWords(digests: Uint8Array): Int32Array {
  if (digests.byteOffset % 4 === 0) return new Int32Array(digests.buffer, digests.byteOffset, digests.byteLength / 4);
  return new Int32Array(new Uint8Array(digests).buffer); // a copy (Buffer.slice would share memory)
}

/** Splits digests (row k = `rows[k]`, or k) into `buckets` buckets, keeping their order (one bucket: the same digests, not a copy). */
export function partition(digests: Uint8Array, buckets: number, rows?: Uint32Array): BucketItems[] {
  const count = digests.byteLength / DIGEST_BYTES;
  if (buckets === 1) {
    const all = rows ?? new Uint32Array(count);
    if (rows === undefined) for (let k = 0; k < count; k++) all[k] = k;
    return [{ digests, rows: all }];
  }
  const words = digestWords(digests);
  const bucket = new Uint32Array(count);
  const sizes = new Uint32Array(buckets);
  for (let k = 0; k < count; k++) {
    const b = bucketOf(words, k, buckets);
    bucket[k] = b;
    sizes[b] = sizes[b]! + 1;
  }
  const out = Array.from(sizes, (size) => ({
    digests: new Uint8Array(size * DIGEST_BYTES),
    rows: new Uint32Array(size),
  }));
  const filled = new Uint32Array(buckets);
  for (let k = 0; k < count; k++) {
    const b = bucket[k]!;
    const target = out[b]!;
    const at = filled[b]!;
    target.digests.set(digests.subarray(k * DIGEST_BYTES, (k + 1) * DIGEST_BYTES), at * DIGEST_BYTES);
    target.rows[at] = rows === undefined ? k : rows[k]!;
    filled[b] = at + 1;
  }
  return out;
}

/** One entry per distinct digest (the last row of a repeated one), in order of first appearance. */
export function dedupe(items: BucketItems): BucketItems {
  const count = items.rows.length;
  const words = digestWords(items.digests);
  let size = 16;
  while (size < count * 2) size *= 2;
  const slots = new Int32Array(size).fill(-1);
  const mask = size - 1;
  const keep = new Int32Array(count);
  let distinct = 0;
  for (let k = 0; k < count; k++) {
    let slot = words[4 * k + 1]! & mask;
    for (;;) {
      const j = slots[slot]!;
      if (j < 0) {
        slots[slot] = distinct;
        keep[distinct++] = k;
        break;
      }
      const first = keep[j]!;
      if (
        words[4 * first]! === words[4 * k]! &&
        words[4 * first + 1]! === words[4 * k + 1]! &&
        words[4 * first + 2]! === words[4 * k + 2]! &&
        words[4 * first + 3]! === words[4 * k + 3]!
      ) {
        keep[j] = k; // a repeat: the later row wins, the position stays the first one's
        break;
      }
      slot = (slot + 1) & mask;
    }
  }
  if (distinct === count) return items;
  const digests = new Uint8Array(distinct * DIGEST_BYTES);
  const rows = new Uint32Array(distinct);
  for (let d = 0; d < distinct; d++) {
    const k = keep[d]!;
    digests.set(items.digests.subarray(k * DIGEST_BYTES, (k + 1) * DIGEST_BYTES), d * DIGEST_BYTES);
    rows[d] = items.rows[k]!;
  }
  return { digests, rows };
}
