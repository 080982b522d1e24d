/**
 * Warm start (the feedback loop: new campaign outcomes as labels, re-run):
 * each party loads its own part of an earlier job's model and starts from
 * its weights, with that job's fitted preprocessing so the weights keep
 * their meaning. Nothing crosses a party boundary: every party reads only
 * its own file.
 */
import { JobError } from '../../protocol/errors.ts';
import type { JobSpec } from '../../protocol/job-spec.ts';
import { transformRows } from '../../data/preprocess.ts';
import { readModelPart, type ModelPart } from './part.ts';
import type { Dataset, PartyMatrix } from '../../jobs/common/features.ts';

export type WarmStart = {
  readonly matrix: PartyMatrix;
  readonly initialWeights: Float64Array;
  readonly fromJob: string;
};

export async function loadWarmStart(
  dataDir: string,
  me: string,
  spec: JobSpec,
  dataset: Dataset,
  aligned: Uint32Array,
): Promise<WarmStart> {
  const job = spec.warmStartJob as string;
  let part: ModelPart;
  try {
    part = await readModelPart(dataDir, job);
  } catch (error) {
    throw new JobError(
      'JOB_STATE_CONFLICT',
      `training.warmStart names ${job}, but ${me} has no usable model part for it: ${(error as Error).message}`,
      { publicMessage: `${me} has no model from ${job} to warm-start from`, cause: error },
    );
  }
  const role = spec.guest.name === me ? 'guest' : 'host';
  const before = part.parties
    .map((p) => `${p.name}:${p.role}`)
    .sort()
    .join(',');
  const now = spec.parties
    .map((p) => `${p.name}:${p.role}`)
    .sort()
    .join(',');
  if (part.role !== role || before !== now || (part.kind ?? 'hetero-lr') !== spec.kind) {
    throw new JobError(
      'JOB_STATE_CONFLICT',
      `${job} was a ${part.kind ?? 'hetero-lr'} job with parties ${before}; this one is ${spec.kind} with ${now}: a warm start needs the same parties in the same roles`,
      { publicMessage: `${job} does not match this job's parties and roles` },
    );
  }
  const { matrix, columns } = transformRows(part.preprocess, dataset, aligned);
  if (columns.length !== part.weights.length) {
    throw new JobError(
      'JOB_STATE_CONFLICT',
      `${job}'s model has ${part.weights.length} weights for ${me}, but its preprocessing yields ${columns.length} columns`,
      { publicMessage: `${me}'s model from ${job} does not fit its data` },
    );
  }
  const initialWeights = Float64Array.from(role === 'guest' ? [...part.weights, part.intercept] : part.weights);
  return {
    matrix: { X: matrix, columns: columns.length, columnNames: columns, spec: part.preprocess },
    initialWeights,
    fromJob: job,
  };
}
