/** `tandem job submit | status | list | cancel`. */
import type { Argv, CommandModule } from 'yargs';
import cliProgress from 'cli-progress';
import { AdminClient, FINAL, type ClientFlags, type JobStatus } from '../../runtime/admin-client.ts';
import { jobLine, jobSummary, JOB_HEADERS, table } from '../render.ts';
import { JobError } from '../../protocol/errors.ts';
import { jobReportCommand } from './report.ts';
import { readFile } from 'node:fs/promises';
import { failureOf } from '../../coordinator/federation-view.ts';
import type { JobStage } from '../../coordinator/job-store.ts';
import { loadPartyConfig } from '../../party/config.ts';
import { failureFile } from '../../party/node.ts';

type Common = ClientFlags & { json: boolean };

function connection<T>(y: Argv<T>) {
  return y
    .option('config', { type: 'string', describe: 'a node config whose coordinator address and certificates to use' })
    .option('coordinator', { type: 'string', describe: 'coordinator host:port (instead of --config)' })
    .option('ca', { type: 'string', describe: 'federation CA certificate (with --coordinator)' })
    .option('cert', { type: 'string', describe: 'your certificate (with --coordinator)' })
    .option('key', { type: 'string', describe: 'your private key (with --coordinator)' })
    .option('json', { type: 'boolean', default: false, describe: 'print JSON for machines' });
}

async function withClient<T>(args: ClientFlags, run: (client: AdminClient) => Promise<T>): Promise<T> {
  const client = await AdminClient.connect(args);
  try {
    return await run(client);
  } finally {
    client.close();
  }
}

/**
 * Follows a job until it ends. On a terminal: a progress bar of whatever
 * the job counts in its current phase (PSI steps, epochs, trees), reset at
 * each phase. Otherwise (a log file, CI): one plain line per change of
 * phase or count, never a redraw.
 */
export async function followJob(client: AdminClient, jobId: string, interactive: boolean): Promise<JobStatus> {
  return interactive ? followWithBar(client, jobId) : followWithLines(client, jobId);
}

/** "epochs 12/30", "PSI steps 1/2", or '' when the phase counts nothing. */
export function progressText(s: Pick<JobStatus, 'epoch' | 'maxEpochs' | 'unit'>): string {
  return s.maxEpochs > 0 ? `${s.unit === '' ? 'epochs' : s.unit} ${s.epoch}/${s.maxEpochs}` : '';
}

async function followWithLines(client: AdminClient, jobId: string): Promise<JobStatus> {
  let last = '';
  const final = await client.watch(jobId, (s) => {
    const line = [s.phase, progressText(s), s.message].filter((x) => x !== '').join('  ');
    if (line === last) return;
    last = line;
    process.stderr.write(`${new Date().toISOString().slice(11, 19)} ${line}\n`);
  });
  process.stderr.write(`${new Date().toISOString().slice(11, 19)} ${finalLine(final)}\n`);
  return final;
}

