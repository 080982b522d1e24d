/**
 * Inline SVG charts for the job report, drawn by this file alone: no
 * charting library, no script, no outside resource, so a report renders the
 * same with no network access and under a CSP that allows nothing but its
 * own stylesheet. Colours and fonts are SVG presentation attributes, not
 * `style` attributes, so they need no CSP allowance either.
 *
 * Two shapes cover every chart in the report: a line chart (loss, ROC, gain,
 * lift) and a horizontal bar chart (the guest-alone / federated /
 * centralised comparison).
 */
import { escapeXml } from './format.ts';

export type Point = readonly [number, number];

export type Series = {
  readonly label: string;
  readonly points: readonly Point[];
  readonly colour: string;
  /** A dashed line, for references such as "random targeting". */
  readonly dashed?: boolean;
  /** A dot on every point, for short series such as a few epochs. */
  readonly markers?: boolean;
};

export type Axis = {
  readonly label: string;
  readonly min: number;
  readonly max: number;
  readonly ticks: readonly number[];
  readonly format: (value: number) => string;
};

export type LineChartOptions = {
  /** Names the chart: `data-chart` attribute and the id of its title. */
  readonly id: string;
  /** Read by screen readers and shown as a tooltip. */
  readonly title: string;
  readonly x: Axis;
  readonly y: Axis;
  readonly series: readonly Series[];
  readonly width?: number;
  readonly height?: number;
};

export type Bar = { readonly label: string; readonly value: number | undefined; readonly colour: string };

export type BarChartOptions = {
  readonly id: string;
  readonly title: string;
  readonly bars: readonly Bar[];
  /** The value at the left edge (a bar at or below it has no length). */
  readonly min: number;
  readonly max: number;
  readonly format: (value: number) => string;
  readonly axisLabel: string;
  readonly width?: number;
};

/** The report's palette. */
export const COLOURS = Object.freeze({
  federated: '#1f5fbf',
  guestOnly: '#d9822b',
  centralised: '#6b7280',
  reference: '#9aa1ab',
  grid: '#e6e8ec',
  axis: '#5b6370',
  text: '#1d2327',
});

const FONT = 'system-ui, -apple-system, Segoe UI, sans-serif';

/** Coordinates with one decimal: enough for a screen, short in the file. */
const px = (v: number): string => (Math.round(v * 10) / 10).toString();

/**
 * "Nice" tick values (steps of 1, 2 or 5 times a power of ten) covering
 * [min, max], about `target` of them. Values are rounded to the step's
 * precision so labels read 0.3, not 0.30000000000000004.
 */
export function niceTicks(min: number, max: number, target = 5): number[] {
  if (!Number.isFinite(min) || !Number.isFinite(max))
    throw new RangeError(`ticks need finite bounds, got ${min} and ${max}`);
  if (max < min) [min, max] = [max, min];
  if (max === min) return [min];
  const step = niceStep((max - min) / Math.max(1, target));
  const round = roundTo(step);
  const out: number[] = [];
  for (let v = Math.ceil(min / step - 1e-9) * step; v <= max + step * 1e-9; v += step) out.push(round(v));
  return out;
}

/** Rounds to the precision of `step`, so values read 0.3, not 0.30000000000000004. */
function roundTo(step: number): (v: number) => number {
  const decimals = Math.min(20, Math.max(0, -Math.floor(Math.log10(step) + 1e-9)));
  return (v) => Number(v.toFixed(decimals));
}

/** The 1, 2 or 5 × 10ᵏ nearest (on a log scale) to `raw`, as d3's ticks choose. */
function niceStep(raw: number): number {
  const power = 10 ** Math.floor(Math.log10(raw));
  const f = raw / power;
  return (f >= Math.sqrt(50) ? 10 : f >= Math.sqrt(10) ? 5 : f >= Math.SQRT2 ? 2 : 1) * power;
}

/**
 * An axis range that holds every finite value, widened to whole ticks.
 * `floor` (e.g. 0 for a loss) is included when given. A single value gets a
 * little room on each side.
 */
