/**
 * What crosses the wire in OPRF-PSI, checked as an eavesdropper or the peer
 * would look at it: the bulk messages (the receiver's corrections, the
 * sender's values) must pass simple tests of uniform randomness, and no id
 * (as UTF-8) nor any id digest may appear in any message.
 */
import { describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { runInMemory } from './in-memory.ts';
import { digestIds } from './digest.ts';
import type { OprfMessage } from './messages.ts';
import { hashIds } from '../group.ts';
import { seedFrom } from '../../random.ts';

const domainKey = seedFrom('oprf-wire-test', 'domain');

/** Long unique ids ("cust-" + 24 hex digits), so a hit cannot be chance. */
const longIds = (prefix: string, from: number, to: number): string[] =>
  Array.from(
    { length: to - from },
    (_, k) =>
      `cust-${createHash('sha256')
        .update(`${prefix}|${from + k}`)
        .digest('hex')
        .slice(0, 24)}`,
  );

function bytesOf(m: OprfMessage): Uint8Array[] {
  switch (m.step) {
    case 'psi-oprf-hello':
      return [m.points, m.codeSeed];
    case 'psi-oprf-setup':
      return [m.reply, m.cuckooSeed];
    case 'psi-oprf-correction':
      return [m.rows];
    case 'psi-oprf-values':
      return [m.values];
    case 'psi-result':
      return [new Uint8Array(m.positions.buffer, m.positions.byteOffset, m.positions.byteLength)];
  }
}

/** Pearson's χ² of byte frequencies (255 degrees of freedom). */
function byteChiSquare(bytes: Uint8Array): number {
  const counts = new Float64Array(256);
  for (const b of bytes) counts[b]!++;
  const expected = bytes.byteLength / 256;
  return counts.reduce((sum, c) => sum + (c - expected) ** 2 / expected, 0);
}

/** The largest deviation, in standard deviations, of any bit position's share of ones across `width`-byte records. */
function worstBitBias(bytes: Uint8Array, width: number): number {
  const records = Math.floor(bytes.byteLength / width);
  let worst = 0;
  for (let bit = 0; bit < width * 8; bit++) {
    let ones = 0;
    for (let r = 0; r < records; r++) ones += (bytes[r * width + (bit >>> 3)]! >>> (bit & 7)) & 1;
    worst = Math.max(worst, Math.abs(ones - records / 2) / Math.sqrt(records / 4));
  }
  return worst;
}

// χ²(255) exceeds 350 with probability ≈ 10⁻⁴; 5.5 σ on any of ≤ 512 bit positions ≈ 2·10⁻⁵. Seeded: the test is deterministic.
const CHI_SQUARE_LIMIT = 350;
const BIT_SIGMA_LIMIT = 5.5;

describe('OPRF-PSI on the wire', () => {
  const receiverIds = longIds('r', 0, 6000);
  const senderIds = longIds('r', 3000, 12_000); // half of the receiver's ids are shared
  const messages: { from: string; message: OprfMessage }[] = [];
  const outcome = runInMemory({
    mode: 'intersection',
    domainKey,
    minBuckets: 2,
    receiver: { ids: receiverIds, secret: seedFrom('wire', 'r') },
    sender: { ids: senderIds, secret: seedFrom('wire', 's') },
    onMessage: (from, message) => messages.push({ from, message }),
  });
  const concat = (step: OprfMessage['step']): Uint8Array =>
    Buffer.concat(messages.filter((m) => m.message.step === step).flatMap((m) => bytesOf(m.message)));

  it("the receiver's corrections and the sender's values look uniformly random: byte frequencies and every bit position", () => {
    const corrections = concat('psi-oprf-correction');
    const values = concat('psi-oprf-values');
    expect(corrections.byteLength).toBeGreaterThan(500_000);
    expect(values.byteLength).toBeGreaterThan(200_000);
    expect(byteChiSquare(corrections)).toBeLessThan(CHI_SQUARE_LIMIT);
    expect(byteChiSquare(values)).toBeLessThan(CHI_SQUARE_LIMIT);
    expect(worstBitBias(corrections, 64)).toBeLessThan(BIT_SIGMA_LIMIT);
    expect(worstBitBias(values, outcome.params.valueBytes)).toBeLessThan(BIT_SIGMA_LIMIT);
  });

  it('the same tests flag structured bytes: ids as UTF-8, and hash-to-curve elements whose top bit is always clear', () => {
    expect(byteChiSquare(Buffer.from(receiverIds.join(''), 'utf8'))).toBeGreaterThan(CHI_SQUARE_LIMIT);
    const elements = hashIds(domainKey, receiverIds); // ECDH-PSI's H(x): uniform except bit 255
    expect(worstBitBias(elements, 32)).toBeGreaterThan(BIT_SIGMA_LIMIT);
  });

  /** Ids found in `capture`: as UTF-8 (any hex run of 16+ digits, or the "cust-" prefix) or by the first 8 bytes of their digest. */
  function leaks(capture: Buffer): string[] {
    const ids = [...new Set([...receiverIds, ...senderIds])];
    const byHex = new Map(ids.map((id) => [id.slice(5, 21), id]));
    const runs = capture.toString('latin1').match(/[0-9a-f]{16,}/g) ?? [];
    const asText = runs.flatMap((run) =>
      Array.from({ length: run.length - 15 }, (_, at) => byHex.get(run.slice(at, at + 16)) ?? []).flat(),
    );
    const digests = Buffer.from(digestIds(domainKey, ids));
    const byFirstWord = new Map<number, number[]>();
    ids.forEach((_, k) =>
      byFirstWord.set(digests.readUInt32LE(16 * k), [...(byFirstWord.get(digests.readUInt32LE(16 * k)) ?? []), k]),
    );
    const asDigest: string[] = [];
    for (let at = 0; at + 8 <= capture.byteLength; at++) {
      for (const k of byFirstWord.get(capture.readUInt32LE(at)) ?? [])
        if (capture.readUInt32LE(at + 4) === digests.readUInt32LE(16 * k + 4)) asDigest.push(ids[k]!);
    }
    return [...asText, ...asDigest];
  }

  it('no id appears in any message, as text or as its digest (and the search finds one planted)', () => {
    const all = Buffer.concat(messages.flatMap((m) => bytesOf(m.message)));
    expect(leaks(all)).toEqual([]);
    const planted = senderIds[7]!;
    expect(leaks(Buffer.concat([all.subarray(0, 1001), Buffer.from(planted, 'utf8'), all.subarray(1001)]))).toEqual([
      planted,
    ]);
    expect(leaks(Buffer.concat([all.subarray(0, 999), digestIds(domainKey, [planted]), all.subarray(999)]))).toEqual([
      planted,
    ]);
  });
});
