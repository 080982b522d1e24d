/**
 * A party's id digests partitioned on disk, so OPRF-PSI runs in memory
 * bounded by one bucket whatever the number of ids (a 100M-id pool is 2 GB
 * of digests), and so several processes (or machines sharing a directory)
 * can each digest a slice of the rows and run a share of the buckets:
 *
 *   spill:  each process digests its rows and appends (digest, row) records
 *           to `b<bucket>.p<part>` files, one per bucket, `part` its index;
 *   run:    bucket b reads every part of b (readBucket) when it starts.
 *
 * Records are 20 bytes: the 16-byte digest and the row as uint32 LE. Files
 * are 0600 in a directory the caller creates 0700 (digests are keyed by the
 * job's domain key, which the peer also holds: they are as sensitive as ids).
 */
import { open, readdir, readFile, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import type { BucketItems } from '../protocol/psi/oprf/bucket-items.ts';
import { bucketOf, IdDigester } from '../protocol/psi/oprf/digest.ts';
import { DIGEST_BYTES } from '../protocol/psi/oprf/params.ts';

export const RECORD_BYTES = DIGEST_BYTES + 4;

/** Records buffered per bucket before a write: 64 KiB. */
const BUFFER_RECORDS = 3276;

export type SpillOptions = {
  readonly dir: string;
  /** This writer's index among the processes spilling into `dir`. */
  readonly part: number;
  readonly domainKey: Uint8Array;
  readonly buckets: number;
  /** The global row number of this writer's first id. @default 0 */
  readonly firstRow?: number;
};

/** Digests ids chunk by chunk into per-bucket files; returns the number of ids written. */
export async function spillIds(options: SpillOptions, chunks: Iterable<readonly string[]>): Promise<number> {
  const { dir, part, buckets } = options;
  const files: (FileHandle | undefined)[] = new Array<FileHandle | undefined>(buckets);
  const buffers = Array.from({ length: buckets }, () => new Uint8Array(BUFFER_RECORDS * RECORD_BYTES));
  const views = buffers.map((buffer) => new DataView(buffer.buffer));
  const filled = new Uint32Array(buckets);
  const digester = new IdDigester(options.domainKey);
  const flush = async (b: number): Promise<void> => {
    const file = files[b] ?? (files[b] = await open(join(dir, `b${b}.p${part}`), 'w', 0o600));
    await file.write(buffers[b]!, 0, filled[b]! * RECORD_BYTES);
    filled[b] = 0;
  };
  let row = options.firstRow ?? 0;
  try {
    for (const chunk of chunks) {
      const digests = new Uint8Array(chunk.length * DIGEST_BYTES);
      digester.digestMany(chunk, digests, 0);
      const words = new Int32Array(digests.buffer);
      for (let k = 0; k < chunk.length; k++) {
        const b = bucketOf(words, k, buckets);
        const buffer = buffers[b]!;
        const at = filled[b]! * RECORD_BYTES;
        buffer.set(digests.subarray(k * DIGEST_BYTES, (k + 1) * DIGEST_BYTES), at);
        views[b]!.setUint32(at + DIGEST_BYTES, row++, true);
        filled[b] = filled[b]! + 1;
        if (filled[b] === BUFFER_RECORDS) await flush(b);
      }
    }
    for (let b = 0; b < buckets; b++) if (filled[b]! > 0 || files[b] === undefined) await flush(b);
  } finally {
    await Promise.all(files.flatMap((f) => (f === undefined ? [] : [f.close()])));
  }
  return row - (options.firstRow ?? 0);
}

/** Every part of bucket `bucket` in `dir` (repeated ids and all: the bucket drops repeats when it starts). */
export async function readBucket(dir: string, bucket: number): Promise<BucketItems> {
  // Parts in writer order (p2 before p10), so a repeated id keeps its last row, as in memory.
  const prefix = `b${bucket}.p`;
  const names = (await readdir(dir))
    .filter((name) => name.startsWith(prefix))
    .sort((a, b) => Number(a.slice(prefix.length)) - Number(b.slice(prefix.length)));
  const parts = await Promise.all(names.map((name) => readFile(join(dir, name))));
  const count = parts.reduce((n, p) => n + p.byteLength / RECORD_BYTES, 0);
  const digests = new Uint8Array(count * DIGEST_BYTES);
  const rows = new Uint32Array(count);
  let k = 0;
  for (const part of parts) {
    for (let at = 0; at < part.byteLength; at += RECORD_BYTES, k++) {
      digests.set(part.subarray(at, at + DIGEST_BYTES), k * DIGEST_BYTES);
      rows[k] = part.readUInt32LE(at + DIGEST_BYTES);
    }
  }
  return { digests, rows };
}