export function niceRange(
  values: readonly number[],
  options: { readonly floor?: number; readonly target?: number } = {},
): { min: number; max: number; ticks: number[] } {
  const finite = values.filter(Number.isFinite);
  if (options.floor !== undefined) finite.push(options.floor);
  if (finite.length === 0) return { min: 0, max: 1, ticks: niceTicks(0, 1, options.target) };
  let min = Math.min(...finite);
  let max = Math.max(...finite);
  if (min === max) {
    const pad = min === 0 ? 1 : Math.abs(min) * 0.1;
    min -= pad;
    max += pad;
    if (options.floor !== undefined && min < options.floor && max > options.floor) min = options.floor;
  }
  const step = niceStep((max - min) / Math.max(1, options.target ?? 5));
  const round = roundTo(step);
  const lo = round(Math.floor(min / step + 1e-9) * step);
  const hi = round(Math.ceil(max / step - 1e-9) * step);
  return { min: lo, max: hi, ticks: niceTicks(lo, hi, options.target) };
}

/**
 * An SVG path through the points, in data units mapped by `sx` and `sy`.
 * A non-finite point breaks the line (the next finite point starts a new
 * segment); an empty string means nothing to draw.
 */
export function pathData(points: readonly Point[], sx: (x: number) => number, sy: (y: number) => number): string {
  let d = '';
  let pen = false;
  for (const [x, y] of points) {
    if (!Number.isFinite(x) || !Number.isFinite(y)) {
      pen = false;
      continue;
    }
    d += `${pen ? 'L' : 'M'}${px(sx(x))} ${px(sy(y))}`;
    pen = true;
  }
  return d;
}

/** A linear map from [d0, d1] onto [r0, r1], clamped to the range so nothing draws outside the plot. */
export function scale(d0: number, d1: number, r0: number, r1: number): (v: number) => number {
  const span = d1 - d0 === 0 ? 1 : d1 - d0;
  const lo = Math.min(r0, r1);
  const hi = Math.max(r0, r1);
  return (v) => Math.min(hi, Math.max(lo, r0 + ((v - d0) / span) * (r1 - r0)));
}

/** Rough width of a label in the chart font, to lay out the legend without measuring. */
const textWidth = (text: string, size = 12): number => text.length * size * 0.56;

