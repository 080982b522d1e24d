/**
 * What a trees host's endpoint answers from: for each of its own rows (the
 * dataset the job trained on), the bit of each of its split records,
 * computed once at start-up with training's batch transform and packed for
 * the wire (split-bits.ts), and the same pseudonym index and decoys as an
 * LR host (host-store.ts): a pseudonym this host does not hold is answered
 * with the bits of one of its real rows chosen by a keyed PRF, unless its
 * operator discloses membership.
 */
import type { DatasetConfig } from '../party/config.ts';
import { loadDataset } from '../data/dataset.ts';
import { transformRows } from '../data/preprocess.ts';
import { recordReader } from '../models/trees/score.ts';
import { answerStore, type AnswerStore, type HostStoreOptions } from './host-store.ts';
import { packSplitBits } from './split-bits.ts';
import type { TreesServingModel } from './trees-bundle.ts';

const CHUNK_ROWS = 65_536;

/** Loads the dataset and every row's packed split bits (in chunks, so memory stays at one chunk of features). */
export async function loadTreesHostStore(
  model: Pick<TreesServingModel, 'preprocess' | 'scoring' | 'scoringKey'>,
  dataset: DatasetConfig,
  options: HostStoreOptions = {},
): Promise<AnswerStore<string>> {
  const data = await loadDataset(dataset);
  const read = recordReader(model.scoring.records, model.scoring.featureNames);
  const answers: string[] = new Array<string>(data.rowCount);
  for (let start = 0; start < data.rowCount; start += CHUNK_ROWS) {
    const rows = Uint32Array.from({ length: Math.min(CHUNK_ROWS, data.rowCount - start) }, (_, i) => start + i);
    const { matrix, columns } = transformRows(model.preprocess, data, rows);
    const c = columns.length;
    rows.forEach((row, i) => {
      answers[row] = packSplitBits(read(matrix.subarray(i * c, (i + 1) * c)));
    });
  }
  return answerStore(model.scoringKey, data.ids, options, (row) => answers[row]);
}
