/**
 * A federation of real processes for fault tests: a coordinator and party
 * nodes, each `node bin/tandem.mjs … start --config <file>` with its log in
 * <dir>/logs, that a test can SIGKILL and start again with the same command.
 */
import { spawn, spawnSync, type ChildProcess, type SpawnSyncReturns } from 'node:child_process';
import { mkdir, mkdtemp, open, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { stringify } from 'yaml';
import { initCertificates } from '../../runtime/certificate-authority.ts';
import { AdminClient } from '../../runtime/admin-client.ts';
import { writeTestNodeSecret, type PartySetup } from './federation.ts';

const BIN = resolve(import.meta.dirname, '..', '..', 'bin', 'tandem.mjs');

/** `tandem audit verify` on the nodes' own audit logs under `dir`, trusting the federation's CA and certificates. */
export function verifyNodeLogs(dir: string, nodes: readonly string[]): SpawnSyncReturns<string> {
  const logs = nodes.map((node) => join(dir, node, 'audit', `${node}.audit.jsonl`));
  const certs = join(dir, 'certs');
  return spawnSync(
    process.execPath,
    [BIN, 'audit', 'verify', '--ca', join(certs, 'ca.crt'), '--certs-dir', certs, ...logs],
    { encoding: 'utf8' },
  );
}

export type NodeProcess = {
  readonly name: string;
  /** The running child, replaced by `start`. */
  readonly child: ChildProcess;
  /** How many times the process was started. */
  readonly starts: number;
  /** Starts the node (again) with the same command; `env` adds variables for this start only. */
  start(env?: Record<string, string>): Promise<void>;
  /** SIGKILL, and wait until the process is gone. */
  kill(): Promise<void>;
  /** Resolves when the current process exits, with its signal. */
  exited(): Promise<NodeJS.Signals | null>;
};

export type ProcessFederation = {
  readonly dir: string;
  readonly address: string;
  readonly nodes: Map<string, NodeProcess>;
  write(name: string, value: unknown): Promise<string>;
  admin(): Promise<AdminClient>;
  close(): Promise<void>;
};

/** A port free on loopback right now. */
export function freePort(): Promise<number> {
  return new Promise((resolvePort) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolvePort(port));
    });
  });
}

function nodeProcess(dir: string, name: string, args: readonly string[]): NodeProcess {
  let child: ChildProcess | undefined;
  let starts = 0;
  const node: NodeProcess = {
    name,
    get child() {
      return child as ChildProcess;
    },
    get starts() {
      return starts;
    },
    start: async (env = {}) => {
      const log = await open(join(dir, 'logs', `${name}.log`), 'a');
      starts += 1;
      const started = spawn(process.execPath, [BIN, ...args], {
        stdio: ['ignore', log.fd, log.fd],
        env: { ...process.env, FORCE_COLOR: '0', ...env },
      });
      started.once('exit', () => void log.close());
      child = started;
    },
    kill: async () => {
      const current = child;
      if (current === undefined || current.exitCode !== null || current.signalCode !== null) return;
      const gone = node.exited();
      current.kill('SIGKILL');
      await gone;
    },
    exited: () => {
      const current = child as ChildProcess;
      if (current.exitCode !== null || current.signalCode !== null) return Promise.resolve(current.signalCode);
      return new Promise((r) => current.once('exit', (_code, signal) => r(signal)));
    },
  };
  return node;
}

/** Writes certificates and configs, and starts the coordinator and every party as processes. */
export async function startProcessFederation(parties: readonly PartySetup[]): Promise<ProcessFederation> {
  const dir = await mkdtemp(join(tmpdir(), 'tandem-procs-'));
  await mkdir(join(dir, 'logs'));
  const names = parties.map((p) => p.name);
  const certs = join(dir, 'certs');
  await initCertificates({ outDir: certs, parties: names, extraNames: ['admin'] });
  const certsOf = (n: string): { ca: string; cert: string; key: string } => ({
    ca: join(certs, 'ca.crt'),
    cert: join(certs, `${n}.crt`),
    key: join(certs, `${n}.key`),
  });
  const write = async (name: string, value: unknown): Promise<string> => {
    const file = join(dir, name);
    await writeFile(file, typeof value === 'string' ? value : stringify(value));
    return file;
  };
  // A fixed port: a restarted coordinator must be where the parties look for it.
  const address = `127.0.0.1:${await freePort()}`;
  const coordinatorFile = await write('coordinator.yaml', {
    coordinator: {
      listen: address,
      dataDir: join(dir, 'coordinator'),
      certs: certsOf('coordinator'),
      admins: ['admin'],
      parties: names,
      heartbeatIntervalMs: 500,
    },
  });
  const nodes = new Map<string, NodeProcess>();
  nodes.set('coordinator', nodeProcess(dir, 'coordinator', ['coordinator', 'start', '--config', coordinatorFile]));
  for (const p of parties) {
    await writeTestNodeSecret(join(dir, p.name), p.name);
    const file = await write(`${p.name}.yaml`, {
      node: {
        name: p.name,
        coordinator: address,
        coordinatorName: 'coordinator',
        dataDir: join(dir, p.name),
        certs: certsOf(p.name),
        heartbeatIntervalMs: 500,
      },
      datasets: p.datasets,
    });
    nodes.set(p.name, nodeProcess(dir, p.name, ['party', 'start', '--config', file]));
  }
  for (const node of nodes.values()) await node.start();
  return {
    dir,
    address,
    nodes,
    write,
    admin: () => AdminClient.connect({ coordinator: address, ...certsOf('admin') }),
    close: async () => {
      for (const node of nodes.values()) await node.kill();
      // TANDEM_KEEP_TEST_DIR=1 keeps configs, data dirs and logs for a post-mortem.
      if (process.env['TANDEM_KEEP_TEST_DIR'] === undefined) await rm(dir, { recursive: true, force: true });
      else process.stderr.write(`kept ${dir}\n`);
    },
  };
}
