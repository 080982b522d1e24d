/** `tandem job submit | status | list | cancel`. */
import type { Argv, CommandModule } from 'yargs';
import cliProgress from 'cli-progress';
import { AdminClient, FINAL, type ClientFlags, type JobStatus } from '../../runtime/admin-client.ts';
import { jobLine, jobSummary, JOB_HEADERS, table } from '../render.ts';
import { JobError } from '../../protocol/errors.ts';
import { jobReportCommand } from './report.ts';

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

/** Follows a job with a progress bar until it ends. */
export async function followJob(client: AdminClient, jobId: string, interactive: boolean): Promise<JobStatus> {
  const bar = new cliProgress.SingleBar(
    { format: ' {phase} |{bar}| {unit} {value}/{total} {message}', barsize: 30, hideCursor: true, noTTYOutput: !interactive, notTTYSchedule: 5000, clearOnComplete: false },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  const final = await client.watch(jobId, (s) => {
    const payload = { phase: s.phase.padEnd(10), unit: s.phase === 'psi' ? 'step' : 'epoch', message: s.message.slice(0, 60) };
    if (!started) {
      bar.start(Math.max(1, s.maxEpochs), s.epoch, payload);
      started = true;
    } else {
      bar.setTotal(Math.max(1, s.maxEpochs));
      bar.update(s.epoch, payload);
    }
  });
  // Early stopping ends before maxEpochs: a finished job still shows a full bar.
  if (started && final.stage === 'completed') bar.update(Math.max(1, final.maxEpochs), { phase: 'done'.padEnd(10), unit: 'epoch', message: `completed after ${final.epoch} epochs` });
  bar.stop();
  return final;
}

export const jobCommand: CommandModule<object, object> = {
  command: 'job <command>',
  describe: 'Submit, follow, list, cancel and report on jobs',
  builder: (y) =>
    y
      .command<Common & { spec: string; wait: boolean }>({
        command: 'submit <spec>',
        describe: 'Submit a job spec (YAML); with --wait, follow it to the end',
        builder: (b) => connection(b).positional('spec', { type: 'string', demandOption: true, describe: 'job spec YAML' }).option('wait', { type: 'boolean', default: false, describe: 'follow progress and print the summary' }).example('$0 job submit examples/default-credit/job.yaml --config examples/default-credit/brand.yaml --wait', ''),
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
            if (final.stage !== 'completed') throw new JobError('JOB_FAILED', `job ${final.jobId} ${final.stage}: ${final.message}`);
          }),
      })
      .command<Common & { id: string; watch: boolean }>({
        command: 'status <id>',
        describe: 'Show a job (with --watch, follow it)',
        builder: (b) => connection(b).positional('id', { type: 'string', demandOption: true }).option('watch', { type: 'boolean', default: false }),
        handler: (args) =>
          withClient(args, async (client) => {
            const job = args.watch ? await followJob(client, args.id, process.stderr.isTTY) : await client.get(args.id);
            process.stdout.write(args.json ? `${JSON.stringify(job)}\n` : `${table(JOB_HEADERS, [jobLine(job)])}\n\n${jobSummary(job)}\n`);
          }),
      })
      .command<Common & { limit: number }>({
        command: 'list',
        describe: 'List recent jobs',
        builder: (b) => connection(b).option('limit', { type: 'number', default: 20 }),
        handler: (args) =>
          withClient(args, async (client) => {
            const jobs = await client.list(args.limit);
            process.stdout.write(args.json ? `${JSON.stringify(jobs)}\n` : `${jobs.length === 0 ? 'no jobs yet' : table(JOB_HEADERS, jobs.map(jobLine))}\n`);
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
