/**
 * `tandem job report <id>`: an HTML page (and a JSON file) for a finished
 * job, written at the guest, which holds the evaluation results. The
 * coordinator is asked for the job's timing and the hosts' feature counts
 * when it answers; without it the report is still complete otherwise.
 */
import { join, relative } from 'node:path';
import type { CommandModule } from 'yargs';
import { loadPartyConfig } from '../../party/config.ts';
import { JobError, TandemError } from '../../protocol/errors.ts';
import { buildJobReport, type CoordinatorView, type JobReport } from '../../report/job-report.ts';
import { fetchCoordinatorView, readReportSource, writeJobReport } from '../../report/files.ts';
import { headline } from '../../report/html.ts';

export type JobReportOptions = {
  /** The guest's node config (its dataDir holds the job's model part). */
  readonly config: string;
  readonly jobId: string;
  /** @default `<dataDir>/jobs/<jobId>` */
  readonly out?: string | undefined;
  /** Do not contact the coordinator. */
  readonly offline?: boolean | undefined;
  /** @default 5000 */
  readonly coordinatorTimeoutMs?: number | undefined;
  /** Tests and benchmarks only: an AUC measured on pooled data, shown as a reference column. */
  readonly centralisedAuc?: number | undefined;
  readonly centralisedAccuracy?: number | undefined;
};

export type JobReportResult = { readonly report: JobReport; readonly html: string; readonly json: string };

export const DEFAULT_COORDINATOR_TIMEOUT_MS = 5000;

/**
 * Builds and writes the report for one job.
 * @throws JobError JOB_NOT_FOUND (no model part for the job here), JOB_STATE_CONFLICT (the coordinator says the job has not completed)
 * @throws TandemError ARGUMENT_INVALID when this node is a host of the job, or for a bad --centralised-auc
 */
export async function runJobReport(o: JobReportOptions): Promise<JobReportResult> {
  if (o.centralisedAuc !== undefined && !(o.centralisedAuc >= 0 && o.centralisedAuc <= 1)) {
    throw new TandemError('ARGUMENT_INVALID', `--centralised-auc must be between 0 and 1, got ${o.centralisedAuc}`);
  }
  if (o.centralisedAccuracy !== undefined && !(o.centralisedAccuracy >= 0 && o.centralisedAccuracy <= 1)) {
    throw new TandemError(
      'ARGUMENT_INVALID',
      `--centralised-accuracy must be between 0 and 1, got ${o.centralisedAccuracy}`,
    );
  }
  const config = await loadPartyConfig(o.config);
  const timeoutMs = o.coordinatorTimeoutMs ?? DEFAULT_COORDINATOR_TIMEOUT_MS;
  const ask = (): Promise<CoordinatorView> =>
    o.offline === true
      ? Promise.resolve({ reached: false, reason: 'not asked (--offline)' })
      : fetchCoordinatorView({ config: o.config }, o.jobId, timeoutMs);
  let coordinator: CoordinatorView | undefined;
  const source = await readReportSource(config.node.dataDir, o.jobId).catch(async (error: unknown) => {
    // No model part yet: if the coordinator knows the job is still running, say so.
    if (error instanceof JobError && error.code === 'JOB_NOT_FOUND') {
      coordinator = await ask();
      if (coordinator.reached && coordinator.stage !== 'completed') {
        throw new JobError(
          'JOB_STATE_CONFLICT',
          `job ${o.jobId} is ${coordinator.stage}${coordinator.message === '' ? '' : ` (${coordinator.message})`}: a report can be written once it has completed. Fix: \`tandem job status ${o.jobId} --watch\` follows it`,
          { cause: error },
        );
      }
    }
    throw error;
  });
  if (source.role !== 'guest') {
    const guest = source.parties.find((p) => p.role === 'guest')?.name ?? 'the guest';
    throw new TandemError(
      'ARGUMENT_INVALID',
      `${source.party} is a host in job ${o.jobId}; the report is written at ${guest}, the guest, which holds the evaluation results. Fix: run this command with ${guest}'s node config`,
    );
  }
  coordinator ??= await ask();
  const report = buildJobReport(source, {
    coordinator,
    centralisedAuc: o.centralisedAuc,
    centralisedAccuracy: o.centralisedAccuracy,
  });
  const files = await writeJobReport(report, o.out ?? join(config.node.dataDir, 'jobs', o.jobId));
  return { report, ...files };
}

