/**
 * What a host's endpoint scores from: its own rows (the dataset the job
 * trained on), each row's partial logit computed once at start-up with
 * training's batch transform, and an index from pseudonym to row. Online
 * requests are then a map lookup.
 *
 * The guest's answer must not say whether the host holds a user (that
 * would make the endpoint a membership oracle for the host's customer
 * base). So a pseudonym the host does not hold is answered with a decoy:
 * the partial logit of one of its real rows, chosen by a keyed PRF of the
 * pseudonym (HMAC-SHA256 under a key derived from the node's secret). A
 * decoy is drawn from the same distribution as real answers, and is the
 * same every time the same pseudonym is asked, even across restarts, so
 * repeating a question and averaging tells nothing. The PRF runs for every
 * pseudonym, held or not, so the two answers also take the same work.
 */
import type { DatasetConfig } from '../party/config.ts';
import { loadDataset } from '../data/dataset.ts';
import { transformRows } from '../data/preprocess.ts';
import { clipRows } from '../protocol/privacy/dp-plan.ts';
import { partialLogits } from '../protocol/training/plan.ts';
import type { ServingModel } from './model-bundle.ts';
import { keyedHash, pseudonymIndex } from './pseudonym.ts';

/** A row's partial logit (binary), or its K partial logits (a K-class model). */
export type PartialLogits = number | readonly number[];

export type HostStore = AnswerStore<PartialLogits>;

export type HostStoreOptions = {
  /** Key of the decoy PRF (32 bytes, stable across restarts). Undefined: membership is disclosed (null for an unknown pseudonym). */
  readonly decoyKey?: Uint8Array | undefined;
};

const CHUNK_ROWS = 65_536;

/** Loads the dataset and precomputes every row's partial logit (in chunks, so memory stays at one chunk of features). */
export async function loadHostStore(
  model: ServingModel,
  dataset: DatasetConfig,
  options: HostStoreOptions = {},
): Promise<HostStore> {
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
      partials.set(
        partialLogits(matrix, columns.length, local, w, model.intercepts[c] ?? 0),
        c * data.rowCount + start,
      );
    }
  }
  // Only the row count from here on: a closure over `data` would keep every feature column alive for the endpoint's lifetime.
  const rowCount = data.rowCount;
  return answerStore(model.scoringKey, data.ids, options, (row) => {
    if (k === 1) return partials[row];
    return Array.from({ length: k }, (_, c) => partials[c * rowCount + row] ?? 0);
  });
}

/** What a host answers about its users, whatever the model family: `T` is one row's answer (partial logits, split bits). */
export type AnswerStore<T> = {
  readonly rows: number;
  /** The answer for the row the pseudonym names, or undefined when this party does not hold the user. */
  byPseudonym(p: string): T | undefined;
  /** The answer for one of this party's own ids. */
  byId(id: string): T | undefined;
  /** What the guest gets for a pseudonym: the row's answer when held; otherwise a decoy row's, or null when the host discloses membership. */
  answer(p: string): T | null;
};

/** The pseudonym index and the decoys over rows whose answers `at` gives. */
export function answerStore<T>(
  scoringKey: Uint8Array,
  ids: readonly string[],
  options: HostStoreOptions,
  at: (row: number) => T | undefined,
): AnswerStore<T> {
  const byPseudonym = pseudonymIndex(scoringKey, ids);
  const byId = new Map(ids.map((id, row) => [id, row]));
  const rowCount = ids.length;
  const answerAt = (row: number | undefined): T | undefined => (row === undefined ? undefined : at(row));
  const decoy = options.decoyKey === undefined || rowCount === 0 ? undefined : decoyRow(options.decoyKey, rowCount);
  return {
    rows: rowCount,
    byPseudonym: (p) => answerAt(byPseudonym.get(p)),
    byId: (id) => answerAt(byId.get(id)),
    answer: (p) => {
      // The PRF runs for every pseudonym, held or not, so both take the same work.
      const stand = decoy?.(p);
      const row = byPseudonym.get(p) ?? stand;
      return answerAt(row) ?? null;
    },
  };
}

/** The PRF that picks a decoy row: the first 48 bits of HMAC-SHA256(key, pseudonym), modulo the row count (bias below 2⁻²⁸ for a billion rows). */
export function decoyRow(key: Uint8Array, rows: number): (pseudonym: string) => number {
  const prf = keyedHash(key);
  return (p) => prf.uint48(p) % rows;
}