function svgOpen(id: string, title: string, width: number, height: number): string {
  const safe = escapeXml(id);
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" class="chart" data-chart="${safe}" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" aria-labelledby="chart-${safe}-title" font-family="${FONT}" font-size="12" fill="${COLOURS.text}">` +
    `<title id="chart-${safe}-title">${escapeXml(title)}</title>`
  );
}

/** A line chart with gridlines, labelled axes and a legend above the plot. */
export function lineChart(o: LineChartOptions): string {
  const width = o.width ?? 680;
  const height = o.height ?? 360;
  const m = { top: 40, right: 20, bottom: 50, left: 62 };
  const left = m.left;
  const right = width - m.right;
  const top = m.top;
  const bottom = height - m.bottom;
  const sx = scale(o.x.min, o.x.max, left, right);
  const sy = scale(o.y.min, o.y.max, bottom, top);
  const parts: string[] = [svgOpen(o.id, o.title, width, height)];
  parts.push(
    `<rect x="${left}" y="${top}" width="${right - left}" height="${bottom - top}" fill="#ffffff" stroke="${COLOURS.grid}"/>`,
  );
  for (const t of o.y.ticks) {
    const y = px(sy(t));
    parts.push(`<line x1="${left}" y1="${y}" x2="${right}" y2="${y}" stroke="${COLOURS.grid}"/>`);
    parts.push(
      `<text x="${left - 8}" y="${y}" text-anchor="end" dominant-baseline="middle" fill="${COLOURS.axis}">${escapeXml(o.y.format(t))}</text>`,
    );
  }
  for (const t of o.x.ticks) {
    const x = px(sx(t));
    parts.push(`<line x1="${x}" y1="${top}" x2="${x}" y2="${bottom}" stroke="${COLOURS.grid}"/>`);
    parts.push(
      `<text x="${x}" y="${bottom + 18}" text-anchor="middle" fill="${COLOURS.axis}">${escapeXml(o.x.format(t))}</text>`,
    );
  }
  parts.push(
    `<line x1="${left}" y1="${bottom}" x2="${right}" y2="${bottom}" stroke="${COLOURS.axis}"/><line x1="${left}" y1="${top}" x2="${left}" y2="${bottom}" stroke="${COLOURS.axis}"/>`,
  );
  parts.push(
    `<text x="${px((left + right) / 2)}" y="${height - 10}" text-anchor="middle">${escapeXml(o.x.label)}</text>`,
  );
  parts.push(
    `<text transform="translate(16 ${px((top + bottom) / 2)}) rotate(-90)" text-anchor="middle">${escapeXml(o.y.label)}</text>`,
  );
  for (const s of o.series) {
    const d = pathData(s.points, sx, sy);
    if (d !== '') {
      parts.push(
        `<path d="${d}" fill="none" stroke="${s.colour}" stroke-width="${s.dashed === true ? 1.5 : 2.5}" stroke-linejoin="round" stroke-linecap="round"${s.dashed === true ? ' stroke-dasharray="6 4"' : ''} data-series="${escapeXml(s.label)}"/>`,
      );
    }
    if (s.markers === true) {
      for (const [x, y] of s.points) {
        if (Number.isFinite(x) && Number.isFinite(y))
          parts.push(`<circle cx="${px(sx(x))}" cy="${px(sy(y))}" r="3.5" fill="${s.colour}"/>`);
      }
    }
  }
  // Legend: one swatch and label per series, in a row above the plot.
  let lx = left;
  for (const s of o.series) {
    parts.push(
      `<line x1="${px(lx)}" y1="18" x2="${px(lx + 22)}" y2="18" stroke="${s.colour}" stroke-width="${s.dashed === true ? 1.5 : 3}"${s.dashed === true ? ' stroke-dasharray="6 4"' : ''}/>`,
    );
    parts.push(`<text x="${px(lx + 28)}" y="18" dominant-baseline="middle">${escapeXml(s.label)}</text>`);
    lx += 28 + textWidth(s.label) + 20;
  }
  parts.push('</svg>');
  return parts.join('');
}

/** Horizontal bars, one per labelled value, with the value written at the end of each bar. */
export function barChart(o: BarChartOptions): string {
  const width = o.width ?? 680;
  const row = 36;
  const labelWidth = Math.min(240, Math.max(120, ...o.bars.map((b) => textWidth(b.label, 13) + 16)));
  const left = labelWidth;
  const right = width - 70;
  const top = 10;
  const bottom = top + row * o.bars.length;
  const height = bottom + 44;
  const sx = scale(o.min, o.max, left, right);
  const parts: string[] = [svgOpen(o.id, o.title, width, height)];
  for (const t of niceTicks(o.min, o.max, 5)) {
    const x = px(sx(t));
    parts.push(`<line x1="${x}" y1="${top}" x2="${x}" y2="${bottom}" stroke="${COLOURS.grid}"/>`);
    parts.push(
      `<text x="${x}" y="${bottom + 16}" text-anchor="middle" fill="${COLOURS.axis}">${escapeXml(o.format(t))}</text>`,
    );
  }
  o.bars.forEach((b, i) => {
    const y = top + i * row;
    const mid = px(y + row / 2);
    parts.push(
      `<text x="${left - 10}" y="${mid}" text-anchor="end" dominant-baseline="middle" font-size="13">${escapeXml(b.label)}</text>`,
    );
    if (b.value === undefined || !Number.isFinite(b.value)) {
      parts.push(`<text x="${left + 6}" y="${mid}" dominant-baseline="middle" fill="${COLOURS.axis}">n/a</text>`);
      return;
    }
    const end = sx(b.value);
    parts.push(
      `<rect x="${left}" y="${px(y + 7)}" width="${px(Math.max(0, end - left))}" height="${row - 14}" rx="3" fill="${b.colour}" data-value="${b.value}"/>`,
    );
    parts.push(
      `<text x="${px(end + 6)}" y="${mid}" dominant-baseline="middle" font-weight="600">${escapeXml(o.format(b.value))}</text>`,
    );
  });
  parts.push(`<line x1="${left}" y1="${top}" x2="${left}" y2="${bottom}" stroke="${COLOURS.axis}"/>`);
  parts.push(
    `<text x="${px((left + right) / 2)}" y="${height - 8}" text-anchor="middle">${escapeXml(o.axisLabel)}</text>`,
  );
  parts.push('</svg>');
  return parts.join('');
}
