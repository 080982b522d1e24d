/**
 * Scoring one row with one party's part of the model, with training's own
 * arithmetic: `transformRow` (bit-identical to the batch transform), the DP
 * row clip when the job had one, then the dot product in the order
 * `partialLogits` uses (intercept first). Pure: no I/O.
 */
import { transformRow, type RawRow } from '../party/data/preprocess.ts';
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

export { sigmoid };

/**
 * Turns CSV records into raw rows for `partialScore`: one reusable object
 * keyed by the model's input columns, filled from the header positions.
 * Columns the model was not trained on are ignored; a missing one is missing.
 */
export function fieldReader(model: ScoringParameters, header: readonly string[]): (fields: readonly string[]) => RawRow {
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
