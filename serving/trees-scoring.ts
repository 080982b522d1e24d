/**
 * Scoring rows with a trees part (serving/trees-bundle.ts) with training's
 * own arithmetic: `transformRow` (bit-identical to the batch transform the
 * job used), then this party's split answers (models/trees/score.ts
 * `recordReader`), then, where the part holds the trees, the walk. Pure: no I/O.
 */
import { transformRow, type RawRow } from '../data/preprocess.ts';
import { rawScores, recordReader } from '../models/trees/score.ts';
import type { PoolScorer } from './batch-scoring.ts';
import { fieldReader } from './scorer.ts';
import { ownParty, type TreesModel } from './trees-bundle.ts';

/** This party's answers for one raw row: per record number, 1 if the row goes left. */
export function splitBitsOf(
  model: Pick<TreesModel, 'preprocess' | 'scoring'>,
): (row: RawRow, source?: string) => Uint8Array {
  const read = recordReader(model.scoring.records, model.scoring.featureNames);
  return (row, source) => read(transformRow(model.preprocess, row, source));
}

/** The guest's answers for its own-columns trees (the fallback), or undefined for a part saved without them. */
export function ownTreesBitsOf(
  model: Pick<TreesModel, 'preprocess' | 'scoring'>,
): ((row: RawRow, source?: string) => Uint8Array) | undefined {
  const own = model.scoring.ownTrees;
  if (own === undefined) return undefined;
  const read = recordReader(own.records, model.scoring.featureNames);
  return (row, source) => read(transformRow(model.preprocess, row, source));
}

/** A lookalike host's pool scorer (checked by `poolTreesModel`): the raw score, as the job ranked its audience by. */
export function treesPoolScorer(model: TreesModel): PoolScorer {
  const bitsOf = splitBitsOf(model);
  const own = ownParty(model);
  const trees = model.scoring.trees ?? [];
  const base = model.scoring.base ?? [0];
  return {
    preprocess: model.preprocess,
    rowScorer: (header, file) => {
      const read = fieldReader(model, header);
      return (fields, line) => {
        const bits: (Uint8Array | undefined)[] = [new Uint8Array(0), new Uint8Array(0)];
        bits[own] = bitsOf(read(fields), `${file}, line ${line}`);
        return rawScores(trees, base, bits)[0] ?? 0;
      };
    },
  };
}
