/**
 * The one owner of `model-part.json`, the model part a job leaves at each
 * party (`<dataDir>/jobs/<job>/model-part.json`, mode 0600: it holds the
 * job's scoring key): its path, its header every job kind shares (format,
 * job, kind, family, party, role, parties, summary) and the model family's
 * own fields, which the family's schema checks (models/lr/part.ts). Jobs
 * write it here; export, serving, reports and warm starts read it here.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { ConfigError, JobError, TandemError } from '../protocol/errors.ts';
import type { JobSpec } from '../protocol/job-spec.ts';
import type { JobContext } from '../jobs/context.ts';

export const MODEL_PART_FORMAT = 'tandem-model-part/1';

const JOB_ID = /^job-[0-9a-f]{10}$/;

/** Where a job's model part lives in a party's data directory. @throws TandemError ARGUMENT_INVALID for a string that is not a job id (no path tricks) */
export function modelPartFile(dataDir: string, jobId: string): string {
  if (!JOB_ID.test(jobId))
    throw new TandemError(
      'ARGUMENT_INVALID',
      `"${jobId}" is not a job id. Fix: copy it from \`tandem job list\` (e.g. job-1a2b3c4d5e)`,
    );
  return join(dataDir, 'jobs', jobId, 'model-part.json');
}

const partySchema = z.object({ name: z.string(), role: z.enum(['guest', 'host']), dataset: z.string() });

/** The fields of the header every model part has (a family's schema spreads them into its own). */
export const modelPartHeaderShape = {
  format: z.literal(MODEL_PART_FORMAT),
  jobId: z.string().min(1),
  jobName: z.string(),
  /** Parts written before job kinds were recorded are hetero-lr's. */
  kind: z.string().optional(),
  /** Parts written before model families were recorded are LR's. */
  family: z.string().optional(),
  party: z.string().min(1),
  role: z.enum(['guest', 'host']),
  parties: z.array(partySchema).min(2),
  scoringKey: z
    .string()
    .regex(/^[0-9a-f]{64}$/)
    .optional(),
  /** Guest only: reproduces the (secret) validation split. */
  splitSeed: z.string().optional(),
  summary: z.record(z.string(), z.unknown()),
  createdAt: z.string().optional(),
};

/** The header; the family's own fields pass through to its schema. */
export const modelPartHeaderSchema = z.looseObject(modelPartHeaderShape);

export type ModelPartHeader = z.infer<typeof modelPartHeaderSchema>;
export type PartyRef = z.infer<typeof partySchema>;

/**
 * Reads a job's model part and checks its header; the family's fields are
 * returned as they are, for the family's schema.
 * @throws JobError JOB_NOT_FOUND when this node has no model part for the job
 * @throws ConfigError CONFIG_INVALID when the file is not a model part
 */
export async function readModelPartFile(
  dataDir: string,
  jobId: string,
): Promise<{ readonly file: string; readonly header: ModelPartHeader; readonly raw: Record<string, unknown> }> {
  const file = modelPartFile(dataDir, jobId);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new JobError(
      'JOB_NOT_FOUND',
      `${file} does not exist: this node has no finished model for job ${jobId}. Fix: check the job id with \`tandem job list\`, that the job completed, and that --config is the config of a node that took part in it`,
      { cause: error },
    );
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new ConfigError(
      'CONFIG_INVALID',
      { file, field: '', problem: 'is not valid JSON', fix: 'the job writes this file; run the job again' },
      { cause: error },
    );
  }
  const parsed = modelPartHeaderSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ConfigError('CONFIG_INVALID', {
      file,
      field: issue?.path.join('.') ?? '',
      problem: issue?.message ?? 'is not a model part',
      fix: 'the job writes this file; run the job again with this version of tandem',
    });
  }
  return { file, header: parsed.data, raw: raw as Record<string, unknown> };
}

export type ModelPartFields = {
  /** The model family that trained it (models/registry.ts). */
  readonly family: string;
  /** The family's own fields (weights, preprocessing, trees…). */
  readonly model: Readonly<Record<string, unknown>>;
  readonly summary: Readonly<Record<string, unknown>>;
  /** The job's pseudonym key for online scoring (guest and hosts of a trained job). */
  readonly scoringKey?: Uint8Array | undefined;
  /** Guest only: reproduces the (secret) validation split. */
  readonly splitSeed?: string | undefined;
};

export async function writeModelPart(
  ctx: JobContext,
  spec: JobSpec,
  role: 'guest' | 'host',
  fields: ModelPartFields,
): Promise<string> {
  const file = modelPartFile(ctx.config.node.dataDir, ctx.channel.jobId);
  // A family field named like a header field would silently replace it (trees' party order once replaced the job's parties).
  const clash = Object.keys(fields.model).find((k) => k in modelPartHeaderShape && k !== 'family');
  if (clash !== undefined)
    throw new JobError(
      'JOB_STATE_CONFLICT',
      `model family ${fields.family} writes a field "${clash}" that the model part's header owns`,
    );
  await mkdir(join(file, '..'), { recursive: true, mode: 0o700 });
  const header = {
    format: MODEL_PART_FORMAT,
    jobId: ctx.channel.jobId,
    jobName: spec.name,
    kind: spec.kind,
    family: fields.family,
    party: ctx.channel.me,
    role,
    parties: spec.parties,
  };
  const part = {
    ...header,
    ...fields.model,
    family: fields.family,
    ...(fields.splitSeed === undefined ? {} : { splitSeed: fields.splitSeed }),
    ...(fields.scoringKey === undefined ? {} : { scoringKey: Buffer.from(fields.scoringKey).toString('hex') }),
    summary: fields.summary,
    createdAt: new Date().toISOString(),
  };
  await writeFile(file, `${JSON.stringify(part, null, 2)}\n`, { mode: 0o600 });
  return file;
}
