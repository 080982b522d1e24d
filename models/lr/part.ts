/**
 * The LR family's fields of a model part (written by models/lr/supervised.ts
 * through models/model-part.ts), read and checked before export, serving and
 * warm starts. Only the fields those need are validated; the rest of the
 * summary passes through.
 */
import { z } from 'zod';
import { ConfigError } from '../../protocol/errors.ts';
import type { PreprocessSpec } from '../../data/preprocess.ts';
import { modelPartHeaderShape, readModelPartFile } from '../model-part.ts';

const finite = z.number().refine(Number.isFinite, 'must be a finite number');

const numericColumn = z.strictObject({
  name: z.string(),
  kind: z.literal('numeric'),
  mean: finite,
  std: finite.refine((s) => s > 0, 'must be positive'),
  indicator: z.boolean(),
  edges: z.array(finite).optional(),
});
const categoricalColumn = z.strictObject({
  name: z.string(),
  kind: z.literal('categorical'),
  categories: z.array(z.string()),
  indicator: z.boolean(),
});

/** The fitted preprocessing, as JSON: checked field by field so a hand-edited spec cannot score silently wrong. */
export const preprocessSchema = z.strictObject({
  format: z.literal('tandem-preprocess/1'),
  missingPolicy: z.enum(['mean', 'zero', 'indicator', 'error']),
  missingTokens: z.array(z.string()),
  columns: z.array(z.discriminatedUnion('kind', [numericColumn, categoricalColumn])),
  outputColumns: z.array(z.string()),
  fittedRows: z.number().int().min(0),
});

const modelPartSchema = z.object({
  ...modelPartHeaderShape,
  featureNames: z.array(z.string()),
  /** Binary: one weight per column. Multi-class: class-major, `weights[c·columns + j]`. */
  weights: z.array(finite),
  /** Binary (and optional for multi-class, where `intercepts` counts): the guest's bias; 0 at a host. */
  intercept: finite.optional(),
  /** Multi-class (cold start, one-vs-rest): logits per row. Absent: 1, binary. */
  outputs: z.number().int().min(1).optional(),
  /** Multi-class: one bias per class (zeros at a host). */
  intercepts: z.array(finite).optional(),
  /** Multi-class, guest only: the class labels, in the order of the logits. */
  classes: z.array(z.string()).optional(),
  multiclass: z.literal('one-vs-rest').optional(),
  preprocess: preprocessSchema,
  link: z.object({ degree: z.number(), clip: z.number() }),
  rowClip: finite.nullable(),
  /** A regression (guest): predictions are logit·std + mean. */
  objective: z.enum(['logistic', 'squared']).optional(),
  labelScale: z.object({ mean: finite, std: finite }).optional(),
});

export type { PartyRef } from '../model-part.ts';

/** One party's trained part of a job's model, as the job saved it. */
export type ModelPart = Omit<z.infer<typeof modelPartSchema>, 'preprocess'> & { readonly preprocess: PreprocessSpec };

/** How many logits a part scores per row: 1 for a binary model, K for a K-class one. */
export function outputsOf(part: Pick<ModelPart, 'outputs'>): number {
  return part.outputs ?? 1;
}

/** The part's bias per output: `[intercept]` for a binary model, `intercepts` for a multi-class one. */
export function interceptsOf(part: Pick<ModelPart, 'outputs' | 'intercept' | 'intercepts'>): number[] {
  return outputsOf(part) === 1 ? [part.intercept ?? part.intercepts?.[0] ?? 0] : [...(part.intercepts ?? [])];
}

/** Why a part's shapes disagree (weights, intercepts, classes against columns and outputs), or undefined when they agree. */
export function shapeProblem(
  part: Pick<ModelPart, 'outputs' | 'intercept' | 'intercepts' | 'classes' | 'weights' | 'featureNames' | 'role'> & {
    readonly preprocess: Pick<PreprocessSpec, 'outputColumns'>;
  },
): [field: string, problem: string] | undefined {
  const k = outputsOf(part);
  const columns = part.preprocess.outputColumns.length;
  if (part.weights.length !== k * columns || part.featureNames.length !== columns)
    return ['weights', `${part.weights.length} weights for ${k} output(s) × ${columns} preprocessed columns`];
  if (k === 1 && part.intercept === undefined) return ['intercept', 'a binary model part needs an intercept'];
  if (k > 1 && part.intercepts?.length !== k)
    return ['intercepts', `${part.intercepts?.length ?? 0} intercepts for ${k} classes`];
  if (k > 1 && part.role === 'guest' && part.classes?.length !== k)
    return ['classes', `${part.classes?.length ?? 0} class labels for ${k} classes`];
  return undefined;
}

export async function readModelPart(dataDir: string, jobId: string): Promise<ModelPart> {
  const { file, raw } = await readModelPartFile(dataDir, jobId);
  const parsed = modelPartSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ConfigError('CONFIG_INVALID', {
      file,
      field: issue?.path.join('.') ?? '',
      problem: issue?.message ?? 'is not an LR model part',
      fix: 'the job writes this file; run the job again with this version of tandem',
    });
  }
  const part = parsed.data as ModelPart;
  const problem = shapeProblem(part);
  if (problem !== undefined)
    throw new ConfigError('CONFIG_INVALID', {
      file,
      field: problem[0],
      problem: problem[1],
      fix: 'the job writes this file; run the job again',
    });
  return part;
}
