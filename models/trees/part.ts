/**
 * The trees family's fields of a model part (written by supervised.ts and
 * lookalike.ts through models/model-part.ts), read and checked before
 * export and serving, as models/lr/part.ts does for LR. Three shapes:
 *
 * - a supervised guest: the trees (leaf values, and for each split the
 *   party and its record number), the base scores and its own split
 *   records; no host threshold;
 * - a supervised host: its split records (feature, threshold, missing
 *   side) and nothing else: no tree, no leaf value;
 * - a lookalike host: the whole model (every split is one of its records).
 *
 * A lookalike guest's part (trees, no features) is never exported.
 */
import { z } from 'zod';
import { ConfigError } from '../../protocol/errors.ts';
import type { PreprocessSpec } from '../../data/preprocess.ts';
import { preprocessSchema } from '../lr/part.ts';
import { modelPartHeaderShape, readModelPartFile } from '../model-part.ts';
import type { Tree } from './core/booster.ts';
import type { SavedRecord } from './score.ts';

const finite = z.number().refine(Number.isFinite, 'must be a finite number');
const index = z.number().int().min(0);

const nodeSchema = z.union([
  z.strictObject({ party: index, record: index, left: index, right: index, gain: z.number(), cover: z.number() }),
  z.strictObject({ leaf: finite, cover: z.number() }),
]);

/** A split record: x ≤ threshold goes left (null: +∞, as JSON writes it), a missing value goes `missingLeft`. */
export const savedRecordSchema = z.strictObject({
  record: index,
  feature: z.string(),
  threshold: z.number().nullable(),
  missingLeft: z.boolean(),
});

/** The scoring fields of a trees part, as a bundle carries them (`trees.json`, serving/trees-bundle.ts). */
export const treesScoringSchema = z.strictObject({
  featureNames: z.array(z.string()),
  /** This party's split records. */
  records: z.array(savedRecordSchema),
  /** Guest and lookalike host only: how raw scores become predictions. */
  objective: z.enum(['logistic', 'softmax', 'squared']).optional(),
  outputs: z.number().int().min(1).optional(),
  /** Guest and lookalike host only: the starting score per output. */
  base: z.array(finite).optional(),
  /** Guest and lookalike host only: round-major, one tree per output per round. */
  trees: z.array(z.array(z.array(nodeSchema))).optional(),
  /** Whose records the trees' splits name: party 0 is the guest, party k the k-th host. */
  treeParties: z.array(z.string()).optional(),
  /** Guest of a classifier: the class labels (two for a binary model; else in output order). */
  classes: z.array(z.string()).optional(),
  /** Guest only: trees on its own columns alone (every split party 0, its own records), served when a host cannot answer. */
  ownTrees: z
    .strictObject({
      base: z.array(finite),
      trees: z.array(z.array(z.array(nodeSchema))),
      records: z.array(savedRecordSchema),
    })
    .optional(),
});

const partSchema = z.object({
  ...modelPartHeaderShape,
  ...treesScoringSchema.shape,
  family: z.literal('trees'),
  preprocess: preprocessSchema,
});

/** Trees on the guest's columns alone. */
export type OwnTreesModel = {
  readonly base: readonly number[];
  readonly trees: readonly (readonly Tree[])[];
  readonly records: readonly SavedRecord[];
};

export type TreesScoring = Omit<z.infer<typeof treesScoringSchema>, 'trees' | 'records' | 'ownTrees'> & {
  readonly trees?: readonly (readonly Tree[])[] | undefined;
  readonly records: readonly SavedRecord[];
  readonly ownTrees?: OwnTreesModel | undefined;
};

/** One party's trained part of a tree model, as the job saved it. */
export type TreesPart = Omit<z.infer<typeof partSchema>, 'preprocess' | keyof TreesScoring> &
  TreesScoring & { readonly preprocess: PreprocessSpec };

/** The fields of a part that score (the rest is the header). */
export function treesScoring(part: TreesScoring): TreesScoring {
  const { featureNames, records, objective, outputs, base, trees, treeParties, classes, ownTrees } = part;
  return { featureNames, records, ...{ objective, outputs, base, trees, treeParties, classes, ownTrees } };
}

