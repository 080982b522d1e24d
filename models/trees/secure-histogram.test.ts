import { describe, expect, it } from 'vitest';
import { Random } from '../../protocol/random.ts';
import { binRows, fitEdges, layoutOf } from './core/binning.ts';
import { boost, type BoostParams, type NodeVectors, type TreeParty } from './core/booster.ts';
import { histogramOf } from './core/histogram.ts';
import { localParty, splitBits } from './core/local-party.ts';
import { trainTwin } from './core/twin.ts';
import {
  combineShares,
  dealShares,
  guestShares,
  hostShares,
  maskedBins,
  maskLabels,
  maskVectors,
  refuseTooWide,
  type HostTables,
} from './secure-histogram.ts';
import { heldMatrix, seededMatrix } from './share-matrix.ts';

const PARAMS: BoostParams & { maxBins: number } = {
  rounds: 15,
  maxDepth: 3,
  learningRate: 0.3,
  minChildWeight: 1,
  lambda: 1,
  gamma: 0,
  subsample: 0.8,
  earlyStoppingRounds: 5,
  validationFraction: 0.1,
  maxBins: 8,
};

/**
 * A host's columns through the three roles' arithmetic (guest, host, dealer),
 * in one process; `blocks` sets V's rows per block and whether it is held
 * (as for a narrow host) or redrawn from its seed on each use (a wide one).
 */
function sharedHost(
  t: HostTables,
  guestSeed: Uint8Array,
  hostSeed: Uint8Array,
  seen: { masked: Uint32Array[]; vectors: Uint32Array[] },
  blocks?: { per: number; held: boolean },
): TreeParty {
  const width = t.layout.total;
  const rows = t.train.length;
  const V = seededMatrix(hostSeed, maskLabels.v, rows, width, blocks?.held === false ? 0 : undefined, blocks?.per);
  const sent = Array.from({ length: Math.ceil(rows / V.rowsPerBlock) }, (_, k) => maskedBins(t, V, k));
  const masked = heldMatrix(rows, width, sent, V.rowsPerBlock);
  seen.masked.push(...sent);
  let vector = 0;
  return {
    layout: t.layout,
    histograms(nodes: readonly NodeVectors[]) {
      const first = vector;
      const xs = nodes.flatMap((n) => [n.g, n.h]);
      vector += xs.length;
      const sent = maskVectors(guestSeed, 'host', xs, first, t.train.length);
      seen.vectors.push(sent);
      const asVectors = xs.map((_, v) => new Int32Array(sent.buffer, v * t.train.length * 4, t.train.length));
      const host = hostShares(V, hostSeed, asVectors, first);
      const dealt = dealShares(guestSeed, 'host', hostSeed, V, first, xs.length);
      return Promise.resolve(combineShares(guestShares(masked, nodes), dealt, host, width));
    },
    split: (requests) =>
      Promise.resolve(requests.map((r) => splitBits(t.codes, t.rows, t.layout.offsets.length, t.layout, r))),
  };
}

describe('secret-shared histograms', () => {
  const n = 600;
  const r = new Random('shares');
  const a = Float64Array.from({ length: n * 2 }, () => r.nextGaussian());
  const b = Float64Array.from({ length: n * 3 }, () => (r.nextFloat() < 0.05 ? Number.NaN : r.nextGaussian()));
  const y = Float64Array.from({ length: n }, (_, i) => ((a[2 * i] ?? 0) + (b[3 * i + 1] ?? 0) > 0 ? 1 : 0));
  const train = Uint32Array.from({ length: 480 }, (_, i) => i);

  it.each([
    ['in one block', undefined],
    ['in blocks of 7 rows, V held', { per: 7, held: true }],
    ['in blocks of 7 rows, V redrawn from its seed on each use', { per: 7, held: false }],
  ])('add up, over the three roles, to exactly the plaintext histogram (%s)', async (_, blocks) => {
    const edges = fitEdges(b, 3, train, 8);
    const t: HostTables = { codes: binRows(b, 3, edges), layout: layoutOf(edges), train, rows: n };
    const g = Int32Array.from({ length: train.length }, () => r.nextInt(2_000_001) - 1_000_000);
    const h = Int32Array.from({ length: train.length }, () => r.nextInt(250_000));
    const positions = Uint32Array.from({ length: 200 }, (_, k) => k * 2);
    const inNode = new Set(positions);
    const node: NodeVectors = {
      positions,
      g: g.map((v, p) => (inNode.has(p) ? v : 0)),
      h: h.map((v, p) => (inNode.has(p) ? v : 0)),
    };
    const seen = { masked: [], vectors: [] };
    const [got] = await sharedHost(t, new Uint8Array(32).fill(1), new Uint8Array(32).fill(2), seen, blocks).histograms([
      node,
    ]);
    const trainCodes = binRows(
      Float64Array.from(
        Array.from(train).flatMap((row) => [b[3 * row] ?? 0, b[3 * row + 1] ?? 0, b[3 * row + 2] ?? 0]),
      ),
      3,
      edges,
    );
    expect(got).toEqual(histogramOf(trainCodes, t.layout, positions, node.g, node.h));
  });

  it('grow exactly the trees of the plaintext twin', async () => {
    const gEdges = fitEdges(a, 2, train, 8);
    const hEdges = fitEdges(b, 3, train, 8);
    const t: HostTables = { codes: binRows(b, 3, hEdges), layout: layoutOf(hEdges), train, rows: n };
    const seen = { masked: [] as Uint32Array[], vectors: [] as Uint32Array[] };
    const federated = await boost({
      parties: [
        localParty(binRows(a, 2, gEdges), layoutOf(gEdges), train),
        sharedHost(t, new Uint8Array(32).fill(7), new Uint8Array(32).fill(9), seen),
      ],
      rows: n,
      train,
      labels: y,
      objective: 'logistic',
      outputs: 1,
      params: PARAMS,
      seed: 'same',
    });
    const twin = await trainTwin({
      parties: [
        { X: a, columns: 2 },
        { X: b, columns: 3 },
      ],
      train,
      labels: y,
      objective: 'logistic',
      outputs: 1,
      params: PARAMS,
      seed: 'same',
    });
    expect(federated.trees).toEqual(twin.trees);
    expect(federated.scores).toEqual(twin.scores);
    expect(federated.records[1]?.length).toBeGreaterThan(0);

    // What the guest and the host receive looks uniform: about half of all bits set, in every bit position.
    for (const words of [...seen.masked, ...seen.vectors]) {
      const ones = new Float64Array(32);
      for (const w of words) for (let bit = 0; bit < 32; bit++) ones[bit] = (ones[bit] ?? 0) + ((w >>> bit) & 1);
      for (const count of ones) expect(Math.abs(count / words.length - 0.5)).toBeLessThan(6 / Math.sqrt(words.length));
    }
  });

  it('refuse, before anything is sent, a host too wide for the guest to hold, naming the host, the size and the fix', () => {
    expect(() => refuseTooWide('partner', 100_000, 3_300, 100)).not.toThrow();
    let error: unknown;
    try {
      refuseTooWide('partner', 400_000, 3_300, 100);
    } catch (e) {
      error = e;
    }
    expect((error as { publicMessage?: string }).publicMessage).toMatch(
      /^partner's tree histogram is too wide: 400000 training rows × 3300 bins over 100 columns is 4\.9 GiB of masked bins, more than the 4 GiB the guest holds\. Fix: lower model\.maxBins/,
    );
  });
});
