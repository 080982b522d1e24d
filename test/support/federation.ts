/**
 * A real federation on loopback for end-to-end tests: a fresh dev CA, a
 * coordinator on port 0 and party nodes, all with real mTLS and real CKKS,
 * in this process (or, with `spawnNode`, as separate processes).
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initCertificates } from '../../runtime/certs.ts';
import { silentLogger, type Logger } from '../../runtime/logger.ts';
import { startCoordinator, type CoordinatorNode } from '../../coordinator/node.ts';
import { startPartyNode, type PartyNode } from '../../party/node.ts';
import { AdminClient } from '../../cli/admin-client.ts';
import { stringify } from 'yaml';

export type PartySetup = { readonly name: string; readonly datasets: Record<string, unknown> };

export type Federation = {
  readonly dir: string;
  readonly coordinator: CoordinatorNode;
  readonly parties: Map<string, PartyNode>;
  readonly address: string;
  /** Writes a YAML file in the federation directory and returns its path. */
  write(name: string, value: unknown): Promise<string>;
  /** An admin client using `name`'s certificate. */
  admin(name?: string): Promise<AdminClient>;
  close(): Promise<void>;
};

export async function startFederation(options: { readonly parties: readonly PartySetup[]; readonly log?: Logger; readonly stepTimeoutMs?: number }): Promise<Federation> {
  const dir = await mkdtemp(join(tmpdir(), 'tandem-fed-'));
  const log = options.log ?? silentLogger();
  const names = options.parties.map((p) => p.name);
  const certs = join(dir, 'certs');
  await initCertificates({ outDir: certs, parties: names, extraNames: ['admin'] });
  const certsOf = (n: string): Record<string, string> => ({ ca: join(certs, 'ca.crt'), cert: join(certs, `${n}.crt`), key: join(certs, `${n}.key`) });
  const write = async (name: string, value: unknown): Promise<string> => {
    const file = join(dir, name);
    await writeFile(file, typeof value === 'string' ? value : stringify(value));
    return file;
  };
  const coordinatorFile = await write('coordinator.yaml', {
    coordinator: { listen: '127.0.0.1:0', dataDir: join(dir, 'coordinator'), certs: certsOf('coordinator'), admins: ['admin'], parties: names, heartbeatIntervalMs: 500 },
  });
  const coordinator = await startCoordinator(coordinatorFile, log);
  const address = `127.0.0.1:${coordinator.port}`;
  const parties = new Map<string, PartyNode>();
  for (const p of options.parties) {
    const file = await write(`${p.name}.yaml`, {
      node: { name: p.name, coordinator: address, coordinatorName: 'coordinator', dataDir: join(dir, p.name), certs: certsOf(p.name), heartbeatIntervalMs: 500 },
      datasets: p.datasets,
    });
    parties.set(p.name, await startPartyNode(file, { log, ...(options.stepTimeoutMs === undefined ? {} : { stepTimeoutMs: options.stepTimeoutMs }) }));
  }
  return {
    dir, coordinator, parties, address, write,
    admin: (name = 'admin') => AdminClient.connect({ coordinator: address, ...certsOf(name) }),
    close: async () => {
      for (const p of parties.values()) await p.close();
      await coordinator.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
