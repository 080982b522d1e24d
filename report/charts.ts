/** The report's charts, from its data: training loss, ROC, cumulative gain, lift, and the AUC comparison. */
import { decimal, percent, times } from './format.ts';
import { barChart, COLOURS, lineChart, niceRange, niceTicks, type Bar, type Point } from './svg.ts';

const UNIT_TICKS = niceTicks(0, 1, 5);
const unitAxis = (label: string, format: (v: number) => string = (v) => decimal(v, 1)) => ({
  label,
  min: 0,
  max: 1,
  ticks: UNIT_TICKS,
  format,
});
const pct0 = (v: number): string => percent(v, 0);

/** Training loss per epoch (epochs count from 1). Undefined when there is nothing to draw. */
export function lossChart(losses: readonly number[]): string | undefined {
  const finite = losses.filter(Number.isFinite);
  if (finite.length === 0) return undefined;
  const y = niceRange(finite, { floor: 0 });
  const lastEpoch = Math.max(2, losses.length);
  const xTicks = niceTicks(1, lastEpoch, Math.min(lastEpoch - 1, 8)).filter((t) => Number.isInteger(t));
  return lineChart({
    id: 'loss',
    title: 'Training loss after each epoch',
    x: {
      label: 'epoch (pass over the training data)',
      min: 1,
      max: lastEpoch,
      ticks: xTicks,
      format: (v) => String(v),
    },
    y: { label: 'training loss', ...y, format: (v) => String(v) },
    series: [
      {
        label: 'training loss',
        points: losses.map((l, i): Point => [i + 1, l]),
        colour: COLOURS.federated,
        markers: losses.length <= 40,
      },
    ],
  });
}

/** The ROC curve with the diagonal of a random guess. */
export function rocChart(
  roc: { readonly fpr: readonly number[]; readonly tpr: readonly number[] },
  label: string,
): string | undefined {
  const points = roc.fpr.map((x, i): Point => [x, roc.tpr[i] ?? Number.NaN]);
  if (!points.some(([x, y]) => Number.isFinite(x) && Number.isFinite(y))) return undefined;
  return lineChart({
    id: 'roc',
    title: 'ROC curve: positives found against negatives wrongly picked',
    x: unitAxis('share of negatives wrongly picked (false-positive rate)', pct0),
    y: unitAxis('share of positives found (true-positive rate)', pct0),
    series: [
      { label, points, colour: COLOURS.federated },
      {
        label: 'random guess',
        points: [
          [0, 0],
          [1, 1],
        ],
        colour: COLOURS.reference,
        dashed: true,
      },
    ],
  });
}

/** Cumulative gain: the share of positives captured by targeting the best-scored share of people. */
export function gainChart(
  gain: { readonly population: readonly number[]; readonly captured: readonly number[] },
  label: string,
): string | undefined {
  const points = gain.population.map((x, i): Point => [x, gain.captured[i] ?? Number.NaN]);
  if (!points.some(([x, y]) => Number.isFinite(x) && Number.isFinite(y))) return undefined;
  return lineChart({
    id: 'gain',
    title: 'Cumulative gain: positives captured against people targeted',
    x: unitAxis('share of people targeted, best scores first', pct0),
    y: unitAxis('share of all positives captured', pct0),
    series: [
      { label, points, colour: COLOURS.federated },
      {
        label: 'random targeting',
        points: [
          [0, 0],
          [1, 1],
        ],
        colour: COLOURS.reference,
        dashed: true,
      },
    ],
  });
}

/**
 * Lift at each targeted share x: captured(x) / share, read off the gain
 * curve. With the number of rows known, the share is the one the gain curve
 * really took (round(x·rows) / rows), as lift@k in the metrics does; else x.
 * Starts at 1 %, where a share of one or two people would make the curve jump.
 */
export function liftPoints(
  gain: { readonly population: readonly number[]; readonly captured: readonly number[] },
  rows?: number,
): Point[] {
  return gain.population.flatMap((x, i): Point[] => {
    const c = gain.captured[i];
    const share = rows === undefined || rows <= 0 ? x : Math.round(x * rows) / rows;
    return x >= 0.01 - 1e-12 && share > 0 && c !== undefined && Number.isFinite(c) ? [[x, c / share]] : [];
  });
}

export function liftChart(
  gain: { readonly population: readonly number[]; readonly captured: readonly number[] },
  label: string,
  rows?: number,
): string | undefined {
  const points = liftPoints(gain, rows);
  if (points.length === 0) return undefined;
  const y = niceRange(
    points.map(([, l]) => l),
    { floor: 0 },
  );
  return lineChart({
    id: 'lift',
    title: 'Lift: how much richer in positives the targeted people are than average',
    x: unitAxis('share of people targeted, best scores first', pct0),
    y: { label: 'lift (× the average rate)', ...y, format: (v) => times(v, v < 10 && !Number.isInteger(v) ? 1 : 0) },
    series: [
      { label, points, colour: COLOURS.federated },
      {
        label: 'random targeting',
        points: [
          [0, 1],
          [1, 1],
        ],
        colour: COLOURS.reference,
        dashed: true,
      },
    ],
  });
}

/**
 * AUC side by side. The axis starts at 0.5 (a random guess), where AUC
 * starts meaning anything, so the differences that matter are visible.
 */
export function aucChart(bars: readonly Bar[]): string | undefined {
  if (!bars.some((b) => b.value !== undefined && Number.isFinite(b.value))) return undefined;
  const low = Math.min(
    0.5,
    ...bars.flatMap((b) => (b.value !== undefined && Number.isFinite(b.value) ? [Math.floor(b.value * 10) / 10] : [])),
  );
  return barChart({
    id: 'auc',
    title: 'AUC of each model on the same held-out people',
    bars,
    min: low,
    max: 1,
    format: (v) => decimal(v, v === 1 || v * 10 === Math.round(v * 10) ? 1 : 3),
    axisLabel: 'AUC (0.5 = random guess, 1 = perfect)',
  });
}
