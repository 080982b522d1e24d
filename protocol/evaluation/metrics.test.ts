import { describe, expect, it } from 'vitest';
import { Random } from '../random.ts';
import { accuracy, auc, binaryReport, gainCurve, ks, liftAtK, logLoss, recallAtK, rocCurve } from './metrics.ts';

/** Scores on a 0.01 grid (many ties) with a mild signal, for brute-force comparisons. */
function tiedData(n: number, seed: string): { scores: Float64Array; labels: Int32Array } {
  const random = new Random(seed);
  const labels = Int32Array.from({ length: n }, () => (random.nextFloat() < 0.3 ? 1 : 0));
  const scores = Float64Array.from(labels, (y) => Math.round((random.nextFloat() + 0.3 * y) * 20) / 20);
  return { scores, labels };
}

/** AUC by definition: over all positive/negative pairs, 1 if ordered correctly and ½ if tied. */
function pairwiseAuc(scores: Float64Array, labels: Int32Array): number {
  let correct = 0;
  let pairs = 0;
  for (let i = 0; i < scores.length; i++) {
    if (labels[i] !== 1) continue;
    for (let j = 0; j < scores.length; j++) {
      if (labels[j] !== 0) continue;
      pairs++;
      correct += scores[i]! > scores[j]! ? 1 : scores[i] === scores[j] ? 0.5 : 0;
    }
  }
  return correct / pairs;
}

/** Expected positives in the top k under random tie-breaking: Σ P(row i is in the top k) over positive rows. */
function expectedCaptured(scores: Float64Array, labels: Int32Array, k: number): number {
  let captured = 0;
  for (let i = 0; i < scores.length; i++) {
    if (labels[i] !== 1) continue;
    let greater = 0;
    let equal = 0;
    for (const s of scores) {
      if (s > scores[i]!) greater++;
      else if (s === scores[i]) equal++;
    }
    captured += Math.min(1, Math.max(0, (k - greater) / equal));
  }
  return captured;
}

describe('auc', () => {
  it('is 0.75 on the scikit-learn documentation example', () => {
    expect(auc([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1])).toBe(0.75);
  });

  it('counts ties as half a correct pair', () => {
    // Pairs (pos, neg): (0.9, 0.5) 1, (0.9, 0.1) 1, (0.5, 0.5) ½, (0.5, 0.1) 1 → 3.5 / 4.
    expect(auc([0.9, 0.5, 0.5, 0.1], [1, 1, 0, 0])).toBe(0.875);
    expect(auc(new Float64Array(6).fill(0.3), Int32Array.of(0, 1, 0, 1, 1, 0))).toBe(0.5);
  });

  it('equals the share of correctly ordered positive/negative pairs on tied random data', () => {
    const { scores, labels } = tiedData(400, 'auc');

    expect(auc(scores, labels)).toBeCloseTo(pairwiseAuc(scores, labels), 12);
  });

  it('does not depend on row order', () => {
    const { scores, labels } = tiedData(300, 'order');
    const order = new Random('shuffle').permutation(300);

    const shuffled = auc(
      Float64Array.from(order, (i) => scores[i]!),
      Int32Array.from(order, (i) => labels[i]!),
    );

    expect(shuffled).toBe(auc(scores, labels));
  });

  it('is NaN when only one class is present, and rejects bad input', () => {
    expect(auc([0.2, 0.4], [1, 1])).toBeNaN();
    expect(() => auc([0.2, 0.4], [1, 2])).toThrow(new RangeError('labels[1] is 2; binary metrics need 0 or 1'));
    expect(() => auc([0.2, Number.NaN], [1, 0])).toThrow(new RangeError('scores[1] is NaN'));
    expect(() => auc([0.2], [1, 0])).toThrow(new RangeError('got 1 scores for 2 labels'));
  });
});

