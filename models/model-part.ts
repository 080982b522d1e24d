/**
 * Writes the model part a job leaves at each party:
 * `<dataDir>/jobs/<job>/model-part.json`, mode 0600 (it holds the job's
 * scoring key). A header every job kind shares (format, job, party, role,
 * parties, model family, summary) and the model family's own fields, which
 * its exporter and scorer read (models/<family>/).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { JobSpec } from '../../protocol/job-spec.ts';
import type { JobContext } from '../context.ts';

export const MODEL_PART_FORMAT = 'tandem-model-part/1';

const JOB_ID = /^job-[0-9a-f]{10}$/;

/** Where a job's model part lives in a party's data directory. @throws RangeError for a string that is not a job id (no path tricks) */
export function modelPartFile(dataDir: string, jobId: string): string {
  if (!JOB_ID.test(jobId)) throw new RangeError(`"${jobId}" is not a job id (job-0123456789)`);
  return join(dataDir, 'jobs', jobId, 'model-part.json');
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

export async function writeModelPart(ctx: JobContext, spec: JobSpec, role: 'guest' | 'host', fields: ModelPartFields): Promise<string> {
  const file = modelPartFile(ctx.config.node.dataDir, ctx.channel.jobId);
  await mkdir(join(file, '..'), { recursive: true, mode: 0o700 });
  const part = {
    format: MODEL_PART_FORMAT, jobId: ctx.channel.jobId, jobName: spec.name, kind: spec.kind, family: fields.family,
    party: ctx.channel.me, role, parties: spec.parties,
    ...fields.model,
    ...(fields.splitSeed === undefined ? {} : { splitSeed: fields.splitSeed }),
    ...(fields.scoringKey === undefined ? {} : { scoringKey: Buffer.from(fields.scoringKey).toString('hex') }),
    summary: fields.summary, createdAt: new Date().toISOString(),
  };
  await writeFile(file, `${JSON.stringify(part, null, 2)}\n`, { mode: 0o600 });
  return file;
}
