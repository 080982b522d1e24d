/**
 * Scoring with a tree model's saved parts: each party answers, for a row,
 * which way each of its split records sends it (from its own preprocessed
 * features and its own thresholds); the guest walks its trees with those
 * answers and adds the leaf values. Used in one process by tests and by a
 * lookalike host's pool scoring; online serving runs each host's half at
 * that host (serving/trees-host-store.ts) and the walk at the guest.
 *
 * A party whose answers are missing (its endpoint is down, or it timed out)
 * is `undefined` in `bits`: each of its splits is followed towards the child
 * that more training rows went to (the larger `cover`, left on a tie), the
 * row's most likely side without knowing it. The result is a fallback score,
 * which serving marks `complete: false`.
 */
import type { Tree } from './core/booster.ts';
import { predictionsOf, type Objective } from './core/objective.ts';

/** A split record as saved in a model part. */
export type SavedRecord = {
  readonly record: number;
  readonly feature: string;
  readonly threshold: number | null;
  readonly missingLeft: boolean;
};

/** One party's answers for one row: per record number, 1 if the row goes left. */
export function recordBits(
  records: readonly SavedRecord[],
  featureNames: readonly string[],
  row: ArrayLike<number>,
): Uint8Array {
  return recordReader(records, featureNames)(row);
}

/** `recordBits` with the column lookups done once, for scoring many rows. */
export function recordReader(
  records: readonly SavedRecord[],
  featureNames: readonly string[],
): (row: ArrayLike<number>) => Uint8Array {
  const index = new Map(featureNames.map((f, k) => [f, k]));
  const at = Int32Array.from(records, (r) => index.get(r.feature) ?? -1);
  // JSON keeps Infinity as null: such a threshold sends every value left.
  const threshold = Float64Array.from(records, (r) => r.threshold ?? Infinity);
  const missingLeft = Uint8Array.from(records, (r) => (r.missingLeft ? 1 : 0));
  const number = Uint32Array.from(records, (r) => r.record);
  const length = records.reduce((n, r) => Math.max(n, r.record + 1), 0);
  return (row) => {
    const bits = new Uint8Array(length);
    for (let k = 0; k < at.length; k++) {
      const x = row[at[k] ?? -1] ?? Number.NaN;
      bits[number[k] ?? 0] = Number.isNaN(x) ? (missingLeft[k] ?? 0) : x <= (threshold[k] ?? Infinity) ? 1 : 0;
    }
    return bits;
  };
}

/**
 * The raw scores (outputs values) of a row, from every party's answers
 * (party 0: the guest); an `undefined` party's splits follow the larger cover.
 */
export function rawScores(
  trees: readonly (readonly Tree[])[],
  base: readonly number[],
  bits: readonly (Uint8Array | undefined)[],
): Float64Array {
  const out = Float64Array.from(base);
  for (const round of trees) {
    round.forEach((tree, k) => {
      out[k] = (out[k] ?? 0) + leafOf(tree, bits);
    });
  }
  return out;
}

/** The leaf value a row reaches; a split of a party whose answers are unknown goes to the child with the larger cover. */
function leafOf(tree: Tree, bits: readonly (Uint8Array | undefined)[]): number {
  let node = tree[0];
  while (node !== undefined && !('leaf' in node)) {
    const known = bits[node.party];
    const left =
      known === undefined ? (tree[node.left]?.cover ?? 0) >= (tree[node.right]?.cover ?? 0) : known[node.record] === 1;
    node = tree[left ? node.left : node.right];
  }
  return node !== undefined && 'leaf' in node ? node.leaf : 0;
}

/** Probabilities (or the prediction) from raw scores. */
export function predictions(objective: Objective, raw: Float64Array): number[] {
  return predictionsOf(objective, raw, raw.length, 0);
}