describe('ks', () => {
  it('is the largest gap between the positive and negative score CDFs', () => {
    // Descending: 0.8(+) gives TPR ½ FPR 0; 0.4(−) ½ ½; 0.35(+) 1 ½; so KS = ½.
    expect(ks([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1])).toBe(0.5);
    expect(ks([0.9, 0.8, 0.1], [1, 1, 0])).toBe(1);
  });

  it('matches a scan over every threshold on tied random data', () => {
    const { scores, labels } = tiedData(400, 'ks');
    const positives = labels.reduce((a, b) => a + b, 0);
    let best = 0;
    for (const t of new Set(scores)) {
      let tp = 0;
      let fp = 0;
      scores.forEach((s, i) => (s >= t ? (labels[i] === 1 ? tp++ : fp++) : 0));
      best = Math.max(best, Math.abs(tp / positives - fp / (scores.length - positives)));
    }

    expect(ks(scores, labels)).toBeCloseTo(best, 14);
  });
});

describe('logLoss and accuracy', () => {
  it('log-loss is the mean cross-entropy', () => {
    // −(ln 0.9 + ln 0.8 + ln 0.4) / 3, evaluated in Python.
    expect(logLoss([0.9, 0.2, 0.6], [1, 0, 0])).toBeCloseTo(0.414931599615397, 14);
  });

  it('log-loss clips certainty at 1e-15 so one confident miss stays finite', () => {
    expect(logLoss([0], [1])).toBeCloseTo(34.538776394910684, 9); // −ln(1e-15)
    expect(logLoss([1, 0], [1, 0])).toBeLessThan(1e-14);
  });

  it('accuracy calls a probability at the threshold positive', () => {
    expect(accuracy([0.5, 0.49, 0.7, 0.2], [1, 1, 0, 0])).toBe(0.5);
    expect(accuracy([0.5, 0.49, 0.7, 0.2], [1, 1, 0, 0], 0.45)).toBe(0.75);
  });
});

describe('lift, recall and gain at the top k', () => {
  // 10 rows, 3 positives (base rate 0.3); three rows tie at 0.8, one of them positive.
  const scores = [0.9, 0.8, 0.8, 0.8, 0.5, 0.4, 0.3, 0.2, 0.1, 0.05];
  const labels = [1, 1, 0, 0, 1, 0, 0, 0, 0, 0];

  it('takes a tied group cut by the boundary pro rata', () => {
    // Top 2 rows: the 0.9 positive plus one of three tied rows, worth ⅓ of a positive.
    const recall = recallAtK(scores, labels, [0.1, 0.2, 0.5]);
    const lift = liftAtK(scores, labels, [0.1, 0.2, 0.5]);

    expect(recall.map((r) => r.rows)).toEqual([1, 2, 5]);
    expect(recall[0]!.value).toBeCloseTo(1 / 3, 14);
    expect(recall[1]!.value).toBeCloseTo(4 / 9, 14);
    expect(recall[2]!.value).toBeCloseTo(1, 14);
    expect(lift[0]!.value).toBeCloseTo(1 / 0.3, 14);
    expect(lift[1]!.value).toBeCloseTo(2 / 3 / 0.3, 14);
    expect(lift[2]!.value).toBeCloseTo(0.6 / 0.3, 14);
  });

  it('uses at least one row and keeps the order of the fractions asked for', () => {
    const recall = recallAtK(scores, labels, [0.5, 0.01]);

    expect(recall.map((r) => [r.fraction, r.rows])).toEqual([
      [0.5, 5],
      [0.01, 1],
    ]);
    expect(() => recallAtK(scores, labels, [0])).toThrow(new RangeError('a top-k fraction must be in (0, 1], got 0'));
  });

  it('matches the expected capture under random tie-breaking on tied random data', () => {
    const data = tiedData(500, 'topk');
    const fractions = [0.01, 0.05, 0.1, 0.2, 0.37];
    const positives = data.labels.reduce((a, b) => a + b, 0);

    const recall = recallAtK(data.scores, data.labels, fractions);

    recall.forEach((r) =>
      expect(r.value).toBeCloseTo(expectedCaptured(data.scores, data.labels, r.rows) / positives, 12),
    );
  });

  it('gain runs from 0 to 1, never falls, and agrees with recall@k', () => {
    const data = tiedData(500, 'gain');

    const gain = gainCurve(data.scores, data.labels, 20);
    const recall = recallAtK(data.scores, data.labels, [0.05, 0.5]);

    expect(gain.population).toHaveLength(21);
    expect(gain.captured[0]).toBe(0);
    expect(gain.captured[20]).toBeCloseTo(1, 14);
    expect(gain.captured.every((c, i) => i === 0 || c >= gain.captured[i - 1]!)).toBe(true);
    expect(gain.captured[1]).toBeCloseTo(recall[0]!.value, 14);
    expect(gain.captured[10]).toBeCloseTo(recall[1]!.value, 14);
  });
});

