import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
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
    for (let j = 0; j < 2; j++)
      expect((multi.weights[2 + j] ?? 0) - (multi.weights[j] ?? 0)).toBeCloseTo(binary.weights[j] ?? 0, 6);
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

describe('centralised multinomial LR on a many-class label with tiny classes (student grades, 17 classes)', () => {
  const PYTHON = '/usr/bin/python3';
  const hasSklearn =
    existsSync(PYTHON) && spawnSync(PYTHON, ['-c', 'import sklearn'], { stdio: 'ignore' }).status === 0;

  it(
    'fits as scikit-learn does: same penalised objective, accuracy and log-loss, no divergence',
    { timeout: 60_000 },
    () => {
      if (!hasSklearn)
        throw new Error(
          `${PYTHON} with scikit-learn is needed (Debian: apt-get install python3-sklearn); .ci/run installs it`,
        );
      const lines = readFileSync(
        join(import.meta.dirname, '../../../shared/data/fate/student_hetero_guest.csv'),
        'utf8',
      )
        .trim()
        .split('\n')
        .slice(1);
      const rows = lines.map((l) => l.split(',').map(Number));
      const columns = (rows[0]?.length ?? 2) - 2;
      const grades = [...new Set(rows.map((r) => r[1] ?? 0))].sort((a, b) => a - b);
      const y = Int32Array.from(rows, (r) => grades.indexOf(r[1] ?? 0));
      const order = new Random('student-split').permutation(rows.length);
      const train = Uint32Array.from(order.subarray(0, Math.floor(rows.length * 0.8)));
      const test = Uint32Array.from(order.subarray(train.length));
      // Standardised on the training rows, as a party's preprocessing does.
      const X = new Float64Array(rows.length * columns);
      for (let j = 0; j < columns; j++) {
        const values = Array.from(train, (i) => rows[i]?.[j + 2] ?? 0);
        const mean = values.reduce((a, b) => a + b, 0) / values.length;
        const std = Math.sqrt(values.reduce((a, b) => a + (b - mean) ** 2, 0) / values.length) || 1;
        rows.forEach((r, i) => (X[i * columns + j] = ((r[j + 2] ?? 0) - mean) / std));
      }
      const l2 = 1e-4; // the jobs' default (training.optimizer.l2)
      const model = fitMultinomialNewton(X, columns, y, grades.length, train, { l2 });
      const p = multinomialProbabilities(model, X, columns, test);
      const K = grades.length;
      let correct = 0;
      let logLoss = 0;
      test.forEach((row, r) => {
        const probs = p.subarray(r * K, (r + 1) * K);
        const best = probs.indexOf(Math.max(...probs));
        if (best === y[row]) correct += 1;
        logLoss -= Math.log(Math.max(probs[y[row] ?? 0] ?? 0, 1e-15));
      });
      const ours = { accuracy: correct / test.length, logLoss: logLoss / test.length };
      const script = `
import json, sys
import numpy as np
from sklearn.linear_model import LogisticRegression
d = json.load(sys.stdin)
X = np.array(d['X']).reshape(-1, d['columns']); y = np.array(d['y']); tr = np.array(d['train']); te = np.array(d['test'])
m = LogisticRegression(C=1.0 / (d['l2'] * len(tr)), max_iter=10000, tol=1e-10).fit(X[tr], y[tr])
p = m.predict_proba(X[te]); cls = list(m.classes_)
acc = float(np.mean(m.predict(X[te]) == y[te]))
ll = float(np.mean([-np.log(max(p[k][cls.index(t)], 1e-15)) if t in cls else -np.log(1e-15) for k, t in enumerate(y[te])]))
print(json.dumps({'accuracy': acc, 'logLoss': ll}))`;
      const run = spawnSync(PYTHON, ['-c', script], {
        input: JSON.stringify({ X: [...X], columns, y: [...y], train: [...train], test: [...test], l2 }),
        encoding: 'utf8',
      });
      expect(run.status, run.stderr).toBe(0);
      const reference = JSON.parse(run.stdout) as { accuracy: number; logLoss: number };
      console.log(`student, 17 classes: ours ${JSON.stringify(ours)}, scikit-learn ${JSON.stringify(reference)}`);
      expect(Math.abs(ours.accuracy - reference.accuracy)).toBeLessThanOrEqual(0.02);
      expect(Number.isFinite(ours.logLoss)).toBe(true);
      expect(Math.abs(ours.logLoss - reference.logLoss)).toBeLessThan(0.05 * reference.logLoss);
    },
  );
});
