/**
 * Records every byte that crosses a party boundary during a full job and
 * proves no raw id, feature value, label or weight is in it.
 *
 * Captured: every serialized envelope written to or read from a gRPC
 * stream by any node (`link`: what TLS carries, so what the coordinator
 * sees), and every party's message body before sealing (`body`: what the
 * recipient party reads after opening it). Searched for:
 *   - ids (made long and unique so a hit cannot be chance) as UTF-8 text;
 *   - every raw and every standardised feature value, and every final
 *     weight, as float64 (little and big endian): zero hits allowed;
 *   - the same values as float32: random ciphertext bytes match 4-byte
 *     patterns by chance, so the hit count must be no larger than for an
 *     equally sized set of decoy values (a leak would add ≥ one hit per value).
 *     How often a pattern matches by chance depends on its bytes (headers and
 *     40-bit residues in 64-bit words are rich in zero bytes, which integer
 *     values such as 1001.0 share), so each decoy keeps a real value's sign,
 *     exponent and trailing zero mantissa bits and randomises the rest;
 *   - the label vector, in file order and in aligned order, as runs of
 *     64 labels encoded as bytes, int32, float32 and float64.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { addWireTap, type WireEvent } from '../../runtime/wire-tap.ts';
import { lrSpec, runJob, startFederation, type Federation } from '../support/federation.ts';
import { hexRuns, leakedIds, longIdBreastParties } from '../support/long-ids.ts';
import { loadPartyConfig } from '../../party/config.ts';
import { loadJobDataset } from '../../jobs/common/features.ts';
import { alignmentOrder } from '../../jobs/common/alignment.ts';
import { transformRows, type PreprocessSpec } from '../../data/preprocess.ts';
import { Random } from '../../protocol/random.ts';

type Capture = { link: Buffer; body: Buffer; bodyKinds: Map<string, number> };

function float64Keys(values: Iterable<number>): Set<bigint> {
  const keys = new Set<bigint>();
  const view = new DataView(new ArrayBuffer(8));
  for (const v of values) {
    if (!Number.isFinite(v) || v === 0) continue; // 0.0 is eight zero bytes: padding, not data
    view.setFloat64(0, v, true);
    keys.add(view.getBigUint64(0, true));
    view.setFloat64(0, v, false);
    keys.add(view.getBigUint64(0, true));
  }
  return keys;
}

function float32Keys(values: Iterable<number>): Set<number> {
  const keys = new Set<number>();
  const view = new DataView(new ArrayBuffer(4));
  for (const v of values) {
    if (!Number.isFinite(v) || v === 0) continue;
    view.setFloat32(0, v, true);
    keys.add(view.getUint32(0, true));
  }
  return keys;
}

/**
 * One decoy float32 pattern per real one, with the same sign, exponent and
 * number of trailing zero mantissa bits, the other mantissa bits random, and
 * not itself a real value. Exact powers of two (no free mantissa bit) have
 * no decoy and are left out of `real`.
 */
function decoysLike(real: Set<number>, random: Random): Set<number> {
  const decoys = new Set<number>();
  for (const bits of [...real]) {
    const mantissa = bits & 0x7fffff;
    const trailing = mantissa === 0 ? 23 : 31 - Math.clz32(mantissa & -mantissa);
    if (trailing >= 22) {
      real.delete(bits);
      continue;
    }
    const free = 0x7fffff & ~((1 << (trailing + 1)) - 1);
    for (let attempt = 0; attempt < 64; attempt++) {
      const decoy = ((bits & 0xff800000) | (random.nextUint32() & free) | (1 << trailing)) >>> 0;
      if (!real.has(decoy) && !decoys.has(decoy)) {
        decoys.add(decoy);
        break;
      }
    }
  }
  return decoys;
}

/** Offsets where an 8-byte pattern from `keys` occurs (any alignment). */
function countFloat64(haystack: Buffer, keys: Set<bigint>): number {
  const prefixes = new Set<number>();
  for (const k of keys) prefixes.add(Number(k & 0xffffffffn));
  let hits = 0;
  for (let i = 0; i + 8 <= haystack.length; i++) {
    if (prefixes.has(haystack.readUInt32LE(i)) && keys.has(haystack.readBigUInt64LE(i))) hits++;
  }
  return hits;
}

function countFloat32(haystack: Buffer, keys: Set<number>): number {
  let hits = 0;
  for (let i = 0; i + 4 <= haystack.length; i++) if (keys.has(haystack.readUInt32LE(i))) hits++;
  return hits;
}

function encodings(labels: ArrayLike<number>): Buffer[] {
  const n = labels.length;
  const u8 = Buffer.alloc(n);
  const i32 = Buffer.alloc(n * 4);
  const f32 = Buffer.alloc(n * 4);
  const f64 = Buffer.alloc(n * 8);
  for (let k = 0; k < n; k++) {
    const y = labels[k] ?? 0;
    u8[k] = y;
    i32.writeInt32LE(y, k * 4);
    f32.writeFloatLE(y, k * 4);
    f64.writeDoubleLE(y, k * 8);
  }
  return [u8, i32, f32, f64];
}

