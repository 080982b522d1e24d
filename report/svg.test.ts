import { describe, expect, it } from 'vitest';
import { barChart, lineChart, niceRange, niceTicks, pathData, scale } from './svg.ts';
import { unbalancedTag } from './test-fixtures.ts';

const identity = (v: number): number => v;

describe('niceTicks', () => {
  it('steps by 1, 2 or 5 times a power of ten, with no float noise', () => {
    expect(niceTicks(0, 1, 5)).toEqual([0, 0.2, 0.4, 0.6, 0.8, 1]);
    expect(niceTicks(0.18, 0.69, 5)).toEqual([0.2, 0.3, 0.4, 0.5, 0.6]);
    expect(niceTicks(1, 30, 5)).toEqual([5, 10, 15, 20, 25, 30]);
    expect(niceTicks(0, 0.0007, 4)).toEqual([0, 0.0002, 0.0004, 0.0006]);
  });

  it('handles one value and reversed bounds, and refuses non-finite ones', () => {
    expect(niceTicks(3, 3)).toEqual([3]);
    expect(niceTicks(1, 0, 5)).toEqual([0, 0.2, 0.4, 0.6, 0.8, 1]);
    expect(() => niceTicks(0, Number.NaN)).toThrow(RangeError);
  });
});

describe('niceRange', () => {
  it('widens to whole ticks and includes the floor', () => {
    expect(niceRange([0.18, 0.69], { floor: 0 })).toEqual({
      min: 0,
      max: 0.7,
      ticks: [0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7],
    });
    expect(niceRange([1.41, 1.76])).toMatchObject({ min: 1.4, max: 1.8 });
  });

  it('gives a single value room, and ignores NaN', () => {
    const r = niceRange([0.5, Number.NaN]);
    expect(r.min).toBeLessThan(0.5);
    expect(r.max).toBeGreaterThan(0.5);
    expect(niceRange([])).toMatchObject({ min: 0, max: 1 });
  });
});

describe('scale and pathData', () => {
  it('maps linearly, flips for the y axis and clamps to the range', () => {
    const sy = scale(0, 1, 300, 40);
    expect(sy(0)).toBe(300);
    expect(sy(1)).toBe(40);
    expect(sy(0.5)).toBe(170);
    expect(sy(2)).toBe(40);
    expect(sy(-1)).toBe(300);
  });

  it('draws a polyline, one decimal per coordinate, and breaks at a missing point', () => {
    expect(
      pathData(
        [
          [0, 0],
          [1.234, 2.26],
          [3, 4],
        ],
        identity,
        identity,
      ),
    ).toBe('M0 0L1.2 2.3L3 4');
    expect(
      pathData(
        [
          [0, 0],
          [1, Number.NaN],
          [2, 2],
          [3, 3],
        ],
        identity,
        identity,
      ),
    ).toBe('M0 0M2 2L3 3');
    expect(pathData([[Number.NaN, 1]], identity, identity)).toBe('');
  });
});

describe('lineChart', () => {
  const chart = lineChart({
    id: 'test',
    title: 'A <test> & "chart"',
    x: { label: 'x axis', min: 0, max: 1, ticks: [0, 0.5, 1], format: (v) => `${v * 100}%` },
    y: { label: 'y axis', min: 0, max: 1, ticks: [0, 1], format: String },
    series: [
      {
        label: 'curve',
        points: [
          [0, 0],
          [0.5, 0.8],
          [1, 1],
        ],
        colour: '#112233',
        markers: true,
      },
      {
        label: 'diagonal',
        points: [
          [0, 0],
          [1, 1],
        ],
        colour: '#445566',
        dashed: true,
      },
    ],
    width: 400,
    height: 300,
  });

  it('is one well-formed svg element, with its title escaped', () => {
    expect(
      chart.startsWith('<svg xmlns="http://www.w3.org/2000/svg" class="chart" data-chart="test" viewBox="0 0 400 300"'),
    ).toBe(true);
    expect(chart.endsWith('</svg>')).toBe(true);
    expect(unbalancedTag(chart)).toBeUndefined();
    expect(chart).toContain('<title id="chart-test-title">A &lt;test&gt; &amp; &quot;chart&quot;</title>');
    expect(chart).not.toContain('<test>');
    expect(chart).not.toMatch(/NaN|undefined|Infinity/);
  });

  it('maps the data into the plot area: left 62, right 380, top 40, bottom 250', () => {
    const curve = /<path d="([^"]+)"[^>]*data-series="curve"/.exec(chart)?.[1];
    expect(curve).toBe('M62 250L221 82L380 40');
    const diagonal = /<path d="([^"]+)"[^>]*stroke-dasharray="6 4" data-series="diagonal"/.exec(chart)?.[1];
    expect(diagonal).toBe('M62 250L380 40');
    expect(chart.match(/<circle /g)).toHaveLength(3);
  });

  it('labels the ticks, the axes and the series', () => {
    for (const text of ['>0%<', '>50%<', '>100%<', '>x axis<', '>y axis<', '>curve<', '>diagonal<'])
      expect(chart).toContain(text);
  });

  it('uses presentation attributes only, so a strict CSP needs no style allowance', () => {
    expect(chart).not.toMatch(/style=|<style|<script|href=/);
  });
});

describe('barChart', () => {
  const chart = barChart({
    id: 'bars',
    title: 'bars',
    bars: [
      { label: 'half', value: 0.75, colour: '#000' },
      { label: 'full', value: 1, colour: '#111' },
      { label: 'none', value: undefined, colour: '#222' },
    ],
    min: 0.5,
    max: 1,
    format: (v) => v.toFixed(2),
    axisLabel: 'AUC',
    width: 400,
  });

  it('draws bar lengths in proportion to value − min', () => {
    const widths = [...chart.matchAll(/<rect [^>]*width="([\d.]+)"[^>]*data-value="([\d.]+)"/g)].map((m) => [
      Number(m[2]),
      Number(m[1]),
    ]);
    expect(widths).toHaveLength(2);
    const [half, full] = widths.map(([, w]) => w ?? 0);
    expect(half).toBeGreaterThan(0);
    expect(half! / full!).toBeCloseTo(0.5, 2);
  });

  it('writes the values, and n/a for a missing one', () => {
    expect(chart).toContain('>0.75<');
    expect(chart).toContain('>1.00<');
    expect(chart).toContain('>n/a<');
    expect(unbalancedTag(chart)).toBeUndefined();
  });
});
