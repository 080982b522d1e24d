import { describe, expect, it } from 'vitest';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readBucket, spillIds } from './psi-spill.ts';
import { digestIds } from '../protocol/psi/oprf/digest.ts';
import { partition, dedupe } from '../protocol/psi/oprf/bucket-items.ts';
import { seedFrom } from '../protocol/random.ts';

const domainKey = seedFrom('spill', 'domain');

describe('spilled OPRF-PSI buckets', () => {
  it("hold what an in-memory partition holds, written by two processes' slices of the rows", async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tandem-spill-'));
    try {
      const ids = Array.from({ length: 10_000 }, (_, k) => `id-${k % 9_000}`); // repeats at the end
      const chunks = (from: number, to: number): string[][] => [
        ids.slice(from, from + 3000),
        ids.slice(from + 3000, to),
      ];
      expect(await spillIds({ dir, part: 0, domainKey, buckets: 8 }, chunks(0, 5_000))).toBe(5_000);
      expect(await spillIds({ dir, part: 1, domainKey, buckets: 8, firstRow: 5_000 }, chunks(5_000, 10_000))).toBe(
        5_000,
      );
      expect((await stat(join(dir, 'b3.p1'))).mode & 0o777).toBe(0o600);
      const expected = partition(digestIds(domainKey, ids), 8).map(dedupe);
      for (let b = 0; b < 8; b++) {
        const got = dedupe(await readBucket(dir, b));
        const asMap = (items: { digests: Uint8Array; rows: Uint32Array }) =>
          new Map(
            Array.from(items.rows, (row, k) => [
              Buffer.from(items.digests.subarray(16 * k, 16 * k + 16)).toString('hex'),
              row,
            ]),
          );
        expect(asMap(got)).toEqual(asMap(expected[b]!));
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