describe('rocCurve', () => {
  it('has one point per distinct score plus the origin, and its trapezoid area is the AUC', () => {
    const { scores, labels } = tiedData(400, 'roc');
    const distinct = new Set(scores).size;

    const roc = rocCurve(scores, labels, 10_000);
    let area = 0;
    for (let i = 1; i < roc.fpr.length; i++)
      area += ((roc.fpr[i]! - roc.fpr[i - 1]!) * (roc.tpr[i]! + roc.tpr[i - 1]!)) / 2;

    expect(roc.fpr).toHaveLength(distinct + 1);
    expect([roc.fpr[0], roc.tpr[0], roc.thresholds[0]]).toEqual([0, 0, Infinity]);
    expect(area).toBeCloseTo(pairwiseAuc(scores, labels), 12);
  });

  it('thins to at most maxPoints, keeping both ends and the points in order', () => {
    const random = new Random('thin');
    const labels = Int32Array.from({ length: 5000 }, () => (random.nextFloat() < 0.5 ? 1 : 0));
    const scores = Float64Array.from(labels, (y) => random.nextGaussian() + y);

    const roc = rocCurve(scores, labels, 50);

    expect(roc.fpr).toHaveLength(50);
    expect([roc.fpr[0], roc.tpr[0], roc.fpr[49], roc.tpr[49]]).toEqual([0, 0, 1, 1]);
    expect(roc.thresholds.every((t, i) => i === 0 || t < roc.thresholds[i - 1]!)).toBe(true);
  });
});

describe('binaryReport', () => {
  it('bundles every metric and agrees with the single-metric functions', () => {
    const { scores, labels } = tiedData(300, 'report');

    const report = binaryReport(scores, labels, { fractions: [0.1], gainPoints: 10, rocPoints: 20 });

    expect(report).toMatchObject({ rows: 300, positives: labels.reduce((a, b) => a + b, 0), threshold: 0.5 });
    expect(report.auc).toBe(auc(scores, labels));
    expect(report.ks).toBe(ks(scores, labels));
    expect(report.logLoss).toBe(logLoss(scores, labels));
    expect(report.accuracy).toBe(accuracy(scores, labels));
    expect(report.liftAtK).toEqual(liftAtK(scores, labels, [0.1]));
    expect(report.recallAtK).toEqual(recallAtK(scores, labels, [0.1]));
    expect(report.gain).toEqual(gainCurve(scores, labels, 10));
    expect(report.roc).toEqual(rocCurve(scores, labels, 20));
    expect(() => JSON.stringify(report)).not.toThrow();
  });

  it('handles a million rows in well under two seconds and recovers the known AUC and KS of two unit normals a distance 1 apart', () => {
    // Positives ~ N(1, 1), negatives ~ N(0, 1): AUC = Φ(1/√2) = 0.76025, KS = Φ(½) − Φ(−½) = 0.38292.
    const random = new Random('million');
    const n = 1_000_000;
    const labels = Int32Array.from({ length: n }, () => (random.nextFloat() < 0.2 ? 1 : 0));
    const logits = Float64Array.from(labels, (y) => random.nextGaussian() + y);
    const probabilities = logits.map((z) => 1 / (1 + Math.exp(-z)));

    const started = performance.now();
    const report = binaryReport(probabilities, labels);
    const elapsedMs = performance.now() - started;

    expect(Math.abs(report.auc - 0.7602499389065233)).toBeLessThan(0.003);
    expect(Math.abs(report.ks - 0.3829249225480262)).toBeLessThan(0.004);
    expect(report.roc.fpr.length).toBe(200);
    expect(elapsedMs).toBeLessThan(2000);
  });
});
