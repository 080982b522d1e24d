/**
 * A federation whose roles are separate OS processes — `tandem coordinator
 * start` and one `tandem party start` per party, exactly as deployed, over
 * loopback gRPC with mTLS — so that each role's CPU time and peak memory can
 * be read from the kernel: /proc/<pid>/stat (utime + stime, every thread
 * including worker threads) and /proc/<pid>/status (VmHWM, the peak resident
 * set). Linux only.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { initCertificates } from '../../runtime/certificate-authority.ts';
import { AdminClient } from '../../runtime/admin-client.ts';

const BIN = join(import.meta.dirname, '..', '..', 'bin', 'tandem.mjs');
const CLOCK_TICKS = 100; // USER_HZ on Linux

export type RoleUsage = {
  /** CPU seconds (user + system) of the whole process so far. */
  readonly cpuSeconds: number;
  /** Resident set now and at its peak, bytes. */
  readonly rssBytes: number;
  readonly peakRssBytes: number;
};

export type RoleProcess = {
  readonly name: string;
  readonly child: ChildProcess;
  readonly log: string;
  usage(): Promise<RoleUsage>;
  /** From its JSON log: when each job phase was first and last logged (epoch ms). */
  phases(): Promise<Map<string, { first: number; last: number }>>;
};

/** Every role's /proc counters every `intervalMs`, to read CPU time between any two instants. */
export class UsageSampler {
  readonly #roles: readonly RoleProcess[];
  readonly #samples = new Map<string, Array<{ at: number; cpuSeconds: number }>>();
  readonly #timer: NodeJS.Timeout;

  constructor(roles: readonly RoleProcess[], intervalMs = 250) {
    this.#roles = roles;
    for (const r of roles) this.#samples.set(r.name, []);
    this.#timer = setInterval(() => void this.sample(), intervalMs);
  }

  async sample(): Promise<void> {
    await Promise.all(
      this.#roles.map(async (r) => {
        const at = Date.now();
        const usage = await r.usage().catch(() => undefined);
        if (usage !== undefined) this.#samples.get(r.name)?.push({ at, cpuSeconds: usage.cpuSeconds });
      }),
    );
  }

  /** CPU seconds `role` spent from the last sample at or before `from` to the first at or after `to` (slightly more, never less). */
  cpuBetween(role: string, from: number, to: number): number {
    const samples = this.#samples.get(role) ?? [];
    const before = samples.findLast((s) => s.at <= from) ?? samples[0];
    const after = samples.find((s) => s.at >= to) ?? samples.at(-1);
    return before === undefined || after === undefined ? NaN : after.cpuSeconds - before.cpuSeconds;
  }

  stop(): void {
    clearInterval(this.#timer);
  }
}

async function phasesOf(logFile: string): Promise<Map<string, { first: number; last: number }>> {
  const phases = new Map<string, { first: number; last: number }>();
  for (const line of (await readFile(logFile, 'utf8')).split('\n')) {
    if (!line.startsWith('{')) continue;
    const record = JSON.parse(line) as { phase?: unknown; time?: unknown };
    if (typeof record.phase !== 'string' || typeof record.time !== 'number') continue;
    const seen = phases.get(record.phase);
    phases.set(record.phase, { first: seen?.first ?? record.time, last: record.time });
  }
  return phases;
}

export type ProcessFederation = {
  readonly dir: string;
  readonly roles: readonly RoleProcess[];
  /** Writes a YAML file in the federation directory and returns its path. */
  write(name: string, value: unknown): Promise<string>;
  admin(): Promise<AdminClient>;
  close(): Promise<void>;
};

export type ProcessParty = {
  readonly name: string;
  readonly datasets: Record<string, unknown>;
  readonly node?: Record<string, unknown> | undefined;
};

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no free port');
  return address.port;
}

async function usageOf(pid: number): Promise<RoleUsage> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const cpuSeconds = (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const kib = (key: string): number => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN) * 1024;
  return { cpuSeconds, rssBytes: kib('VmRSS'), peakRssBytes: kib('VmHWM') };
}

