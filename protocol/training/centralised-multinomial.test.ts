import { describe, expect, it } from 'vitest';
import { Random } from '../random.ts';
import { fitLogisticNewton } from './centralised.ts';
import { fitMultinomialNewton, multinomialProbabilities, softmaxInPlace } from './centralised-multinomial.ts';

function data(n: number, classes: number): { X: Float64Array; y: Int32Array } {
  const r = new Random('multinomial-test');
  const X = new Float64Array(n * 2);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const c = i % classes;
    y[i] = c;
    X.set([Math.cos(c) * 1.5 + r.nextGaussian(), Math.sin(c) * 1.5 + r.nextGaussian()], i * 2);
  }
  return { X, y };
}

describe('centralised multinomial LR', () => {
  it('softmax is stable for large logits and sums to 1', () => {
    const p = softmaxInPlace(Float64Array.from([1000, 999, -1000]));
    expect(p[0]! + p[1]! + p[2]!).toBeCloseTo(1, 15);
    expect(p[0]! / p[1]!).toBeCloseTo(Math.E, 10);
  });

  it('with two classes equals binary LR: w₁ − w₀ is the binary fit at half the L2', () => {
    const { X, y } = data(400, 2);
    const rows = Uint32Array.from({ length: 400 }, (_, i) => i);
    const multi = fitMultinomialNewton(X, 2, y, 2, rows, { l2: 0.01 });
    const binary = fitLogisticNewton(X, 2, y, rows, { l2: 0.005 });
    for (let j = 0; j < 2; j++) expect((multi.weights[2 + j] ?? 0) - (multi.weights[j] ?? 0)).toBeCloseTo(binary.weights[j] ?? 0, 6);
    expect((multi.intercepts[1] ?? 0) - (multi.intercepts[0] ?? 0)).toBeCloseTo(binary.intercept, 6);
  });

  it('reaches a stationary point: the penalised gradient is zero', () => {
    const K = 3;
    const { X, y } = data(300, K);
    const rows = Uint32Array.from({ length: 300 }, (_, i) => i);
    const l2 = 0.001;
    const model = fitMultinomialNewton(X, 2, y, K, rows, { l2 });
    const p = multinomialProbabilities(model, X, 2, rows);
    for (let c = 0; c < K; c++) {
      const g = [0, 0, 0];
      for (let i = 0; i < 300; i++) {
        const d = (p[i * K + c] ?? 0) - (y[i] === c ? 1 : 0);
        g[0]! += d * (X[i * 2] ?? 0);
        g[1]! += d * (X[i * 2 + 1] ?? 0);
        g[2]! += d;
      }
      expect(g[0]! / 300 + l2 * (model.weights[c * 2] ?? 0)).toBeCloseTo(0, 8);
      expect(g[1]! / 300 + l2 * (model.weights[c * 2 + 1] ?? 0)).toBeCloseTo(0, 8);
      expect(g[2]! / 300).toBeCloseTo(0, 6);
    }
  });
});