describe('wire capture: a full job', () => {
  let fed: Federation;
  const capture: Capture = { link: Buffer.alloc(0), body: Buffer.alloc(0), bodyKinds: new Map() };
  let jobId = '';
  let dir = '';

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tandem-wire-'));
    fed = await startFederation({ parties: await longIdBreastParties(dir) });
    const link: Buffer[] = [];
    const body: Buffer[] = [];
    const remove = addWireTap((e: WireEvent) => {
      // Each link message is seen twice (sender and receiver); the outbound copy suffices.
      if (e.layer === 'link' && e.direction === 'out') link.push(Buffer.from(e.bytes));
      if (e.layer === 'body') {
        body.push(Buffer.from(e.bytes));
        capture.bodyKinds.set(e.kind, (capture.bodyKinds.get(e.kind) ?? 0) + 1);
      }
    });
    try {
      const result = await runJob(fed, lrSpec({ training: { maxEpochs: 5 } }));
      expect(result.stage, result.message).toBe('completed');
      jobId = result.jobId;
    } finally {
      remove();
    }
    capture.link = Buffer.concat(link);
    capture.body = Buffer.concat(body);
  }, 240_000);

  afterAll(async () => {
    await fed.close();
    await rm(dir, { recursive: true, force: true });
  });

  async function party(name: string): Promise<{
    ids: readonly string[];
    raw: Float64Array;
    standardised: Float64Array;
    weights: number[];
    labels: Int32Array | undefined;
  }> {
    const config = await loadPartyConfig(join(fed.dir, `${name}.yaml`));
    const dataset = await loadJobDataset(config.datasets['d']!);
    const model = JSON.parse(await readFile(join(fed.dir, name, 'jobs', jobId, 'model-part.json'), 'utf8')) as {
      weights: number[];
      intercept: number;
      preprocess: PreprocessSpec;
    };
    const all = Uint32Array.from({ length: dataset.rowCount }, (_, k) => k);
    const { matrix } = transformRows(model.preprocess, dataset, all);
    return {
      ids: dataset.ids,
      raw: dataset.features,
      standardised: matrix,
      weights: [...model.weights, model.intercept],
      labels: dataset.labels,
    };
  }

  it('captured a real job: megabytes of traffic, every message kind', () => {
    expect(capture.link.length).toBeGreaterThan(5_000_000);
    expect([...capture.bodyKinds.keys()].sort()).toEqual(
      expect.arrayContaining(['ciphertext', 'control', 'masked', 'psi-blinded']),
    );
  });

  it('carries no id, in any envelope or opened body', async () => {
    // Ids are "cust-" + 24 hex digits. One pass collects every run of 16+ hex
    // digits in the capture (random bytes almost never make one); no id may
    // share one, and the prefix may not appear at all.
    const captured = [...hexRuns(capture.link), ...hexRuns(capture.body)];
    for (const name of ['brand', 'partner']) {
      const { ids } = await party(name);
      expect(ids.length).toBe(569);
      expect(leakedIds(ids, captured)).toEqual([]);
    }
    expect(capture.link.includes('cust-')).toBe(false);
    expect(capture.body.includes('cust-')).toBe(false);
    // The search works: an id planted in a copy of the capture is found.
    const { ids } = await party('brand');
    expect(
      leakedIds([ids[7]!], hexRuns(Buffer.concat([capture.body.subarray(0, 5000), Buffer.from(ids[7]!)]))),
    ).toEqual([ids[7]]);
  });

  it('carries no feature value (raw or standardised) and no weight as float64', async () => {
    for (const name of ['brand', 'partner']) {
      const p = await party(name);
      const keys = float64Keys([...p.raw, ...p.standardised, ...p.weights]);
      expect(keys.size).toBeGreaterThan(1000);
      expect(countFloat64(capture.link, keys)).toBe(0);
      expect(countFloat64(capture.body, keys)).toBe(0);
      // Control: the same scan finds values that are there.
      const planted = Buffer.concat([
        capture.body.subarray(0, 1000),
        Buffer.from(new Float64Array([p.raw[3]!, p.weights[0]!]).buffer),
      ]);
      expect(countFloat64(planted, keys)).toBeGreaterThanOrEqual(2);
    }
  });

  it('carries feature values and weights as float32 no more often than chance', async () => {
    const random = new Random('wire-decoys');
    for (const name of ['brand', 'partner']) {
      const p = await party(name);
      const real = float32Keys([...p.raw, ...p.standardised, ...p.weights]);
      const decoySet = decoysLike(real, random);
      const realHits = countFloat32(capture.link, real) + countFloat32(capture.body, real);
      const decoyHits = countFloat32(capture.link, decoySet) + countFloat32(capture.body, decoySet);
      console.log(
        `${name}: float32 hits real ${realHits}, decoy ${decoyHits} (${real.size} values, ${capture.link.length + capture.body.length} bytes)`,
      );
      // A float32 copy of the data would add at least one hit per value.
      expect(realHits).toBeLessThan(decoyHits * 1.5 + 30);
      expect(realHits).toBeLessThan(real.size / 4);
    }
  });

  it('carries no run of labels, in file order or in the aligned order', async () => {
    const guest = await party('brand');
    const host = await party('partner');
    const labels = guest.labels!;
    const shared = guest.ids.flatMap((id, row) => (host.ids.includes(id) ? [row] : []));
    const aligned = Int32Array.from(alignmentOrder(guest.ids, shared, '42'), (row) => labels[row] ?? 0);
    for (const order of [labels, aligned]) {
      for (let start = 0; start + 64 <= order.length; start += 97) {
        for (const pattern of encodings(order.subarray(start, start + 64))) {
          expect(capture.link.includes(pattern)).toBe(false);
          expect(capture.body.includes(pattern)).toBe(false);
        }
      }
    }
  });
});
