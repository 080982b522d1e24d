/**
 * `tandem demo`: a whole federation on this machine, as separate processes
 * on loopback: a dev CA, a coordinator, the brand (guest) and the partner
 * (host); then one job, followed to the end, and the summary.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, open, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CommandModule } from 'yargs';
import { stringify } from 'yaml';
import { initCertificates } from '../../runtime/certs.ts';
import { AdminClient } from '../admin-client.ts';
import { followJob } from './job.ts';
import { jobSummary } from '../render.ts';
import { JobError, TandemError } from '../../protocol/errors.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const BIN = join(ROOT, 'bin', 'tandem.mjs');
const DATA = join(ROOT, 'examples', 'data');

type DemoDataset = { readonly guest: string; readonly host: string; readonly describe: string };

const DATASETS: Readonly<Record<string, DemoDataset>> = {
  'default-credit': { guest: 'default_credit_guest.csv.gz', host: 'default_credit_host.csv.gz', describe: 'FATE default-credit: 30,000 card holders, 13 brand + 10 partner features' },
  breast: { guest: 'breast_guest.csv.gz', host: 'breast_host.csv.gz', describe: 'FATE breast: 569 rows, 10 brand + 20 partner features (fast)' },
};

type DemoArgs = { dataset: string; dir: string | undefined; 'log-level': string };

export const demoCommand: CommandModule<object, DemoArgs> = {
  command: 'demo',
  describe: 'Run a coordinator and two parties on loopback and train one encrypted model',
  builder: (y) =>
    y
      .option('dataset', { type: 'string', choices: Object.keys(DATASETS), default: 'default-credit', describe: 'which example data to train on' })
      .option('dir', { type: 'string', describe: 'working directory for certificates, configs, logs and models (default: a new temp dir)' })
      .option('log-level', { type: 'string', choices: ['debug', 'info', 'warn', 'error'], default: 'info', describe: "the nodes' log level (logs go to <dir>/logs)" })
      .example('$0 demo', 'train on default-credit (about a minute on two cores)')
      .example('$0 demo --dataset breast', 'a ten-second run'),
  handler: async (args) => {
    const dataset = DATASETS[args.dataset] as DemoDataset;
    const dir = args.dir === undefined ? await mkdtemp(join(tmpdir(), 'tandem-demo-')) : resolve(args.dir);
    await mkdir(join(dir, 'logs'), { recursive: true });
    const say = (line: string): void => void process.stderr.write(`${line}\n`);
    say(`Tandem demo — ${dataset.describe}`);
    say(`working directory: ${dir}`);

    const certs = join(dir, 'certs');
    await initCertificates({ outDir: certs, parties: ['brand', 'partner'], extraNames: ['admin'], force: true });
    const certsOf = (name: string) => ({ ca: join(certs, 'ca.crt'), cert: join(certs, `${name}.crt`), key: join(certs, `${name}.key`) });
    say('1/4 made a development CA and certificates for coordinator, brand, partner and admin');

    const children: ChildProcess[] = [];
    const stopAll = (): void => {
      for (const child of children) if (child.exitCode === null) child.kill('SIGTERM');
    };
    const onSignal = (): void => {
      stopAll();
      process.exitCode = 130;
    };
    process.once('SIGINT', onSignal);
    try {
      const portFile = join(dir, 'coordinator.port');
      await writeFile(portFile, '');
      const coordinatorConfig = await writeYaml(dir, 'coordinator.yaml', {
        coordinator: { listen: '127.0.0.1:0', dataDir: join(dir, 'coordinator'), certs: certsOf('coordinator'), admins: ['admin'], parties: ['brand', 'partner'], portFile },
      });
      children.push(await startNode(dir, 'coordinator', ['coordinator', 'start', '--config', coordinatorConfig, '--log-level', args['log-level']]));
      const port = await waitForPort(portFile, children[0] as ChildProcess, join(dir, 'logs', 'coordinator.log'));
      const address = `127.0.0.1:${port}`;
      say(`2/4 coordinator listening on ${address} (pid ${children[0]?.pid})`);

      const brand = await writeYaml(dir, 'brand.yaml', {
        node: { name: 'brand', coordinator: address, coordinatorName: 'coordinator', dataDir: join(dir, 'brand'), certs: certsOf('brand') },
        datasets: { demo: { file: join(DATA, dataset.guest), id: 'id', label: { column: 'y', positive: 1, negative: 0 }, features: 'all' } },
      });
      const partner = await writeYaml(dir, 'partner.yaml', {
        node: { name: 'partner', coordinator: address, coordinatorName: 'coordinator', dataDir: join(dir, 'partner'), certs: certsOf('partner') },
        datasets: { demo: { file: join(DATA, dataset.host), id: 'id', features: 'all' } },
      });
      for (const [name, file] of [['brand', brand], ['partner', partner]] as const) {
        children.push(await startNode(dir, name, ['party', 'start', '--config', file, '--log-level', args['log-level']]));
      }
      say(`3/4 party nodes started: brand (guest, pid ${children[1]?.pid}) and partner (host, pid ${children[2]?.pid}); they only dial out`);

      const spec = await writeYaml(dir, 'job.yaml', {
        name: `demo-${args.dataset}`,
        kind: 'hetero-lr',
        parties: [{ name: 'brand', role: 'guest', dataset: 'demo' }, { name: 'partner', role: 'host', dataset: 'demo' }],
        validation: { fraction: 0.2, stratified: true },
        seed: 42,
      });
      const client = await AdminClient.connect({ coordinator: address, ...certsOf('admin') });
      try {
        const job = await client.submit(spec);
        say(`4/4 submitted ${job.jobId}: PSI, then encrypted training (progress below)`);
        const started = Date.now();
        const final = await followJob(client, job.jobId, process.stderr.isTTY);
        process.stdout.write(`${jobSummary(final)}\n\n`);
        process.stdout.write(`took ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
        process.stdout.write(`model parts: ${join(dir, 'brand', 'jobs', job.jobId, 'model-part.json')}\n             ${join(dir, 'partner', 'jobs', job.jobId, 'model-part.json')}\n`);
        process.stdout.write(`audit logs:  ${join(dir, '*', 'audit', '*.audit.jsonl')}\nnode logs:   ${join(dir, 'logs')}\n`);
        if (final.stage !== 'completed') throw new JobError('JOB_FAILED', `demo job ${final.stage}: ${final.message} (see ${join(dir, 'logs')})`);
      } finally {
        client.close();
      }
    } finally {
      process.off('SIGINT', onSignal);
      stopAll();
      await Promise.all(children.map((c) => (c.exitCode === null ? new Promise((r) => c.once('exit', r)) : Promise.resolve())));
    }
  },
};

async function writeYaml(dir: string, name: string, value: unknown): Promise<string> {
  const file = join(dir, name);
  await writeFile(file, stringify(value));
  return file;
}

/** Starts `tandem <args>` as a child process with its output in <dir>/logs/<name>.log. */
async function startNode(dir: string, name: string, args: readonly string[]): Promise<ChildProcess> {
  const log = await open(join(dir, 'logs', `${name}.log`), 'w');
  const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', log.fd, log.fd], env: { ...process.env, FORCE_COLOR: '0' } });
  child.once('exit', () => void log.close());
  return child;
}

async function waitForPort(portFile: string, child: ChildProcess, logFile: string): Promise<number> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) {
      const log = await readFile(logFile, 'utf8').catch(() => '');
      throw new TandemError('PEER_UNAVAILABLE', `the coordinator exited with code ${child.exitCode}:\n${log.slice(-2000)}`);
    }
    const text = (await readFile(portFile, 'utf8')).trim();
    if (text !== '') return Number(text);
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new TandemError('PEER_TIMEOUT', `the coordinator did not start within 30 s (see ${logFile})`);
}
