/**
 * docker-compose.yml describes a working system: this test reads it, starts
 * every service's command with its own mounts, environment and healthcheck
 * as local processes on loopback (container paths mapped to a temp tree,
 * service names to 127.0.0.1, container ports to free local ports), and runs
 * a small job through them. There is no Docker engine on CI machines; the
 * file's syntax is checked by `docker-compose config` in .ci/run.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { parse, stringify } from 'yaml';
import { gunzipSync } from 'node:zlib';
import { freePort } from '../support/processes.ts';
import { bearerToken } from '../support/serving.ts';

const ROOT = resolve(import.meta.dirname, '..', '..');
const BIN = join(ROOT, 'bin', 'tandem.mjs');

type Service = {
  command: string[];
  entrypoint?: string[];
  environment?: Record<string, string>;
  volumes?: string[];
  ports?: string[];
  expose?: string[];
  profiles?: string[];
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test: string[] };
};

describe('docker-compose.yml as local processes', () => {
  let dir: string;
  let services: Record<string, Service>;
  const running: ChildProcess[] = [];
  const ports = new Map<string, number>(); // "service:container port" → local port
  const logs = new Map<string, string[]>();

  /** Builds <dir>/<service>/… mirroring the container's mounts; returns the container→host path mapper. */
  async function mount(name: string): Promise<(p: string) => string> {
    const root = join(dir, 'containers', name);
    for (const volume of services[name]?.volumes ?? []) {
      const [source = '', target = ''] = volume.split(':');
      const host = source.startsWith('.') ? join(dir, 'repo', source) : join(dir, 'volumes', source);
      await mkdir(source.startsWith('.') && /\.\w+$/.test(source) ? dirname(host) : host, { recursive: true });
      await mkdir(dirname(join(root, target)), { recursive: true });
      await symlink(host, join(root, target)).catch(() => undefined);
    }
    return (p) => (p.startsWith('/') && !p.startsWith('/app/') ? join(root, p) : p);
  }

  /** Rewrites container addresses for running `self` on loopback: own ports and other services' ports become local ports. */
  function local(self: string, text: string): string {
    return text
      .replace(/\b(0\.0\.0\.0|127\.0\.0\.1|localhost):(\d+)\b/g, (m, _h: string, port: string) =>
        ports.has(`${self}:${port}`) ? `127.0.0.1:${ports.get(`${self}:${port}`)}` : m,
      )
      .replace(/\b([a-z][\w-]*):(\d+)\b/g, (m, host: string, port: string) =>
        host in services && ports.has(`${host}:${port}`) ? `127.0.0.1:${ports.get(`${host}:${port}`)}` : m,
      );
  }

  function environment(name: string): NodeJS.ProcessEnv {
    const env: NodeJS.ProcessEnv = { ...process.env, FORCE_COLOR: '0' };
    for (const [key, value] of Object.entries(services[name]?.environment ?? {})) env[key] = local(name, value);
    return env;
  }

  /** The service's argv as a local `node bin/tandem.mjs …` invocation. */
  function argv(name: string, args: readonly string[], map: (p: string) => string): string[] {
    const service = services[name] as Service;
    const entry = service.entrypoint ?? ['node', '/app/bin/tandem.mjs'];
    expect(entry.slice(0, 2)).toEqual(['node', '/app/bin/tandem.mjs']);
    const out = args.map((arg, k) => {
      if (['--port', '--peer-port'].includes(args[k - 1] ?? '')) return String(ports.get(`${name}:${arg}`) ?? arg);
      if (args[k - 1] === '--listen' || args[k - 1] === '--peer-listen') return '127.0.0.1';
      return local(name, map(arg));
    });
    return [BIN, ...out];
  }

  async function start(name: string): Promise<ChildProcess> {
    const service = services[name] as Service;
    const map = await mount(name);
    const out: string[] = [];
    logs.set(name, out);
    const child = spawn(process.execPath, argv(name, service.command, map), { env: environment(name) });
    child.stdout?.on('data', (d: Buffer) => out.push(d.toString()));
    child.stderr?.on('data', (d: Buffer) => out.push(d.toString()));
    running.push(child);
    return child;
  }

  async function healthy(name: string): Promise<void> {
    const service = services[name] as Service;
    const test = service.healthcheck?.test ?? [];
    expect(test[0]).toBe('CMD');
    const map = await mount(name);
    const deadline = Date.now() + 30_000;
    for (;;) {
      const run = spawnSync(process.execPath, argv(name, test.slice(3), map), {
        env: environment(name),
        encoding: 'utf8',
      });
      if (run.status === 0) return;
      if (Date.now() > deadline)
        throw new Error(`${name} never became healthy: ${run.stdout}${run.stderr}\n${logs.get(name)?.join('') ?? ''}`);
      await new Promise((r) => setTimeout(r, 300));
    }
  }

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tandem-compose-'));
    const compose = parse(await readFile(join(ROOT, 'docker-compose.yml'), 'utf8'), { merge: true }) as {
      services: Record<string, Service>;
    };
    services = compose.services;
    // The bind-mounted sources, as a fresh checkout has them (certs are made by the setup service).
    await mkdir(join(dir, 'repo', 'examples', 'deploy'), { recursive: true });
    for (const file of ['coordinator.yaml', 'brand.yaml', 'partner.yaml', 'job.yaml']) {
      await writeFile(
        join(dir, 'repo', 'examples', 'deploy', file),
        await readFile(join(ROOT, 'examples', 'deploy', file)),
      );
    }
    await symlink(join(ROOT, 'examples', 'data'), join(dir, 'repo', 'examples', 'data'));
    for (const [name, service] of Object.entries(services)) {
      for (const container of [
        ...(service.ports ?? []).map((m) => m.split(':').at(-1) ?? ''),
        ...(service.expose ?? []),
      ]) {
        ports.set(`${name}:${container}`, await freePort());
      }
    }
  }, 60_000);

  afterAll(async () => {
    for (const child of running) if (child.exitCode === null) child.kill('SIGTERM');
    await Promise.all(
      running.map((c) => (c.exitCode === null ? new Promise((r) => c.once('exit', r)) : Promise.resolve())),
    );
    await rm(dir, { recursive: true, force: true });
  });

  it("publishes only the scoring endpoints' public ports, and only to the host's loopback", () => {
    const published = Object.entries(services).flatMap(([name, s]) => (s.ports ?? []).map((p) => `${name} ${p}`));
    expect(published.sort()).toEqual(['brand-score 127.0.0.1:8080:8080', 'partner-score 127.0.0.1:8081:8081']);
    // The partner's peer port is for brand-score, on the Docker network; the coordinator's for the parties.
    expect(services['partner-score']?.expose).toEqual(['8443']);
    expect(services['coordinator']?.expose).toEqual(['7443']);
    expect(services['partner-score']?.command).toEqual(
      expect.arrayContaining(['--peer-listen', '0.0.0.0', '--peer-port', '8443']),
    );
  });

  it('starts every service from its compose definition and trains through them', { timeout: 240_000 }, async () => {
    // One-shot setup services first (profile "setup"), then the rest in dependency order.
    const setup = Object.keys(services).filter((n) => services[n]?.profiles?.includes('setup'));
    expect(setup).toEqual(['certs']);
    const certs = await start('certs');
    const code = await new Promise<number | null>((r) => certs.once('exit', r));
    expect(code, logs.get('certs')?.join('')).toBe(0);

    const scoring = Object.keys(services).filter((n) => services[n]?.profiles?.includes('scoring'));
    expect(scoring.sort()).toEqual(['brand-score', 'partner-score']);
    const order = Object.keys(services).filter((n) => !setup.includes(n) && !scoring.includes(n));
    expect(order).toEqual(['coordinator', 'brand', 'partner']);
    for (const name of order) {
      for (const dependency of Object.keys(services[name]?.depends_on ?? {})) await healthy(dependency);
      await start(name);
    }
    for (const name of order) await healthy(name);

    // A small job, submitted the way the compose file's header says (as the brand).
    const map = await mount('brand');
    const spec = parse(await readFile(join(ROOT, 'examples', 'deploy', 'job.yaml'), 'utf8')) as Record<string, unknown>;
    const small = join(dir, 'containers', 'brand', 'srv', 'tandem', 'small-job.yaml');
    await writeFile(
      small,
      stringify({ ...spec, name: 'compose-test', training: { ...(spec['training'] as object), maxEpochs: 2 } }),
    );
    const submit = spawnSync(
      process.execPath,
      argv(
        'brand',
        ['job', 'submit', '/srv/tandem/small-job.yaml', '--config', '/srv/tandem/config/brand.yaml', '--wait'],
        map,
      ),
      { env: environment('brand'), encoding: 'utf8', timeout: 200_000 },
    );
    expect(
      submit.status,
      `${submit.stdout}\n${submit.stderr}\n${[...logs.entries()].map(([n, l]) => `--- ${n}\n${l.join('').slice(-3000)}`).join('\n')}`,
    ).toBe(0);
    expect(submit.stdout).toMatch(/compose-test\): completed/);
    expect(Number(/AUC\s+[0-9.]+\s+([0-9.]+)/.exec(submit.stdout)?.[1])).toBeGreaterThan(0.68);

    // Each party exports its part into its data volume, as the compose header says…
    const jobId = /job (job-[0-9a-f]+) \(compose-test\)/.exec(submit.stdout)?.[1] ?? '';
    for (const party of ['brand', 'partner']) {
      const exportArgs = [
        'model',
        'export',
        '--config',
        `/srv/tandem/config/${party}.yaml`,
        '--job',
        jobId,
        '--out',
        '/srv/tandem/data/model',
      ];
      const exported = spawnSync(process.execPath, argv(party, exportArgs, await mount(party)), {
        env: environment(party),
        encoding: 'utf8',
      });
      expect(exported.status, exported.stderr).toBe(0);
    }
    // …then the scoring services start (in dependency order) and the brand's endpoint scores a user.
    for (const name of ['partner-score', 'brand-score']) {
      for (const dependency of Object.keys(services[name]?.depends_on ?? {})) await healthy(dependency);
      await start(name);
      await healthy(name);
    }
    const [header = '', row = ''] = gunzipSync(
      await readFile(join(ROOT, 'examples', 'data', 'default_credit_guest.csv.gz')),
    )
      .toString('utf8')
      .split('\n');
    const columns = header.split(',');
    const cells = row.split(',');
    const features = Object.fromEntries(
      columns.flatMap((c, k) => (c === 'id' || c === 'y' ? [] : [[c, cells[k] ?? '']])),
    );
    // As the brand's web stack would: with a token from the endpoint's token file (in the brand's data volume), and refused without one.
    const url = `http://127.0.0.1:${ports.get('brand-score:8080')}/v1/score`;
    const body = JSON.stringify({ id: cells[0], features });
    expect((await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body })).status).toBe(
      401,
    );
    const token = await bearerToken(join(dir, 'volumes', 'brand-data', 'serving', 'tokens'));
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body,
    });
    const scored = (await response.json()) as { probability: number; complete: boolean; hosts: Record<string, string> };
    expect(response.status, JSON.stringify(scored)).toBe(200);
    expect(scored.complete).toBe(true);
    expect(scored.hosts).toEqual({ partner: 'ok' });
    expect(scored.probability).toBeGreaterThan(0);
    expect(scored.probability).toBeLessThan(1);
  });
});
