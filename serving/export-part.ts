/**
 * Which of a node's model parts `tandem model export` can write out, read
 * here before any format is chosen, so a part that cannot leave gets a
 * refusal that says why and what to do instead of a schema error:
 *
 * - the brand (guest) of a lookalike job holds only its seeds' labels and
 *   the intercept, no features: there is no scorer to export; the partner
 *   (host) exports its part and scores its own pool (`model score-pool`);
 * - SQL (`--format sql`) is a linear model's weighted sum: parts of other
 *   model families have no SQL form.
 */
import { TandemError } from '../protocol/errors.ts';
import { readModelPartFile } from '../models/model-part.ts';
import { readModelPart, type ModelPart } from '../models/lr/part.ts';

/** Model families whose parts have a SQL form (serving/sql-export.ts). */
export const SQL_FAMILIES: readonly string[] = Object.freeze(['lr']);

export type ExportFormat = 'bundle' | 'sql';

/**
 * Reads a finished job's model part for export in `format`.
 * @throws TandemError ARGUMENT_INVALID for a lookalike brand's part, or (SQL) a family without a SQL form
 * @throws JobError JOB_NOT_FOUND when this node has no model part for the job
 * @throws ConfigError CONFIG_INVALID when the file is not a valid model part
 */
export async function readExportablePart(dataDir: string, jobId: string, format: ExportFormat): Promise<ModelPart> {
  const { header } = await readModelPartFile(dataDir, jobId);
  if (header.kind === 'lookalike' && header.role === 'guest') {
    const partner = header.parties.find((p) => p.role === 'host')?.name ?? 'the partner';
    throw new TandemError('ARGUMENT_INVALID', `job ${jobId} is a lookalike job and ${header.party} is its brand (guest): the brand holds no features in a lookalike model (only its seeds' labels), so it has no part to export. Fix: the partner (${partner}) exports its part with \`tandem model export --job ${jobId}\` and scores its pool with \`tandem model score-pool\``);
  }
  const family = header.family ?? 'lr';
  if (format === 'sql' && !SQL_FAMILIES.includes(family)) {
    throw new TandemError('ARGUMENT_INVALID', `job ${jobId}'s model is of family "${family}", which has no SQL form: --format sql writes a linear model's weighted sum (supported families: ${SQL_FAMILIES.join(', ')}). Fix: export it as a bundle (--format bundle) and score with \`tandem model score-pool\` or \`tandem serve\``);
  }
  return readModelPart(dataDir, jobId);
}
