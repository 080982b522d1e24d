/**
 * The model part a job leaves at each party (`<dataDir>/jobs/<job>/model-part.json`,
 * written by jobs/common/model-part.ts and models/lr/supervised.ts), read and checked before export. Only the
 * fields export needs are validated; the rest of the summary passes through.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { ConfigError, JobError } from '../protocol/errors.ts';
import type { PreprocessSpec } from '../data/preprocess.ts';

const finite = z.number().refine(Number.isFinite, 'must be a finite number');

const numericColumn = z.strictObject({ name: z.string(), kind: z.literal('numeric'), mean: finite, std: finite.refine((s) => s > 0, 'must be positive'), indicator: z.boolean() });
const categoricalColumn = z.strictObject({ name: z.string(), kind: z.literal('categorical'), categories: z.array(z.string()), indicator: z.boolean() });

/** The fitted preprocessing, as JSON: checked field by field so a hand-edited spec cannot score silently wrong. */
export const preprocessSchema = z.strictObject({
  format: z.literal('tandem-preprocess/1'),
  missingPolicy: z.enum(['mean', 'zero', 'indicator', 'error']),
  missingTokens: z.array(z.string()),
  columns: z.array(z.discriminatedUnion('kind', [numericColumn, categoricalColumn])),
  outputColumns: z.array(z.string()),
  fittedRows: z.number().int().min(0),
});

const partySchema = z.object({ name: z.string(), role: z.enum(['guest', 'host']), dataset: z.string() });

const modelPartSchema = z.object({
  format: z.literal('tandem-model-part/1'),
  jobId: z.string().min(1),
  jobName: z.string(),
  party: z.string().min(1),
  role: z.enum(['guest', 'host']),
  parties: z.array(partySchema).min(2),
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
  scoringKey: z.string().regex(/^[0-9a-f]{64}$/).optional(),
  /** Guest only: reproduces the (secret) validation split. */
  splitSeed: z.string().optional(),
  summary: z.record(z.string(), z.unknown()),
  createdAt: z.string().optional(),
});

export type PartyRef = z.infer<typeof partySchema>;

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
export function shapeProblem(part: Pick<ModelPart, 'outputs' | 'intercept' | 'intercepts' | 'classes' | 'weights' | 'featureNames' | 'role'> & { readonly preprocess: Pick<PreprocessSpec, 'outputColumns'> }): [field: string, problem: string] | undefined {
  const k = outputsOf(part);
  const columns = part.preprocess.outputColumns.length;
  if (part.weights.length !== k * columns || part.featureNames.length !== columns) return ['weights', `${part.weights.length} weights for ${k} output(s) × ${columns} preprocessed columns`];
  if (k === 1 && part.intercept === undefined) return ['intercept', 'a binary model part needs an intercept'];
  if (k > 1 && part.intercepts?.length !== k) return ['intercepts', `${part.intercepts?.length ?? 0} intercepts for ${k} classes`];
  if (k > 1 && part.role === 'guest' && part.classes?.length !== k) return ['classes', `${part.classes?.length ?? 0} class labels for ${k} classes`];
  return undefined;
}

/** Where a job's model part lives in a party's data directory. */
export function modelPartFile(dataDir: string, jobId: string): string {
  return join(dataDir, 'jobs', jobId, 'model-part.json');
}

/**
 * Reads and checks a job's model part.
 * @throws JobError JOB_NOT_FOUND when this node has no model part for the job
 * @throws ConfigError CONFIG_INVALID when the file is not a model part, or its columns and weights disagree
 */
export async function readModelPart(dataDir: string, jobId: string): Promise<ModelPart> {
  const file = modelPartFile(dataDir, jobId);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new JobError('JOB_NOT_FOUND', `${file} does not exist: this node has no finished model for job ${jobId}. Fix: check the job id with \`tandem job list\`, and that the job completed`, { cause: error });
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new ConfigError('CONFIG_INVALID', { file, field: '', problem: 'is not valid JSON', fix: 'the job writes this file; run the job again' }, { cause: error });
  }
  const parsed = modelPartSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ConfigError('CONFIG_INVALID', { file, field: issue?.path.join('.') ?? '', problem: issue?.message ?? 'is not a model part', fix: 'the job writes this file; run the job again with this version of tandem' });
  }
  const part = parsed.data as ModelPart;
  const problem = shapeProblem(part);
  if (problem !== undefined) throw new ConfigError('CONFIG_INVALID', { file, field: problem[0], problem: problem[1], fix: 'the job writes this file; run the job again' });
  return part;
}
