import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initCertificates } from '../runtime/certificate-authority.ts';
import { loadNodeIdentity, type NodeIdentity } from '../runtime/certs.ts';
import { bearerToken, syntheticServing, writeServingFixture } from '../test/support/serving.ts';
import { ServeMetrics } from './metrics.ts';
import {
  announceEndpoint,
  runningEndpoints,
  scrapeEndpoint,
  summarizeMetrics,
  type RunningEndpoint,
} from './running.ts';
import { startServing } from './serve.ts';

let dir: string;
let brand: NodeIdentity;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tandem-running-'));
  await initCertificates({ outDir: join(dir, 'certs'), parties: ['brand', 'partner'] });
  const { parts, data } = syntheticServing({ hosts: 20, shared: 10, guestOnly: 5 });
  await writeServingFixture(dir, parts, data);
  brand = await loadNodeIdentity({
    ca: join(dir, 'certs', 'ca.crt'),
    cert: join(dir, 'certs', 'brand.crt'),
    key: join(dir, 'certs', 'brand.key'),
  });
}, 60_000);
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('the running endpoints a console shows', () => {
  it("summarises an endpoint's metrics: requests by route without health and scrapes, failures, latency bounds, rows, host calls, lookups", async () => {
    const metrics = new ServeMetrics({ processMetrics: false });
    metrics.requests('score', '200').add(98);
    metrics.requests('score', '400').add(2);
    metrics.requests('health', '200').add(50);
    metrics.requests('metrics', '200').add(7);
    for (let i = 0; i < 100; i++) metrics.latency('score').observe(i < 60 ? 0.0008 : i < 99 ? 0.004 : 0.2);
    metrics.rowsScored(true).add(95);
    metrics.rowsScored(false).add(3);
    metrics.hostCalls('partner', 'ok').add(95);
    metrics.hostCalls('partner', 'timeout').add(3);
    metrics.lookups('brand', 'answered').add(40);
    metrics.lookups('brand', 'rate-limited').add(4);
    expect(summarizeMetrics(await metrics.render())).toEqual({
      requests: { score: 100 },
      failed: 2,
      latency: { route: 'score', p50Ms: 1, p99Ms: 5 },
      rowsScored: { complete: 95, fallback: 3 },
      hostCalls: { ok: 95, timeout: 3 },
      lookups: { answered: 40, rateLimited: 4 },
      residentBytes: null,
      cpuSeconds: null,
    });
  });

  it('lists each running endpoint of the node, 0600 in 0700, reads its metrics as the node (token or mTLS), and forgets it on close', async () => {
    const host = await startServing({
      modelDir: join(dir, 'partner-model'),
      configFile: join(dir, 'partner.yaml'),
      port: 0,
      peerPort: 0,
      publicAuth: 'mtls',
    });
    const guest = await startServing({
      modelDir: join(dir, 'brand-model'),
      configFile: join(dir, 'brand.yaml'),
      port: 0,
      hostEndpoints: { partner: `https://127.0.0.1:${host.peerPort ?? 0}` },
    });
    try {
      const brandData = join(dir, 'brand-data');
      const [listed] = await runningEndpoints(brandData);
      expect(listed).toMatchObject({
        pid: process.pid,
        jobId: guest.model.manifest.jobId,
        role: 'guest',
        party: 'brand',
        modelDir: join(dir, 'brand-model'),
        listen: '127.0.0.1',
        port: guest.port,
        peerPort: null,
        auth: 'token',
        tokenFile: guest.tokens?.file,
      });
      const running = join(brandData, 'serving', 'running');
      expect((await stat(running)).mode & 0o777).toBe(0o700);
      const [file] = await readdir(running);
      expect((await stat(join(running, file ?? ''))).mode & 0o777).toBe(0o600);
      const token = await bearerToken(guest.tokens?.file ?? '');
      const scored = await fetch(`http://127.0.0.1:${guest.port}/v1/score`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}` },
        body: JSON.stringify({ id: 'h0', features: { x0: 0.5 } }),
      });
      expect(scored.status).toBe(200);
      const seen = await scrapeEndpoint(listed as RunningEndpoint, brand);
      expect(seen).toMatchObject({ requests: { score: 1 }, failed: 0, rowsScored: { complete: 1, fallback: 0 } });
      expect(seen.hostCalls).toEqual({ ok: 1 });
      expect(seen.residentBytes).toBeGreaterThan(0);
      // The host's public port takes client certificates: the console reads it with the host node's own.
      const [hostListed] = await runningEndpoints(join(dir, 'partner-data'));
      expect(hostListed).toMatchObject({ role: 'host', auth: 'mtls', tokenFile: null, peerPort: host.peerPort });
      const partner = await loadNodeIdentity({
        ca: join(dir, 'certs', 'ca.crt'),
        cert: join(dir, 'certs', 'partner.crt'),
        key: join(dir, 'certs', 'partner.key'),
      });
      expect((await scrapeEndpoint(hostListed as RunningEndpoint, partner)).lookups).toEqual({
        answered: 1,
        rateLimited: 0,
      });
      // Another node's certificate is not this endpoint's operator.
      await expect(scrapeEndpoint(hostListed as RunningEndpoint, brand)).rejects.toThrow();
    } finally {
      await guest.close();
      await host.close();
    }
    expect(await runningEndpoints(join(dir, 'brand-data'))).toEqual([]);
    expect(await readdir(join(dir, 'brand-data', 'serving', 'running'))).toEqual([]);
  });

  it('skips an endpoint whose process has died, or whose pid now belongs to another process', async () => {
    const dataDir = join(dir, 'stale');
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']).stdout.toString();
    const entry = (pid: number, startTicks: string | null): RunningEndpoint => ({
      pid,
      startTicks,
      jobId: 'job-x',
      jobName: 'x',
      role: 'guest',
      party: 'brand',
      modelDir: '/nowhere',
      listen: '127.0.0.1',
      port: 1,
      peerPort: null,
      grpcPort: null,
      auth: 'token',
      tokenFile: null,
      startedAt: new Date().toISOString(),
    });
    announceEndpoint(dataDir, entry(Number(dead), null));
    announceEndpoint(dataDir, { ...entry(process.pid, '1'), port: 2 });
    await writeFile(join(dataDir, 'serving', 'running', 'half-written.json'), '{"pid": ');
    expect(await runningEndpoints(dataDir)).toEqual([]);
    const mine = announceEndpoint(dataDir, { ...entry(process.pid, null), port: 3 });
    expect((await runningEndpoints(dataDir)).map((e) => e.port)).toEqual([3]);
    mine();
  });
});
