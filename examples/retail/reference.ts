/**
 * Centralised references for the demo: the same job fitted by exact
 * logistic regression on the pooled data. Only a demo can do this — it
 * generated both parties' files — and it says so wherever it prints them.
 * Tandem itself never pools data.
 */
import { readFile } from 'node:fs/promises';
import type { DatasetConfig } from '../../party/config.ts';
import { loadJobDataset } from '../../jobs/common/features.ts';
import { transformRows, type PreprocessSpec } from '../../data/preprocess.ts';
import { fitLogisticNewton, logits } from '../../protocol/training/centralised.ts';

export type RecallAt = { readonly fraction: number; readonly value: number };

/**
 * Recall of held-out seeds in the top `fractions` of the pool, for exact LR
 * trained on the lookalike job's own training rows (its selection, labels
 * and split, read from both model parts) with the host's preprocessing.
 */
export async function lookalikeReference(o: {
  readonly guestPart: string;
  readonly hostPart: string;
  readonly pool: DatasetConfig;
  readonly fractions: readonly number[];
  readonly l2: number;
}): Promise<RecallAt[]> {
  const guest = JSON.parse(await readFile(o.guestPart, 'utf8')) as { labels: number[]; validation: number[] };
  const host = JSON.parse(await readFile(o.hostPart, 'utf8')) as { selectedRows: number[]; preprocess: PreprocessSpec };
  const pool = await loadJobDataset(o.pool);
  const all = Uint32Array.from({ length: pool.rowCount }, (_, k) => k);
  const { matrix, columns } = transformRows(host.preprocess, pool, all);
  const validation = new Set(guest.validation);
  const y = new Float64Array(pool.rowCount);
  host.selectedRows.forEach((row, k) => (y[row] = guest.labels[k] ?? 0));
  const train = Uint32Array.from(host.selectedRows.filter((_, k) => !validation.has(k)));
  const scores = logits(fitLogisticNewton(matrix, columns.length, y, train, { l2: o.l2 }), matrix, columns.length, all);
  const ranked = Uint32Array.from(all).sort((a, b) => (scores[b] ?? 0) - (scores[a] ?? 0) || a - b);
  const percentile = new Float64Array(pool.rowCount);
  ranked.forEach((row, rank) => (percentile[row] = rank / pool.rowCount));
  const heldOutSeeds = host.selectedRows.filter((_, k) => validation.has(k) && guest.labels[k] === 1);
  return o.fractions.map((fraction) => ({
    fraction,
    value: heldOutSeeds.filter((row) => (percentile[row] ?? 1) < fraction).length / Math.max(1, heldOutSeeds.length),
  }));
}
