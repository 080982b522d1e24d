import { describe, expect, it } from 'vitest';
import { binaryReport, liftAtK } from '../protocol/evaluation/metrics.ts';
import { aucChart, gainChart, liftChart, liftPoints, lossChart, rocChart } from './charts.ts';
import { unbalancedTag, validationSet } from './test-fixtures.ts';

const pathOf = (svg: string, series: string): string =>
  new RegExp(`<path d="([^"]+)"[^>]*data-series="${series}"`).exec(svg)?.[1] ?? '';
const vertices = (d: string): number => (d.match(/[ML]/g) ?? []).length;

describe('report charts', () => {
  const { scores, labels } = validationSet();
  const metrics = binaryReport(scores, labels);

  it('lift read off the gain curve equals lift@k from the metrics at the same shares', () => {
    // 200 rows: every gain point is a whole number of rows, so both must agree exactly.
    const points = new Map(liftPoints(metrics.gain, metrics.rows).map(([x, l]) => [Math.round(x * 100), l]));
    for (const t of liftAtK(scores, labels, [0.01, 0.05, 0.1, 0.2, 0.5, 1]))
      expect(points.get(Math.round(t.fraction * 100))).toBeCloseTo(t.value, 12);
    // Lift of everyone is 1.
    expect(points.get(100)).toBeCloseTo(1, 12);
  });

  it('lift uses the share of rows the gain curve really took when the rows are few', () => {
    // 113 rows: the 1% point is 1 row (0.885%), all positive with 71 of 113 positive → lift 113/71.
    const gain = { population: [0, 0.01, 1], captured: [0, 1 / 71, 1] };
    expect(liftPoints(gain, 113)[0]?.[1]).toBeCloseTo(113 / 71, 12);
    expect(liftPoints(gain)[0]?.[1]).toBeCloseTo(1 / 71 / 0.01, 12);
    expect(liftPoints(gain, 113)).toHaveLength(2);
  });

  it('the ROC curve has one vertex per point and the random-guess diagonal', () => {
    const svg = rocChart(metrics.roc, 'With partner') ?? '';
    expect(svg).toContain('data-chart="roc"');
    expect(vertices(pathOf(svg, 'With partner'))).toBe(metrics.roc.fpr.length);
    expect(pathOf(svg, 'random guess')).toMatch(/^M[\d.]+ [\d.]+L[\d.]+ [\d.]+$/);
    expect(unbalancedTag(svg)).toBeUndefined();
  });

  it('the gain and lift charts draw every point', () => {
    const gain = gainChart(metrics.gain, 'With partner') ?? '';
    expect(vertices(pathOf(gain, 'With partner'))).toBe(101);
    const lift = liftChart(metrics.gain, 'With partner', metrics.rows) ?? '';
    expect(vertices(pathOf(lift, 'With partner'))).toBe(100);
    expect(lift).toContain('>1×<');
  });

  it('the loss chart marks each epoch and starts its axis at 0', () => {
    const svg = lossChart([0.6931, 0.52, 0.47, 0.455]) ?? '';
    expect(svg.match(/<circle /g)).toHaveLength(4);
    expect(vertices(pathOf(svg, 'training loss'))).toBe(4);
    for (const epoch of ['>1<', '>2<', '>3<', '>4<']) expect(svg).toContain(epoch);
    expect(svg).toMatch(/text-anchor="end"[^>]*>0<\/text>/);
  });

  it('draws nothing for missing data', () => {
    expect(lossChart([])).toBeUndefined();
    expect(rocChart({ fpr: [Number.NaN], tpr: [Number.NaN] }, 'x')).toBeUndefined();
    expect(gainChart({ population: [], captured: [] }, 'x')).toBeUndefined();
    expect(liftChart({ population: [0], captured: [0] }, 'x')).toBeUndefined();
    expect(aucChart([{ label: 'a', value: undefined, colour: '#000' }])).toBeUndefined();
  });

  it('the AUC comparison starts at 0.5 unless a model is worse than guessing', () => {
    const svg =
      aucChart([
        { label: 'alone', value: 0.65, colour: '#000' },
        { label: 'federated', value: 0.71, colour: '#111' },
      ]) ?? '';
    expect(svg).toContain('>0.5<');
    expect(svg).toContain('>0.650<');
    expect(svg).toContain('>0.710<');
    expect(aucChart([{ label: 'bad', value: 0.42, colour: '#000' }])).toContain('>0.4<');
  });
});
