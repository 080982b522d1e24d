/**
 * Starts a coordinator: identity, job store, audit log, hub, job service and
 * the gRPC server, from one config file.
 */
import { writeFile } from 'node:fs/promises';
import { acquireNodeLock } from '../runtime/node-lock.ts';
import { join } from 'node:path';
import { ConfigError } from '../protocol/errors.ts';
import { compileWireLimits } from '../protocol/wire/chunking.ts';
import { loadNodeIdentity } from '../runtime/certs.ts';
import { AuditLog } from '../audit/log.ts';
import type { Logger } from '../runtime/logger.ts';
import { loadCoordinatorConfig, type CoordinatorConfig } from './config.ts';
import { JobStore } from './job-store.ts';
import { Hub } from './hub.ts';
import { JobService } from './jobs.ts';
import { startCoordinatorServer } from './grpc-server.ts';

export type CoordinatorNode = { readonly port: number; readonly config: CoordinatorConfig; close(): Promise<void> };

export async function startCoordinator(configFile: string, log: Logger): Promise<CoordinatorNode> {
  const config = await loadCoordinatorConfig(configFile);
  const identity = await loadNodeIdentity(config.certs);
  if (identity.name !== config.name) {
    throw new ConfigError('CONFIG_INVALID', {
      file: configFile,
      field: 'coordinator.name',
      problem: `is "${config.name}" but the certificate is for "${identity.name}"`,
      fix: `set coordinator.name: ${identity.name}`,
    });
  }
  const limits = compileWireLimits({ maxChunkBytes: config.maxChunkBytes, maxMessageBytes: config.maxMessageBytes });
  const lock = acquireNodeLock(config.dataDir, config.name, log);
  // A start that fails half-way (a damaged store, a port in use) closes what it opened and frees the directory.
  const opened: Array<{ close(): void }> = [{ close: () => lock.release() }];
  let parts;
  try {
    const store = new JobStore(join(config.dataDir, 'jobs.sqlite'), log);
    opened.unshift(store);
    const audit = new AuditLog(
      join(config.dataDir, 'audit', `${config.name}.audit.jsonl`),
      config.name,
      identity.privateKey,
    );
    opened.unshift(audit);
    const hub = new Hub({
      limits,
      audit,
      log,
      heartbeatIntervalMs: config.heartbeatIntervalMs,
      parties: config.parties,
      store,
    });
    opened.unshift(hub);
    const jobs = new JobService({
      store,
      hub,
      log,
      admins: config.admins,
      parties: config.parties,
      peerGraceMs: config.peerGraceMs,
    });
    opened.unshift(jobs);
    await jobs.resume();
    const server = await startCoordinatorServer({
      listen: config.listen,
      identity,
      hub,
      jobs,
      store,
      audit,
      log,
      limits,
      admins: config.admins,
      parties: config.parties,
    });
    parts = { store, audit, jobs, server };
  } catch (error) {
    for (const part of opened) part.close();
    throw error;
  }
  const { store, audit, jobs, server } = parts;
  if (config.portFile !== undefined) await writeFile(config.portFile, `${server.port}\n`);
  log.info(
    { address: config.listen.replace(/:\d+$/, `:${server.port}`), parties: config.parties ?? 'any' },
    'coordinator listening',
  );
  return {
    port: server.port,
    config,
    close: async () => {
      await server.close();
      jobs.close();
      store.close();
      audit.close();
      lock.release();
      log.info('coordinator stopped');
    },
  };
}
