/**
 * A real federation on loopback for end-to-end tests: a fresh dev CA, a
 * coordinator on port 0 and party nodes, all with real mTLS and real CKKS,
 * in this process (or, with `spawnNode`, as separate processes).
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initCertificates } from '../../runtime/certificate-authority.ts';
import { silentLogger, type Logger } from '../../runtime/logger.ts';
import { startCoordinator, type CoordinatorNode } from '../../coordinator/node.ts';
import { startPartyNode, type PartyNode } from '../../party/node.ts';
import { AdminClient } from '../../runtime/admin-client.ts';
import { stringify } from 'yaml';

export type PartySetup = {
  readonly name: string;
  readonly datasets: Record<string, unknown>;
  /** Extra `node:` settings (e.g. `cryptoThreads`). */
  readonly node?: Record<string, unknown>;
};

export type Federation = {
  readonly dir: string;
  readonly coordinator: CoordinatorNode;
  readonly parties: Map<string, PartyNode>;
  readonly address: string;
  /** Writes a YAML file in the federation directory and returns its path. */
  write(name: string, value: unknown): Promise<string>;
  /** An admin client using `name`'s certificate. */
  admin(name?: string): Promise<AdminClient>;
  /** Paths of `name`'s CA, certificate and key. */
  certs(name: string): { ca: string; cert: string; key: string };
  close(): Promise<void>;
};

export async function startFederation(options: {
  readonly parties: readonly PartySetup[];
  readonly log?: Logger;
  readonly stepTimeoutMs?: number;
  /** Registered party names that get a certificate but no running node (tests drive them by hand). */
  readonly idle?: readonly string[];
  /** Names with a certificate from the federation CA that are not registered parties. */
  readonly unregistered?: readonly string[];
  /** Extra `coordinator:` settings. */
  readonly coordinator?: Record<string, unknown>;
}): Promise<Federation> {
  const dir = await mkdtemp(join(tmpdir(), 'tandem-fed-'));
  const log = options.log ?? silentLogger();
  const names = [...options.parties.map((p) => p.name), ...(options.idle ?? [])];
  const certs = join(dir, 'certs');
  await initCertificates({ outDir: certs, parties: names, extraNames: ['admin', ...(options.unregistered ?? [])] });
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
  const coordinatorFile = await write('coordinator.yaml', {
    coordinator: {
      listen: '127.0.0.1:0',
      dataDir: join(dir, 'coordinator'),
      certs: certsOf('coordinator'),
      admins: ['admin'],
      parties: names,
      heartbeatIntervalMs: 500,
      ...options.coordinator,
    },
  });
  const coordinator = await startCoordinator(coordinatorFile, log);
  const address = `127.0.0.1:${coordinator.port}`;
  const parties = new Map<string, PartyNode>();
  for (const p of options.parties) {
    await writeTestNodeSecret(join(dir, p.name), p.name);
    const file = await write(`${p.name}.yaml`, {
      node: {
        name: p.name,
        coordinator: address,
        coordinatorName: 'coordinator',
        dataDir: join(dir, p.name),
        certs: certsOf(p.name),
        heartbeatIntervalMs: 500,
        ...p.node,
      },
      datasets: p.datasets,
    });
    parties.set(
      p.name,
      await startPartyNode(file, {
        log,
        ...(options.stepTimeoutMs === undefined ? {} : { stepTimeoutMs: options.stepTimeoutMs }),
      }),
    );
  }
  return {
    dir,
    coordinator,
    parties,
    address,
    write,
    certs: certsOf,
    admin: (name = 'admin') => AdminClient.connect({ coordinator: address, ...certsOf(name) }),
    close: async () => {
      for (const p of parties.values()) await p.close();
      await coordinator.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** A fixed node secret in `dataDir`: the guest's (secret) validation split is then the same on every run. */
export async function writeTestNodeSecret(dataDir: string, name: string): Promise<void> {
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  await writeFile(
    join(dataDir, 'node-secret'),
    createHash('sha256').update(`tandem-test-node-secret|${name}`).digest(),
    { mode: 0o600 },
  );
}

export type JobResult = {
  readonly stage: string;
  readonly message: string;
  readonly summaries: Record<string, Record<string, unknown>>;
  readonly jobId: string;
};

/** Submits a job spec (an object, written as YAML) as admin and waits for it to end. */
export async function runJob(fed: Federation, spec: unknown, name = 'job.yaml'): Promise<JobResult> {
  const file = await fed.write(name, spec);
  const admin = await fed.admin();
  try {
    const submitted = await admin.submit(file);
    const final = await admin.watch(submitted.jobId, () => undefined);
    return {
      stage: final.stage,
      message: final.message,
      jobId: final.jobId,
      summaries: JSON.parse(final.summaryJson === '' ? '{}' : final.summaryJson) as Record<
        string,
        Record<string, unknown>
      >,
    };
  } finally {
    admin.close();
  }
}

/** The node config file of a party in the federation. */
export function partyConfigFile(fed: Federation, name: string): string {
  return join(fed.dir, `${name}.yaml`);
}

/** A two-party hetero-LR job spec over dataset `d` at brand (guest) and partner (host). */
export function lrSpec(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    name: 'test-lr',
    kind: 'hetero-lr',
    parties: [
      { name: 'brand', role: 'guest', dataset: 'd' },
      { name: 'partner', role: 'host', dataset: 'd' },
    ],
    seed: 42,
    ...extra,
  };
}

export const EXAMPLE_DATA = join(import.meta.dirname, '..', '..', 'examples', 'data');

/** brand (guest, label y) and partner (host) on one of the example datasets. */
export function exampleParties(dataset: 'breast' | 'default_credit' | 'vehicle'): PartySetup[] {
  const label = dataset === 'vehicle' ? { column: 'y', type: 'multiclass' } : { column: 'y' };
  return [
    {
      name: 'brand',
      datasets: { d: { file: join(EXAMPLE_DATA, `${dataset}_guest.csv.gz`), id: 'id', label, features: 'all' } },
    },
    {
      name: 'partner',
      datasets: { d: { file: join(EXAMPLE_DATA, `${dataset}_host.csv.gz`), id: 'id', features: 'all' } },
    },
  ];
}
