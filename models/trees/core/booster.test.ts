import { describe, expect, it } from 'vitest';
import { Random } from '../../../protocol/random.ts';
import { auc } from '../../../protocol/evaluation/metrics.ts';
import { binOf, binRows, fitEdges, layoutOf } from './binning.ts';
import { bestSplit } from './split.ts';
import { histogramOf } from './histogram.ts';
import { quantise } from './quantise.ts';
import { trainTwin } from './twin.ts';
import { boost, type BoostParams } from './booster.ts';
import { localParty } from './local-party.ts';

const PARAMS: BoostParams & { maxBins: number } = {
  rounds: 40,
  maxDepth: 3,
  learningRate: 0.2,
  minChildWeight: 1,
  lambda: 1,
  gamma: 0,
  subsample: 1,
  earlyStoppingRounds: 0,
  validationFraction: 0,
  maxBins: 16,
};

/** y depends on an interaction no linear model can fit: x0 > 0 xor x1 > 0 (party 0 holds x0, party 1 holds x1). */
function xorData(n: number, seed: string): { a: Float64Array; b: Float64Array; y: Float64Array } {
  const r = new Random(seed);
  const a = new Float64Array(n * 2);
  const b = new Float64Array(n);
  const y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    a[2 * i] = r.nextGaussian();
    a[2 * i + 1] = r.nextGaussian();
    b[i] = r.nextGaussian();
    y[i] = (a[2 * i] ?? 0) > 0 !== (b[i] ?? 0) > 0 ? 1 : 0;
    if (r.nextFloat() < 0.05) y[i] = 1 - (y[i] ?? 0);
  }
  return { a, b, y };
}

