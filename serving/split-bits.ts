/**
 * A trees host's answer for one user on the wire: the bit of each of its
 * split records (1: the user goes left), packed eight to a byte (record k
 * at byte ⌊k/8⌋, bit k mod 8) and base64-encoded, so an answer for a
 * model with a few hundred records is a few dozen characters in the same
 * `scores` array an LR host fills with partial logits. Pure: no I/O.
 */

/** Packs per-record bits (one byte each, 0 or 1) into base64. */
export function packSplitBits(bits: Uint8Array): string {
  const packed = new Uint8Array(Math.ceil(bits.length / 8));
  for (let k = 0; k < bits.length; k++) if (bits[k] === 1) packed[k >> 3] = (packed[k >> 3] ?? 0) | (1 << (k & 7));
  return Buffer.from(packed).toString('base64');
}

/**
 * Unpacks base64 into one byte per record; undefined when the text is not
 * base64 or holds fewer than `records` records (the guest knows which of a
 * host's records its trees use, not how many the host has).
 */
export function unpackSplitBits(text: string, records: number): Uint8Array | undefined {
  if (text.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(text)) return undefined;
  const packed = Buffer.from(text, 'base64');
  if (packed.length < Math.ceil(records / 8)) return undefined;
  return Uint8Array.from({ length: packed.length * 8 }, (_, k) => ((packed[k >> 3] ?? 0) >> (k & 7)) & 1);
}
