/**
 * Scoring one row with one party's part of the model, with training's own
 * arithmetic: `transformRow` (bit-identical to the batch transform), the DP
 * row clip when the job had one, then the dot product in the order
 * `partialLogits` uses (intercept first). Pure: no I/O.
 */
import { numericCellParser } from '../data/dataset.ts';
import { transformRow, type RawRow } from '../data/preprocess.ts';
import { clipRows } from '../protocol/privacy/dp-plan.ts';
import { sigmoid } from '../protocol/training/chebyshev-link.ts';
import type { ServingModel } from './model-bundle.ts';

export type ScoringParameters = Pick<ServingModel, 'preprocess' | 'weights' | 'intercept' | 'rowClip'>;

/** This party's partial logit for one raw row (the guest's includes the intercept). */
export function partialScore(model: ScoringParameters, row: RawRow, source?: string): number {
  const x = transformRow(model.preprocess, row, source);
  return dot(model, x);
}

/** The partial logit of an already preprocessed row (clipped here when the job clipped rows). */
export function dot(model: Pick<ScoringParameters, 'weights' | 'intercept' | 'rowClip'>, x: Float64Array): number {
  if (model.rowClip !== null) clipRows(x, x.length, model.rowClip);
  const w = model.weights;
  let s = model.intercept;
  for (let j = 0; j < x.length; j++) s += (x[j] ?? 0) * (w[j] ?? 0);
  return s;
}

/**
 * Scores CSV records with a binary part: `(fields, line) → partial logit`.
 * When every input column is numeric without a missing-indicator and the
 * job clipped no rows, a row whose cells are all present is scored in place
 * with the same parser and the same operations in the same order as
 * `transformRow` + `dot` (so the same bits) but without building a row
 * object and a vector per row; any other row goes the general way, which
 * also names the line of a bad value.
 */
export function csvRowScorer(
  model: ScoringParameters,
  header: readonly string[],
  file: string,
): (fields: readonly string[], line: number) => number {
  const read = fieldReader(model, header);
  const general = (fields: readonly string[], line: number): number =>
    partialScore(model, read(fields), `${file}, line ${line}`);
  const columns = model.preprocess.columns;
  if (model.rowClip !== null || !columns.every((c) => c.kind === 'numeric' && !c.indicator)) return general;
  const at = Int32Array.from(columns, (c) => header.indexOf(c.name));
  if (at.some((i) => i < 0)) return general;
  const mean = Float64Array.from(columns, (c) => (c.kind === 'numeric' ? c.mean : 0));
  const std = Float64Array.from(columns, (c) => (c.kind === 'numeric' ? c.std : 1));
  const w = model.weights;
  const parse = numericCellParser(model.preprocess.missingTokens);
  return (fields, line) => {
    let s = model.intercept;
    for (let k = 0; k < at.length; k++) {
      const x = parse(fields[at[k] ?? 0] ?? '');
      if (x === undefined || Number.isNaN(x)) return general(fields, line);
      s += ((x - (mean[k] ?? 0)) / (std[k] ?? 1)) * (w[k] ?? 0);
    }
    return s;
  };
}

export type MulticlassParameters = ScoringParameters & Pick<ServingModel, 'outputs' | 'intercepts'>;

/** This party's partial logits for one raw row, one per output (class-major weights, as training's per-class `partialLogits`). */
export function partialScores(model: MulticlassParameters, row: RawRow, source?: string): Float64Array {
  const x = transformRow(model.preprocess, row, source);
  if (model.rowClip !== null) clipRows(x, x.length, model.rowClip);
  const out = new Float64Array(model.outputs);
  const w = model.weights;
  for (let c = 0; c < model.outputs; c++) {
    const base = c * x.length;
    let s = model.intercepts[c] ?? 0;
    for (let j = 0; j < x.length; j++) s += (x[j] ?? 0) * (w[base + j] ?? 0);
    out[c] = s;
  }
  return out;
}

/** One-vs-rest class probabilities from the K full logits: `σ(z_c) / Σ_k σ(z_k)`, as the job's evaluation (models/lr/one-vs-rest.ts) computes them. */
export function classProbabilities(logits: ArrayLike<number>): Float64Array {
  const p = Float64Array.from(logits, (z) => sigmoid(z));
  let total = 0;
  for (const v of p) total += v;
  return p.map((v) => (total > 0 ? v / total : 1 / p.length));
}

/** The index of the largest value; ties go to the lowest index (as the job's evaluation). */
export function argmax(values: ArrayLike<number>): number {
  let best = 0;
  for (let c = 1; c < values.length; c++) if ((values[c] ?? -Infinity) > (values[best] ?? -Infinity)) best = c;
  return best;
}

export { sigmoid };

/**
 * Turns CSV records into raw rows for `partialScore`: one reusable object
 * keyed by the model's input columns, filled from the header positions.
 * Columns the model was not trained on are ignored; a missing one is missing.
 */
export function fieldReader(
  model: Pick<ScoringParameters, 'preprocess'>,
  header: readonly string[],
): (fields: readonly string[]) => RawRow {
  const names = model.preprocess.columns.map((c) => c.name);
  const position = new Map(header.map((h, i) => [h, i]));
  const at = names.map((n) => position.get(n));
  const row: Record<string, string | undefined> = Object.fromEntries(names.map((n) => [n, undefined]));
  return (fields) => {
    for (let k = 0; k < names.length; k++) {
      const i = at[k];
      row[names[k] ?? ''] = i === undefined ? undefined : fields[i];
    }
    return row;
  };
}
