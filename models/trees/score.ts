/**
 * Scoring with a tree model's saved parts: each party answers, for a row,
 * which way each of its split records sends it (from its own preprocessed
 * features and its own thresholds); the guest walks its trees with those
 * answers and adds the leaf values. Used by tests in one process; serving
 * would run the hosts' halves at the hosts.
 */
import type { Tree } from './core/booster.ts';
import { leafOf } from './core/booster.ts';
import { predictionsOf, type Objective } from './core/objective.ts';

/** A split record as saved in a model part. */
export type SavedRecord = { readonly record: number; readonly feature: string; readonly threshold: number | null; readonly missingLeft: boolean };

/** One party's answers for one row: per record, 1 if the row goes left. */
export function recordBits(records: readonly SavedRecord[], featureNames: readonly string[], row: ArrayLike<number>): Uint8Array {
  const index = new Map(featureNames.map((f, k) => [f, k]));
  return Uint8Array.from(records, (r) => {
    const x = row[index.get(r.feature) ?? -1] ?? Number.NaN;
    // JSON keeps Infinity as null: such a threshold sends every value left.
    const threshold = r.threshold ?? Infinity;
    return Number.isNaN(x) ? (r.missingLeft ? 1 : 0) : x <= threshold ? 1 : 0;
  });
}

/** The raw scores (outputs values) of a row, from every party's answers (party 0: the guest). */
export function rawScores(trees: readonly (readonly Tree[])[], base: readonly number[], bits: readonly Uint8Array[]): Float64Array {
  const out = Float64Array.from(base);
  for (const round of trees) {
    round.forEach((tree, k) => {
      out[k] = (out[k] ?? 0) + leafOf(tree, (party, record) => bits[party]?.[record] === 1);
    });
  }
  return out;
}

/** Probabilities (or the prediction) from raw scores. */
export function predictions(objective: Objective, raw: Float64Array): number[] {
  return predictionsOf(objective, raw, raw.length, 0);
}
