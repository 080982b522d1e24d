/**
 * `tandem demo`: the retail story on this machine. It generates a small
 * seeded retail dataset (a partner pool, a brand's members and its seed
 * list), starts a dev CA, a coordinator, the brand (guest) and the partner
 * (host) as separate processes on loopback, and runs the two jobs Tandem
 * exists for — lookalike seed expansion and cold start — printing for each
 * the brand alone, federated and pooled results and the HTML report's path.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, open, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CommandModule } from 'yargs';
import { stringify } from 'yaml';
import { initCertificates } from '../../runtime/certificate-authority.ts';
import { AdminClient } from '../../runtime/admin-client.ts';
import { followJob } from './job.ts';
import { jobSummary } from '../render.ts';
import { JobError, TandemError } from '../../protocol/errors.ts';
import { loadRetailExample, runRetailJobs, type RetailDemoSize } from './demo-retail.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const BIN = join(ROOT, 'bin', 'tandem.mjs');

type DemoArgs = {
  dir: string | undefined;
  'log-level': string;
  pool: number;
  members: number;
  features: number;
  'data-seed': number;
};

export const demoCommand: CommandModule<object, DemoArgs> = {
  command: 'demo',
  describe:
    'Generate retail example data, run a coordinator and two parties on loopback, and train a lookalike and a cold-start model',
  builder: (y) =>
    y
      .option('dir', {
        type: 'string',
        describe:
          'working directory for data, certificates, configs, logs, models and reports (default: a new temp dir)',
      })
      .option('log-level', {
        type: 'string',
        choices: ['debug', 'info', 'warn', 'error'],
        default: 'info',
        describe: "the nodes' log level (logs go to <dir>/logs)",
      })
      .option('pool', { type: 'number', default: 20_000, describe: "users in the partner's pool" })
      .option('members', {
        type: 'number',
        default: 8000,
        describe: "members in the brand's CRM (60 % of them in the pool)",
      })
      .option('features', {
        type: 'number',
        default: 40,
        describe: 'partner feature columns (12 to 112; 4 of them categorical)',
      })
      .option('data-seed', { type: 'number', default: 7, describe: 'seed of the generated data' })
      .example('$0 demo', 'the retail story: a few minutes on two cores')
      .example('$0 demo --pool 5000 --members 2000 --features 16', 'a quicker, smaller run'),
  handler: async (args) => {
    const dir = args.dir === undefined ? await mkdtemp(join(tmpdir(), 'tandem-demo-')) : resolve(args.dir);
    await mkdir(join(dir, 'logs'), { recursive: true });
    const say = (line: string): void => void process.stderr.write(`${line}\n`);
    say('Tandem demo — a brand and an ad partner, the retail story');
    say(`working directory: ${dir}`);

    const certs = join(dir, 'certs');
    await initCertificates({ outDir: certs, parties: ['brand', 'partner'], extraNames: ['admin'], force: true });
    const certsOf = (name: string) => ({
      ca: join(certs, 'ca.crt'),
      cert: join(certs, `${name}.crt`),
      key: join(certs, `${name}.key`),
    });
    say('1/5 made a development CA and certificates for coordinator, brand, partner and admin');

    const size: RetailDemoSize = {
      poolSize: args.pool,
      members: args.members,
      partnerFeatures: args.features,
      seed: args['data-seed'],
    };
    const retail = await loadRetailExample();
    const dataDir = join(dir, 'data');
    const manifest = await retail.generate.generateRetail({ outDir: dataDir, ...size, onProgress: () => undefined });
    const c = manifest.counts;
    say(
      `2/5 generated retail data in ${dataDir}: a pool of ${c.pool} users × ${manifest.parameters.partnerFeatures} features at the partner; ${c.members} members at the brand (${c.membersInPool} also in the pool), ${c.seeds} of them coffee buyers (the seed list)`,
    );

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
        coordinator: {
          listen: '127.0.0.1:0',
          dataDir: join(dir, 'coordinator'),
          certs: certsOf('coordinator'),
          admins: ['admin'],
          parties: ['brand', 'partner'],
          portFile,
        },
      });
      children.push(
        await startNode(dir, 'coordinator', [
          'coordinator',
          'start',
          '--config',
          coordinatorConfig,
          '--log-level',
          args['log-level'],
        ]),
      );
      const port = await waitForPort(portFile, children[0] as ChildProcess, join(dir, 'logs', 'coordinator.log'));
      const address = `127.0.0.1:${port}`;
      say(`3/5 coordinator listening on ${address} (pid ${children[0]?.pid})`);

      const datasets = retail.federation.retailDatasets(dataDir, manifest);
      const nodeConfig = (name: 'brand' | 'partner') => ({
        node: {
          name,
          coordinator: address,
          coordinatorName: 'coordinator',
          dataDir: join(dir, name),
          certs: certsOf(name),
        },
        datasets: datasets[name],
      });
      for (const name of ['brand', 'partner'] as const) {
        // A node draws a random secret on first use; the demo fixes it (from the data seed) so the guest's
        // secret split, and with it the printed numbers, are the same on every run. Never do this in production.
        await mkdir(join(dir, name), { recursive: true });
        await writeFile(
          join(dir, name, 'node-secret'),
          createHash('sha256').update(`tandem-demo-node-secret|${name}|${size.seed}`).digest(),
          { mode: 0o600 },
        );
      }
      const configs = {
        brand: await writeYaml(dir, 'brand.yaml', nodeConfig('brand')),
        partner: await writeYaml(dir, 'partner.yaml', nodeConfig('partner')),
      };
      for (const name of ['brand', 'partner'] as const) {
        children.push(
          await startNode(dir, name, ['party', 'start', '--config', configs[name], '--log-level', args['log-level']]),
        );
      }
      say(
        `4/5 party nodes started: brand (guest, pid ${children[1]?.pid}) and partner (host, pid ${children[2]?.pid}); they only dial out`,
      );

      const client = await AdminClient.connect({ coordinator: address, ...certsOf('admin') });
      try {
        const submit = async (name: string, spec: Record<string, unknown>) => {
          const job = await client.submit(await writeYaml(dir, name, spec));
          say(`submitted ${job.jobId} (${String(spec['name'])}): PSI, then encrypted training (progress below)`);
          const started = Date.now();
          const final = await followJob(client, job.jobId, process.stderr.isTTY);
          process.stdout.write(`\n${jobSummary(final)}\n\ntook ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
          if (final.stage !== 'completed')
            throw new JobError('JOB_FAILED', `demo job ${final.stage}: ${final.message} (see ${join(dir, 'logs')})`);
          return final;
        };
        say('5/5 two jobs: lookalike (seed expansion into the pool), then cold start (purchase category)');
        await runRetailJobs({
          dir,
          configs,
          manifest,
          retail,
          submit,
          print: (text) => void process.stdout.write(`${text}\n`),
        });
        process.stdout.write(
          `\naudit logs:  ${join(dir, '*', 'audit', '*.audit.jsonl')}\nnode logs:   ${join(dir, 'logs')}\n`,
        );
      } finally {
        client.close();
      }
    } finally {
      process.off('SIGINT', onSignal);
      stopAll();
      await Promise.all(
        children.map((c) => (c.exitCode === null ? new Promise((r) => c.once('exit', r)) : Promise.resolve())),
      );
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
  const child = spawn(process.execPath, [BIN, ...args], {
    stdio: ['ignore', log.fd, log.fd],
    env: { ...process.env, FORCE_COLOR: '0' },
  });
  child.once('exit', () => void log.close());
  return child;
}

async function waitForPort(portFile: string, child: ChildProcess, logFile: string): Promise<number> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) {
      const log = await readFile(logFile, 'utf8').catch(() => '');
      throw new TandemError(
        'PEER_UNAVAILABLE',
        `the coordinator exited with code ${child.exitCode}:\n${log.slice(-2000)}`,
      );
    }
    const text = (await readFile(portFile, 'utf8')).trim();
    if (text !== '') return Number(text);
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new TandemError('PEER_TIMEOUT', `the coordinator did not start within 30 s (see ${logFile})`);
}
