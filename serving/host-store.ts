/**
 * What a host's endpoint scores from: its own rows (the dataset the job
 * trained on), each row's partial logit computed once at start-up with
 * training's batch transform, and an index from pseudonym to row. Online
 * requests are then a map lookup.
 */
import type { DatasetConfig } from '../party/config.ts';
import { loadDataset } from '../party/data/dataset.ts';
import { transformRows } from '../party/data/preprocess.ts';
import { clipRows } from '../protocol/privacy/dp-plan.ts';
import { partialLogits } from '../protocol/training/plan.ts';
import type { ServingModel } from './model-bundle.ts';
import { pseudonymIndex } from './pseudonym.ts';

/** A row's partial logit (binary), or its K partial logits (a K-class model). */
export type PartialLogits = number | readonly number[];

export type HostStore = {
  readonly rows: number;
  /** Partial logit(s) of the row the pseudonym names, or undefined when this party does not hold the user. */
  byPseudonym(p: string): PartialLogits | undefined;
  /** Partial logit(s) of one of this party's own ids. */
  byId(id: string): PartialLogits | undefined;
};

const CHUNK_ROWS = 65_536;

/** Loads the dataset and precomputes every row's partial logit (in chunks, so memory stays at one chunk of features). */
export async function loadHostStore(model: ServingModel, dataset: DatasetConfig): Promise<HostStore> {
  const data = await loadDataset(dataset);
  const k = model.outputs;
  // Class c of row r at [c·rows + r]: each class is training's own partialLogits over the row chunk.
  const partials = new Float64Array(data.rowCount * k);
  for (let start = 0; start < data.rowCount; start += CHUNK_ROWS) {
    const rows = Uint32Array.from({ length: Math.min(CHUNK_ROWS, data.rowCount - start) }, (_, i) => start + i);
    const { matrix, columns } = transformRows(model.preprocess, data, rows);
    if (model.rowClip !== null) clipRows(matrix, columns.length, model.rowClip);
    const local = Uint32Array.from(rows, (_, i) => i);
    for (let c = 0; c < k; c++) {
      const w = model.weights.subarray(c * columns.length, (c + 1) * columns.length);
      partials.set(partialLogits(matrix, columns.length, local, w, model.intercepts[c] ?? 0), c * data.rowCount + start);
    }
  }
  const byPseudonym = pseudonymIndex(model.scoringKey, data.ids);
  const byId = new Map(data.ids.map((id, row) => [id, row]));
  // Only the row count from here on: a closure over `data` would keep every feature column alive for the endpoint's lifetime.
  const rowCount = data.rowCount;
  const at = (row: number | undefined): PartialLogits | undefined => {
    if (row === undefined) return undefined;
    if (k === 1) return partials[row];
    return Array.from({ length: k }, (_, c) => partials[c * rowCount + row] ?? 0);
  };
  return {
    rows: rowCount,
    byPseudonym: (p) => at(byPseudonym.get(p)),
    byId: (id) => at(byId.get(id)),
  };
}
