import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { silentLogger } from '../runtime/logger.ts';
import { DataError } from '../protocol/errors.ts';
import { startHttpServer } from './http-server.ts';
import { ServeMetrics } from './metrics.ts';

describe('the HTTP adapter', () => {
  it('decodes, calls the route, maps a catalogued failure to its status and public message, and counts both', async () => {
    const metrics = new ServeMetrics();
    const server = await startHttpServer({
      metrics, log: silentLogger(), port: 0,
      routes: [
        { method: 'POST', path: '/echo', name: 'echo', handle: (req) => ({ json: req.body(z.strictObject({ n: z.number() })) }) },
        { method: 'GET', path: '/fail', name: 'fail', handle: () => {
          throw new DataError('DATA_VALUE_INVALID', { file: '/secret/path.csv', problem: 'bad', fix: 'fix it' });
        } },
      ],
    });
    try {
      const url = `http://127.0.0.1:${server.port}`;
      expect(await (await fetch(`${url}/echo`, { method: 'POST', body: '{"n":3}' })).json()).toEqual({ n: 3 });
      const bad = await fetch(`${url}/echo`, { method: 'POST', body: '{"n":"x"}' });
      expect(bad.status).toBe(400);
      expect(await bad.json()).toEqual({ error: { code: 'ARGUMENT_INVALID', message: 'n: Invalid input: expected number, received string' } });
      const failed = await fetch(`${url}/fail`);
      expect(failed.status).toBe(400);
      expect(await failed.text()).not.toContain('/secret/path.csv');
      expect((await fetch(`${url}/nope`)).status).toBe(400);
      expect(metrics.requests.get({ route: 'echo', status: '200' })).toBe(1);
      expect(metrics.errors.get({ route: 'fail', code: 'DATA_VALUE_INVALID' })).toBe(1);
      expect(metrics.render()).toMatch(/tandem_serve_request_duration_seconds_count\{route="echo"\} 2/);
    } finally {
      await server.close(0);
    }
  });

  it('lets an in-flight request finish on close, then stops listening', async () => {
    let release: () => void = () => undefined;
    const server = await startHttpServer({
      metrics: new ServeMetrics(), log: silentLogger(), port: 0,
      routes: [{ method: 'GET', path: '/slow', name: 'slow', handle: () => new Promise((resolve) => (release = () => resolve({ json: { done: true } }))) }],
    });
    const url = `http://127.0.0.1:${server.port}/slow`;
    const inFlight = fetch(url);
    await new Promise((resolve) => setTimeout(resolve, 50));
    const closed = server.close(5_000);
    expect(server.draining).toBe(true);
    setTimeout(() => release(), 50);
    const res = await inFlight;
    expect(await res.json()).toEqual({ done: true });
    await closed;
    await expect(fetch(url)).rejects.toThrow();
  });
});