describe('tree core', () => {
  it('bins by quantiles on the training rows, with missing values in a bin of their own', () => {
    const X = Float64Array.from([1, 2, 3, 4, 5, 6, 7, 8, Number.NaN, 100]);
    const edges = fitEdges(X, 1, [0, 1, 2, 3, 4, 5, 6, 7, 8], 4);
    expect(edges[0]?.length).toBe(3);
    expect(binOf(1, edges[0]!)).toBe(0);
    expect(binOf(8, edges[0]!)).toBe(3);
    expect(binOf(100, edges[0]!)).toBe(3);
    expect(binOf(Number.NaN, edges[0]!)).toBe(4);
    expect(layoutOf(edges).total).toBe(5);
  });

  it('quantises gradients without bias, with sums that cannot reach 2^31', () => {
    const n = 10_000;
    const g = Float64Array.from({ length: n }, (_, i) => Math.sin(i) * 0.7);
    const rows = Uint32Array.from({ length: n }, (_, i) => i);
    const q = quantise(g, rows, new Random('q'));
    let sum = 0;
    let abs = 0;
    let exact = 0;
    for (let i = 0; i < n; i++) {
      sum += q.values[i] ?? 0;
      abs += Math.abs(q.values[i] ?? 0);
      exact += g[i] ?? 0;
    }
    expect(abs).toBeLessThan(2 ** 31);
    expect(Math.abs(sum / q.scale - exact)).toBeLessThan(1e-3);
  });

  it('learns a default direction for missing values', () => {
    // Missing values behave like large ones: the split must send them right.
    const X = Float64Array.from({ length: 200 }, (_, i) => (i % 10 === 0 ? Number.NaN : i < 100 ? -1 : 1));
    const y = Float64Array.from({ length: 200 }, (_, i) => (i % 10 === 0 || i >= 100 ? 1 : 0));
    const edges = fitEdges(
      X,
      1,
      Uint32Array.from({ length: 200 }, (_, i) => i),
      8,
    );
    const codes = binRows(X, 1, edges);
    const layout = layoutOf(edges);
    const rows = Uint32Array.from({ length: 200 }, (_, i) => i);
    const gq = Int32Array.from(y, (v) => (v === 1 ? -1000 : 1000));
    const hq = new Int32Array(200).fill(250);
    const s = bestSplit(
      histogramOf(codes, layout, rows, gq, hq),
      layout,
      gq.reduce((a, b) => a + b, 0),
      250 * 200,
      1000,
      1000,
      { lambda: 1, gamma: 0, minChildWeight: 0 },
    );
    expect(s).toMatchObject({ column: 0, bin: 0, missingLeft: false });
  });

  it('fits an interaction across two parties that neither column alone predicts', async () => {
    const { a, b, y } = xorData(2000, 'xor');
    const train = Uint32Array.from({ length: 1600 }, (_, i) => i);
    const test = Uint32Array.from({ length: 400 }, (_, i) => 1600 + i);
    const both = await trainTwin({
      parties: [
        { X: a, columns: 2 },
        { X: b, columns: 1 },
      ],
      train,
      labels: y,
      objective: 'logistic',
      outputs: 1,
      params: PARAMS,
      seed: 't',
    });
    const alone = await trainTwin({
      parties: [{ X: a, columns: 2 }],
      train,
      labels: y,
      objective: 'logistic',
      outputs: 1,
      params: PARAMS,
      seed: 't',
    });
    const score = (m: { scores: Float64Array }) =>
      auc(
        Float64Array.from(test, (r) => m.scores[r] ?? 0),
        Int32Array.from(test, (r) => y[r] ?? 0),
      );
    expect(score(both)).toBeGreaterThan(0.9);
    expect(score(alone)).toBeLessThan(0.65);
  });

  it('stops early on the set-aside rows and keeps the best round', async () => {
    const { a, y } = xorData(1000, 'noise');
    const train = Uint32Array.from({ length: 1000 }, (_, i) => i);
    const m = await trainTwin({
      parties: [{ X: a, columns: 2 }],
      train,
      labels: y,
      objective: 'logistic',
      outputs: 1,
      params: { ...PARAMS, rounds: 200, earlyStoppingRounds: 5, validationFraction: 0.2 },
      seed: 'e',
    });
    expect(m.stoppedEarly).toBe(true);
    expect(m.trees.length).toBeLessThan(m.losses.length);
    expect(Math.min(...m.losses)).toBe(m.losses[m.trees.length - 1]);
  });

  it('grows K trees per round for K classes and fits a continuous label', async () => {
    const { a, b } = xorData(900, 'mc');
    const cls = Float64Array.from({ length: 900 }, (_, i) => ((a[2 * i] ?? 0) > 0.5 ? 2 : (b[i] ?? 0) > 0 ? 1 : 0));
    const train = Uint32Array.from({ length: 900 }, (_, i) => i);
    const parties = [
      { X: a, columns: 2 },
      { X: b, columns: 1 },
    ];
    const mc = await trainTwin({
      parties,
      train,
      labels: cls,
      objective: 'softmax',
      outputs: 3,
      params: PARAMS,
      seed: 'm',
    });
    expect(mc.trees[0]?.length).toBe(3);
    const right = Array.from(train).filter((r) => {
      const s = [0, 1, 2].map((k) => mc.scores[r * 3 + k] ?? 0);
      return s.indexOf(Math.max(...s)) === cls[r];
    }).length;
    expect(right / 900).toBeGreaterThan(0.95);
    const value = Float64Array.from({ length: 900 }, (_, i) => 3 * (a[2 * i] ?? 0) + ((b[i] ?? 0) > 0 ? 2 : -2));
    const reg = await trainTwin({
      parties,
      train,
      labels: value,
      objective: 'squared',
      outputs: 1,
      params: PARAMS,
      seed: 'r',
    });
    let sse = 0;
    let sst = 0;
    const mean = value.reduce((s, v) => s + v, 0) / 900;
    for (const r of train) {
      sse += ((reg.scores[r] ?? 0) - (value[r] ?? 0)) ** 2;
      sst += ((value[r] ?? 0) - mean) ** 2;
    }
    expect(1 - sse / sst).toBeGreaterThan(0.95);
  });

  it('is deterministic for a seed (what lets a federated run equal its twin)', async () => {
    const { a, b, y } = xorData(500, 'det');
    const train = Uint32Array.from({ length: 500 }, (_, i) => i);
    const run = () =>
      boost({
        parties: [
          localParty(binRows(a, 2, fitEdges(a, 2, train, 16)), layoutOf(fitEdges(a, 2, train, 16)), train),
          localParty(binRows(b, 1, fitEdges(b, 1, train, 16)), layoutOf(fitEdges(b, 1, train, 16)), train),
        ],
        rows: 500,
        train,
        labels: y,
        objective: 'logistic',
        outputs: 1,
        params: { ...PARAMS, subsample: 0.7 },
        seed: 's',
      });
    expect((await run()).scores).toEqual((await run()).scores);
  });
});
