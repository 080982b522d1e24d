/**
 * The report's edges: reading the guest's model part, asking the
 * coordinator (if it answers) for its view of the job, and writing the HTML
 * and JSON files.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { AdminClient, type ClientFlags, type JobStatus } from '../runtime/admin-client.ts';
import { readModelPartFile } from '../models/model-part.ts';
import { parseReportSource, type CoordinatorView, type JobReport, type ReportSource } from './job-report.ts';
import { renderJobReportHtml } from './html.ts';

/**
 * Reads this node's model part for a job.
 * @throws TandemError ARGUMENT_INVALID for an id that cannot be a job id
 * @throws JobError JOB_NOT_FOUND when this node has no finished model for the job
 * @throws ConfigError CONFIG_INVALID when the file is not a model part
 */
export async function readReportSource(dataDir: string, jobId: string): Promise<ReportSource> {
  const { file, raw } = await readModelPartFile(dataDir, jobId);
  return parseReportSource(raw, file);
}

/** The coordinator's public view of a job, reduced to what the report shows. */
export function coordinatorViewOf(status: JobStatus): CoordinatorView {
  let summaries: Record<string, unknown> = {};
  try {
    summaries = JSON.parse(status.summaryJson === '' ? '{}' : status.summaryJson) as Record<string, unknown>;
  } catch {
    // A summary we cannot read only costs the hosts' feature counts.
  }
  const hostFeatures: Record<string, number> = {};
  for (const [party, s] of Object.entries(summaries)) {
    const summary = s as { role?: unknown; features?: unknown } | null;
    if (summary?.role === 'host' && typeof summary.features === 'number') hostFeatures[party] = summary.features;
  }
  const iso = (ms: number): string | null => (Number.isFinite(ms) && ms > 0 ? new Date(ms).toISOString() : null);
  return {
    reached: true,
    stage: status.stage,
    kind: status.kind,
    message: status.message,
    submittedAt: iso(Number(status.createdAtMs)),
    endedAt: iso(Number(status.updatedAtMs)),
    maxEpochs: status.maxEpochs > 0 ? status.maxEpochs : null,
    hostFeatures,
  };
}

/**
 * Asks the coordinator for the job, giving up after `timeoutMs`. Never
 * throws: an unreachable coordinator only leaves parts of the report out,
 * and the reason is shown in it.
 */
export async function fetchCoordinatorView(
  flags: ClientFlags,
  jobId: string,
  timeoutMs: number,
): Promise<CoordinatorView> {
  let client: AdminClient | undefined;
  let gaveUp = false;
  let timer: NodeJS.Timeout | undefined;
  const ask = (async () => {
    const connected = await AdminClient.connect(flags);
    if (gaveUp) {
      connected.close();
      throw new Error('gave up');
    }
    client = connected;
    return coordinatorViewOf(await connected.get(jobId));
  })();
  // If the timeout wins, the question may still fail later: nobody is waiting for it then.
  ask.catch(() => undefined);
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    return await Promise.race([ask, timeout]);
  } catch (error) {
    return {
      reached: false,
      reason: error instanceof Error ? (error.message.split('\n')[0] ?? 'unknown') : String(error),
    };
  } finally {
    gaveUp = true;
    clearTimeout(timer);
    client?.close();
  }
}

/** Writes `<job>.report.html` and `<job>.report.json` into `outDir`; returns their paths. */
export async function writeJobReport(
  report: JobReport,
  outDir: string,
): Promise<{ readonly html: string; readonly json: string }> {
  await mkdir(outDir, { recursive: true, mode: 0o700 });
  const html = join(outDir, `${report.job.id}.report.html`);
  const json = join(outDir, `${report.job.id}.report.json`);
  await writeFile(json, `${JSON.stringify(report, null, 2)}\n`, { mode: 0o600 });
  await writeFile(html, renderJobReportHtml(report), { mode: 0o600 });
  return { html, json };
}
