/**
 * The model part a job leaves at each party (`<dataDir>/jobs/<job>/model-part.json`,
 * written by party/job/run-job.ts), read and checked before export. Only the
 * fields export needs are validated; the rest of the summary passes through.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { ConfigError, JobError } from '../protocol/errors.ts';
import type { PreprocessSpec } from '../party/data/preprocess.ts';

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
  weights: z.array(finite),
  intercept: finite,
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
  if (part.weights.length !== part.preprocess.outputColumns.length || part.featureNames.length !== part.weights.length) {
    throw new ConfigError('CONFIG_INVALID', { file, field: 'weights', problem: `${part.weights.length} weights for ${part.preprocess.outputColumns.length} preprocessed columns`, fix: 'the job writes this file; run the job again' });
  }
  return part;
}
