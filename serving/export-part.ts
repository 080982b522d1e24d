/**
 * Which of a node's model parts `tandem model export` can write out, read
 * here before any format is chosen, so a part that cannot leave gets a
 * refusal that says why and what to do instead of a schema error:
 *
 * - the brand (guest) of a lookalike job holds only its seeds' labels and
 *   the intercept, no features: there is no scorer to export; the partner
 *   (host) exports its part and scores its own pool (`model score-pool`);
 * - SQL (`--format sql`) is a linear model's weighted sum: parts of other
 *   model families (trees) have no SQL form; their bundle is the way out.
 */
import { TandemError } from '../protocol/errors.ts';
import { readModelPartFile } from '../models/model-part.ts';
import { readModelPart, type ModelPart } from '../models/lr/part.ts';
import { readTreesPart, type TreesPart } from '../models/trees/part.ts';

/** Model families whose parts have a SQL form (serving/sql-export.ts). */
export const SQL_FAMILIES: readonly string[] = Object.freeze(['lr']);

export type ExportFormat = 'bundle' | 'sql';

/** A part of a family that can be exported. */
export type ExportablePart =
  { readonly family: 'lr'; readonly part: ModelPart } | { readonly family: 'trees'; readonly part: TreesPart };

/** Model families whose parts export as a bundle. */
export const BUNDLE_FAMILIES: readonly string[] = Object.freeze(['lr', 'trees']);

/**
 * Reads a finished job's model part for export in `format`.
 * @throws TandemError ARGUMENT_INVALID for a lookalike brand's part, or a family without that format
 * @throws JobError JOB_NOT_FOUND when this node has no model part for the job
 * @throws ConfigError CONFIG_INVALID when the file is not a valid model part
 */
export async function readExportablePart(
  dataDir: string,
  jobId: string,
  format: ExportFormat,
): Promise<ExportablePart> {
  const { header } = await readModelPartFile(dataDir, jobId);
  if (header.kind === 'lookalike' && header.role === 'guest') {
    const partner = header.parties.find((p) => p.role === 'host')?.name ?? 'the partner';
    throw new TandemError(
      'ARGUMENT_INVALID',
      `job ${jobId} is a lookalike job and ${header.party} is its brand (guest): the brand holds no features in a lookalike model (only its seeds' labels), so it has no part to export. Fix: the partner (${partner}) exports its part with \`tandem model export --job ${jobId}\` and scores its pool with \`tandem model score-pool\``,
    );
  }
  const family = header.family ?? 'lr';
  if (format === 'sql' && !SQL_FAMILIES.includes(family)) {
    throw new TandemError(
      'ARGUMENT_INVALID',
      `job ${jobId} trained ${family}; \`tandem model export --format sql\` supports ${SQL_FAMILIES.join(', ')} models only (SQL holds a linear model's weighted sum, not a tree walk). Fix: export it as a bundle (drop --format sql) and score with \`tandem model score-pool\`${header.kind === 'lookalike' ? '' : ' or `tandem serve`'}`,
    );
  }
  if (!BUNDLE_FAMILIES.includes(family)) {
    throw new TandemError(
      'ARGUMENT_INVALID',
      `job ${jobId} trained ${family}; \`tandem model export\` supports ${BUNDLE_FAMILIES.join(', ')} models. Fix: export it with the tandem version that trained it`,
    );
  }
  return family === 'trees'
    ? { family: 'trees', part: await readTreesPart(dataDir, jobId) }
    : { family: 'lr', part: await readModelPart(dataDir, jobId) };
}

/** As {@link readExportablePart}, for a path that handles LR parts only (SQL). @throws TandemError ARGUMENT_INVALID for another family */
export async function readExportableLrPart(dataDir: string, jobId: string, format: ExportFormat): Promise<ModelPart> {
  const read = await readExportablePart(dataDir, jobId, format);
  if (read.family !== 'lr')
    throw new TandemError('ARGUMENT_INVALID', `job ${jobId} trained ${read.family}; this path supports lr models only`);
  return read.part;
}