/**
 * Why a trees part's fields disagree (records against columns, trees against
 * outputs and parties, base and classes against outputs), or undefined.
 * `holdsTrees`: a guest's or a lookalike host's part must have the trees.
 */
export function treesShapeProblem(
  part: TreesScoring,
  columns: readonly string[],
  holdsTrees: boolean,
): [field: string, problem: string] | undefined {
  if (part.featureNames.join('\n') !== columns.join('\n'))
    return ['featureNames', `${part.featureNames.length} feature names for ${columns.length} preprocessed columns`];
  const unknown = part.records.find((r) => !part.featureNames.includes(r.feature));
  if (unknown !== undefined)
    return [
      'records',
      `record ${unknown.record} splits on "${unknown.feature}", which is not one of this party's columns`,
    ];
  if (!holdsTrees)
    return part.trees === undefined && part.ownTrees === undefined
      ? undefined
      : ['trees', 'a host of a supervised job holds no trees'];
  const outputs = part.outputs ?? 1;
  const own = part.ownTrees;
  if (own !== undefined) {
    const stray = own.records.find((r) => !part.featureNames.includes(r.feature));
    if (stray !== undefined) return ['ownTrees.records', `record ${stray.record} splits on unknown "${stray.feature}"`];
    if (own.base.length !== outputs)
      return ['ownTrees.base', `${own.base.length} base scores for ${outputs} output(s)`];
    const bad = own.trees.some(
      (round) =>
        round.length !== outputs ||
        round.some((tree) =>
          tree.some(
            (n) =>
              !('leaf' in n) &&
              (n.party !== 0 ||
                n.left >= tree.length ||
                n.right >= tree.length ||
                !own.records.some((r) => r.record === n.record)),
          ),
        ),
    );
    if (bad)
      return [
        'ownTrees.trees',
        'a tree has the wrong number of outputs, or a split on a record the guest does not hold',
      ];
  }
  if (part.trees === undefined || part.base === undefined || part.objective === undefined)
    return ['trees', 'the part has no trees, base scores or objective'];
  if (part.base.length !== outputs) return ['base', `${part.base.length} base scores for ${outputs} output(s)`];
  // A binary model's labels are its two classes; a K-class model's, one per output.
  if (part.classes !== undefined && part.classes.length !== Math.max(outputs, 2))
    return ['classes', `${part.classes.length} class labels for ${outputs} output(s)`];
  const parties = part.treeParties?.length ?? 2;
  for (const [r, round] of part.trees.entries()) {
    if (round.length !== outputs)
      return [`trees.${r}`, `${round.length} trees in a round of a ${outputs}-output model`];
    for (const tree of round) {
      for (const node of tree) {
        if ('leaf' in node) continue;
        if (node.party >= parties || node.left >= tree.length || node.right >= tree.length)
          return [`trees.${r}`, 'a split names a party or a child node that does not exist'];
      }
    }
  }
  return undefined;
}

/**
 * Reads a finished job's trees part and checks it.
 * @throws ConfigError CONFIG_INVALID when the file is not a valid trees part
 */
export async function readTreesPart(dataDir: string, jobId: string): Promise<TreesPart> {
  const { file, raw } = await readModelPartFile(dataDir, jobId);
  const parsed = partSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ConfigError('CONFIG_INVALID', {
      file,
      field: issue?.path.join('.') ?? '',
      problem: issue?.message ?? 'is not a trees model part',
      fix: 'the job writes this file; run the job again with this version of tandem',
    });
  }
  const part = parsed.data as TreesPart;
  const holdsTrees = part.role === 'guest' || part.kind === 'lookalike';
  const problem = treesShapeProblem(part, part.preprocess.outputColumns, holdsTrees);
  if (problem !== undefined)
    throw new ConfigError('CONFIG_INVALID', {
      file,
      field: problem[0],
      problem: problem[1],
      fix: 'the job writes this file; run the job again',
    });
  return part;
}
