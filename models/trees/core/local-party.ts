/**
 * A party whose columns the booster reads directly: the label holder's own
 * columns, and every party in the plaintext twin (one process holding all
 * columns, for tests and for "what trees on your own columns would give").
 */
import type { BinLayout } from './binning.ts';
import { goesLeft } from './split.ts';
import { histogramOf } from './histogram.ts';
import type { NodeVectors, SplitRequest, TreeParty } from './booster.ts';

/** `codes`: every aligned row's column-local bins (rows × columns); `train`: the training rows. */
export function localParty(codes: Uint16Array, layout: BinLayout, train: Uint32Array): TreeParty {
  const columns = layout.offsets.length;
  const rows = columns === 0 ? 0 : codes.length / columns;
  // The training rows' codes, indexed by training position as the node vectors are.
  const trainCodes = new Uint16Array(train.length * columns);
  train.forEach((row, p) => trainCodes.set(codes.subarray(row * columns, (row + 1) * columns), p * columns));
  return {
    layout,
    histograms: (nodes: readonly NodeVectors[]) =>
      Promise.resolve(nodes.map((n) => histogramOf(trainCodes, layout, n.positions, n.g, n.h))),
    split: (requests: readonly SplitRequest[]) =>
      Promise.resolve(requests.map((s) => splitBits(codes, rows, columns, layout, s))),
  };
}

/** 1 for every row that goes left under the split. */
export function splitBits(
  codes: Uint16Array,
  rows: number,
  columns: number,
  layout: BinLayout,
  s: SplitRequest,
): Uint8Array {
  const bits = new Uint8Array(rows);
  const missing = (layout.counts[s.column] ?? 0) - 1;
  for (let r = 0; r < rows; r++) bits[r] = goesLeft(codes[r * columns + s.column] ?? 0, s, missing) ? 1 : 0;
  return bits;
}