type ReportArgs = {
  id: string;
  config: string;
  out: string | undefined;
  offline: boolean;
  'coordinator-timeout': number;
  'centralised-auc': number | undefined;
  'centralised-accuracy': number | undefined;
  json: boolean;
};

const show = (file: string): string => {
  const rel = relative(process.cwd(), file);
  return rel.startsWith('..') ? file : rel;
};

/**
 * `report <id>`: a subcommand of `tandem job` (register it in cli/commands/job.ts:
 * `.command(jobReportCommand)`), so that the command is `tandem job report <id>`.
 */
export const jobReportCommand: CommandModule<object, ReportArgs> = {
  command: 'report <id>',
  describe:
    'Write an HTML report (and JSON) for a finished job: its results, what federation added, and what crossed between the parties. Run it at the guest',
  builder: (y) =>
    y
      .positional('id', { type: 'string', demandOption: true, describe: 'the job id (see `tandem job list`)' })
      .option('config', {
        type: 'string',
        demandOption: true,
        describe: "the guest's node config (the job's results are in its dataDir)",
      })
      .option('out', {
        type: 'string',
        describe: 'directory for <job>.report.html and .json [default: <dataDir>/jobs/<job>]',
      })
      .option('offline', {
        type: 'boolean',
        default: false,
        describe:
          "do not ask the coordinator (the report then leaves out the job's timing and the partners' feature counts)",
      })
      .option('coordinator-timeout', {
        type: 'number',
        default: DEFAULT_COORDINATOR_TIMEOUT_MS,
        describe: 'milliseconds to wait for the coordinator before writing the report without it',
      })
      .option('centralised-auc', {
        type: 'number',
        alias: 'centralized-auc',
        describe:
          'tests and benchmarks: an AUC measured on pooled data, shown as a reference column (Tandem never pools data itself)',
      })
      .option('centralised-accuracy', {
        type: 'number',
        alias: 'centralized-accuracy',
        describe:
          'tests and benchmarks: an accuracy measured on pooled data (e.g. multinomial LR for a cold-start job), shown as a reference column',
      })
      .option('json', { type: 'boolean', default: false, describe: 'print JSON for machines' })
      .example(
        '$0 job report job-1a2b3c4d5e --config examples/default-credit/brand.yaml',
        'write the report next to the model part',
      )
      .example('$0 job report job-1a2b3c4d5e --config brand.yaml --out reports/', ''),
  handler: async (args) => {
    const result = await runJobReport({
      config: args.config,
      jobId: args.id,
      out: args.out,
      offline: args.offline,
      coordinatorTimeoutMs: args['coordinator-timeout'],
      centralisedAuc: args['centralised-auc'],
      centralisedAccuracy: args['centralised-accuracy'],
    });
    if (args.json) {
      process.stdout.write(`${JSON.stringify({ html: result.html, json: result.json, report: result.report })}\n`);
      return;
    }
    const c = result.report.coordinator;
    if (!c.reached && !args.offline)
      process.stderr.write(
        `note: the coordinator did not answer (${c.reason}); the report leaves out the job's timing and the partners' feature counts\n`,
      );
    process.stdout.write(`${headline(result.report)}\n\nWrote ${show(result.html)}\n  and ${show(result.json)}\n`);
  },
};

/** The same command at the top level (`tandem report <id>`), for registration in cli/commands/index.ts instead. */
export const reportCommand: CommandModule<object, ReportArgs> = jobReportCommand;