async function followWithBar(client: AdminClient, jobId: string): Promise<JobStatus> {
  const bar = new cliProgress.SingleBar(
    {
      format: ' {phase} |{bar}| {unit} {value}/{total} {message}',
      barsize: 30,
      hideCursor: true,
      clearOnComplete: false,
    },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  let phase = '';
  const final = await client.watch(jobId, (s) => {
    const payload = {
      phase: s.phase.padEnd(10),
      unit: s.maxEpochs > 0 ? (s.unit === '' ? 'epochs' : s.unit) : '',
      message: s.message.slice(0, 60),
    };
    if (!started || s.phase !== phase) {
      if (started) bar.stop();
      bar.start(Math.max(1, s.maxEpochs), s.epoch, payload);
      started = true;
      phase = s.phase;
    } else {
      bar.setTotal(Math.max(1, s.maxEpochs));
      bar.update(s.epoch, payload);
    }
  });
  if (started) bar.stop();
  process.stderr.write(` ${finalLine(final)}\n`);
  return final;
}

/** How a job ended, in the same counts as its progress: "completed: epochs 21/30 (stopped early)". */
function finalLine(job: JobStatus): string {
  const counted = progressText(job);
  const early =
    job.stage === 'completed' && job.maxEpochs > 0 && job.epoch < job.maxEpochs
      ? ' (stopped early: the loss stopped improving)'
      : '';
  return `${job.stage}${counted === '' ? '' : `: ${counted}${early}`}${job.stage === 'completed' ? '' : ` — ${job.message}`}`;
}

/**
 * Where a failed job's cause is. The coordinator keeps only the public text
 * (no paths, lines or values); the failing node keeps the whole error in its
 * data directory. Run from that node's config, this prints it; otherwise it
 * says which node and file hold it.
 */
export async function failureDetail(job: JobStatus, configFile: string | undefined): Promise<string | undefined> {
  const failure = failureOf({ jobId: job.jobId, stage: job.stage as JobStage, phase: job.phase, message: job.message });
  if (failure === undefined || failure.party === undefined || failure.party === '') return undefined;
  const party = failure.party;
  if (configFile !== undefined) {
    const config = await loadPartyConfig(configFile).catch(() => undefined);
    if (config?.node.name === party) {
      const file = failureFile(config.node.dataDir, job.jobId);
      const saved = await readFile(file, 'utf8').then(
        (t) => JSON.parse(t) as { code?: string; message?: string },
        () => undefined,
      );
      if (saved?.message !== undefined)
        return `${party} (this node) failed with ${saved.code ?? '?'}: ${saved.message}\n(from ${file})`;
    }
  }
  return `The detail is in ${party}'s node log and in ${party}'s <dataDir>/jobs/${job.jobId}/failure.json: run \`tandem job status ${job.jobId} --config <${party}'s node config>\` there.`;
}

export const jobCommand: CommandModule<object, object> = {
  command: 'job <command>',
  describe: 'Submit, follow, list, cancel and report on jobs',
  builder: (y) =>
    y
      .command<Common & { spec: string; wait: boolean }>({
        command: 'submit <spec>',
        describe: 'Submit a job spec (YAML); with --wait, follow it to the end',
        builder: (b) =>
          connection(b)
            .positional('spec', { type: 'string', demandOption: true, describe: 'job spec YAML' })
            .option('wait', { type: 'boolean', default: false, describe: 'follow progress and print the summary' })
            .example(
              '$0 job submit examples/default-credit/job.yaml --config examples/default-credit/brand.yaml --wait',
              '',
            ),
        handler: (args) =>
          withClient(args, async (client) => {
            const job = await client.submit(args.spec);
            if (!args.wait) {
              process.stdout.write(args.json ? `${JSON.stringify(job)}\n` : `submitted ${job.jobId}\n`);
              return;
            }
            process.stderr.write(`submitted ${job.jobId}; following it (Ctrl-C stops following, not the job)\n`);
            const final = await followJob(client, job.jobId, process.stderr.isTTY);
            process.stdout.write(args.json ? `${JSON.stringify(final)}\n` : `${jobSummary(final)}\n`);
            if (final.stage !== 'completed') {
              const detail = await failureDetail(final, args.config);
              throw new JobError(
                'JOB_FAILED',
                `job ${final.jobId} ${final.stage}: ${final.message}${detail === undefined ? '' : `\n${detail}`}`,
              );
            }
          }),
      })
      .command<Common & { id: string; watch: boolean }>({
        command: 'status <id>',
        describe: 'Show a job (with --watch, follow it)',
        builder: (b) =>
          connection(b)
            .positional('id', { type: 'string', demandOption: true })
            .option('watch', { type: 'boolean', default: false }),
        handler: (args) =>
          withClient(args, async (client) => {
            const job = args.watch ? await followJob(client, args.id, process.stderr.isTTY) : await client.get(args.id);
            const detail = await failureDetail(job, args.config);
            process.stdout.write(
              args.json
                ? `${JSON.stringify(job)}\n`
                : `${table(JOB_HEADERS, [jobLine(job)])}\n\n${jobSummary(job)}\n${detail === undefined ? '' : `\n${detail}\n`}`,
            );
          }),
      })
      .command<Common & { limit: number }>({
        command: 'list',
        describe: 'List recent jobs',
        builder: (b) => connection(b).option('limit', { type: 'number', default: 20 }),
        handler: (args) =>
          withClient(args, async (client) => {
            const jobs = await client.list(args.limit);
            process.stdout.write(
              args.json
                ? `${JSON.stringify(jobs)}\n`
                : `${jobs.length === 0 ? 'no jobs yet' : table(JOB_HEADERS, jobs.map(jobLine))}\n`,
            );
          }),
      })
      .command<Common & { id: string }>({
        command: 'cancel <id>',
        describe: 'Cancel a running job on every node',
        builder: (b) => connection(b).positional('id', { type: 'string', demandOption: true }),
        handler: (args) =>
          withClient(args, async (client) => {
            const job = await client.cancel(args.id);
            process.stdout.write(args.json ? `${JSON.stringify(job)}\n` : `${job.jobId}: ${job.stage}\n`);
          }),
      })
      .command(jobReportCommand)
      .demandCommand(1, 'Name a job command: submit, status, list, cancel or report.'),
  handler: () => undefined,
};

export { FINAL };