/**
 * Starts `tandem <args>` and resolves once its log shows `ready` (or rejects if it exits first).
 * @param profileDir where to write V8 CPU profiles of the role (and its worker threads) when it stops;
 *   '' for none. @default TANDEM_SCALE_CPU_PROF
 */
export function startRole(
  name: string,
  args: readonly string[],
  logFile: string,
  ready: string,
  profileDir = process.env['TANDEM_SCALE_CPU_PROF'],
): Promise<RoleProcess> {
  const profile =
    profileDir === undefined || profileDir === '' ? [] : ['--cpu-prof', '--cpu-prof-dir', join(profileDir, name)];
  const child = spawn(process.execPath, [...profile, BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  // If the benchmark dies (Ctrl-C, a crash), its nodes go with it.
  const orphanGuard = (): void => void child.kill('SIGTERM');
  process.once('exit', orphanGuard);
  child.once('exit', () => process.off('exit', orphanGuard));
  const log = createWriteStream(logFile);
  return new Promise((resolve, reject) => {
    let seen = '';
    const role: RoleProcess = {
      name,
      child,
      log: logFile,
      usage: () => usageOf(child.pid ?? 0),
      phases: () => phasesOf(logFile),
    };
    // The logger writes JSON lines to stderr; stdout is kept too.
    child.stdout?.pipe(log);
    child.stderr?.on('data', (chunk: Buffer) => {
      log.write(chunk);
      if (seen !== 'ready') {
        seen = (seen + chunk.toString('utf8')).slice(-4096);
        if (seen.includes(ready)) {
          seen = 'ready';
          resolve(role);
        }
      }
    });
    child.once('exit', (code) =>
      reject(new Error(`${name} exited with code ${code} before it was ready; see ${logFile}`)),
    );
  });
}

/** Certificates, configs, then the coordinator and every party as child processes. */
export async function startProcessFederation(parties: readonly ProcessParty[]): Promise<ProcessFederation> {
  const dir = await mkdtemp(join(tmpdir(), 'tandem-scale-'));
  const certs = join(dir, 'certs');
  await initCertificates({ outDir: certs, parties: parties.map((p) => p.name), extraNames: ['admin'] });
  const certsOf = (n: string): { ca: string; cert: string; key: string } => ({
    ca: join(certs, 'ca.crt'),
    cert: join(certs, `${n}.crt`),
    key: join(certs, `${n}.key`),
  });
  const write = async (name: string, value: unknown): Promise<string> => {
    const file = join(dir, name);
    await writeFile(file, stringify(value));
    return file;
  };
  const port = await freePort();
  const address = `127.0.0.1:${port}`;
  const roles: RoleProcess[] = [];
  const close = async (): Promise<void> => {
    for (const r of roles.toReversed()) {
      if (r.child.exitCode !== null) continue;
      const exited = new Promise((resolve) => r.child.once('exit', resolve));
      r.child.kill('SIGTERM');
      await exited;
    }
    await rm(dir, { recursive: true, force: true });
  };
  try {
    const coordinatorFile = await write('coordinator.yaml', {
      coordinator: {
        listen: address,
        dataDir: join(dir, 'coordinator'),
        certs: certsOf('coordinator'),
        admins: ['admin'],
        parties: parties.map((p) => p.name),
        heartbeatIntervalMs: 1000,
      },
    });
    roles.push(
      await startRole(
        'coordinator',
        ['coordinator', 'start', '--config', coordinatorFile, '--log-level', 'info'],
        join(dir, 'coordinator.log'),
        'listening',
      ),
    );
    for (const p of parties) {
      const file = await write(`${p.name}.yaml`, {
        node: {
          name: p.name,
          coordinator: address,
          coordinatorName: 'coordinator',
          dataDir: join(dir, p.name),
          certs: certsOf(p.name),
          heartbeatIntervalMs: 1000,
          ...p.node,
        },
        datasets: p.datasets,
      });
      roles.push(
        await startRole(
          p.name,
          ['party', 'start', '--config', file, '--log-level', 'info'],
          join(dir, `${p.name}.log`),
          'connected to the coordinator',
        ),
      );
    }
  } catch (error) {
    await close();
    throw error;
  }
  return { dir, roles, write, admin: () => AdminClient.connect({ coordinator: address, ...certsOf('admin') }), close };
}
