import { describe, expect, it } from 'vitest';
import { connect, type Socket } from 'node:net';
import { z } from 'zod';
import { silentLogger } from '../runtime/logger.ts';
import { DataError, TandemError } from '../protocol/errors.ts';
import type { Action, Caller } from './access.ts';
import { startHttpServer, type HttpServerOptions, type Route } from './http-server.ts';
import { ServeMetrics } from './metrics.ts';
import { capturingLogger, series } from '../test/support/serving.ts';

const echo: Route = {
  method: 'POST',
  path: '/echo',
  name: 'echo',
  action: 'score',
  handle: (req) => ({ json: req.body(z.strictObject({ n: z.number() })) }),
};
const openAuth = { authenticate: (): Caller => ({ kind: 'token', name: 'test' }), authorize: (): void => undefined };

async function withServer(
  options: Partial<HttpServerOptions> & { routes: readonly Route[] },
  run: (url: string, metrics: ServeMetrics, port: number) => Promise<void>,
): Promise<void> {
  const metrics = new ServeMetrics({ processMetrics: false });
  const server = await startHttpServer({ metrics, log: silentLogger(), port: 0, ...openAuth, ...options });
  try {
    await run(`http://127.0.0.1:${server.port}`, metrics, server.port);
  } finally {
    await server.close(0);
  }
}

/** A raw TCP client: writes `text`, resolves with everything the server sends until it closes the connection. */
function rawExchange(
  port: number,
  text: string,
  keepOpenMs: number,
): Promise<{ response: string; closedAfterMs: number }> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const socket: Socket = connect(port, '127.0.0.1', () => socket.write(text));
    let response = '';
    socket.on('data', (c: Buffer) => (response += c.toString()));
    socket.on('error', reject);
    socket.on('close', () => resolve({ response, closedAfterMs: Date.now() - started }));
    setTimeout(() => socket.destroy(), keepOpenMs).unref();
  });
}

describe('the HTTP adapter', () => {
  it('decodes, calls the route, maps a catalogued failure to its status and public message, and counts both', async () => {
    const fail: Route = {
      method: 'GET',
      path: '/fail',
      name: 'fail',
      action: 'score',
      handle: () => {
        throw new DataError('DATA_VALUE_INVALID', { file: '/secret/path.csv', problem: 'bad', fix: 'fix it' });
      },
    };
    await withServer({ routes: [echo, fail] }, async (url, metrics) => {
      expect(await (await fetch(`${url}/echo`, { method: 'POST', body: '{"n":3}' })).json()).toEqual({ n: 3 });
      const bad = await fetch(`${url}/echo`, { method: 'POST', body: '{"n":"x"}' });
      expect(bad.status).toBe(400);
      expect(await bad.json()).toEqual({
        error: { code: 'ARGUMENT_INVALID', message: 'n: Invalid input: expected number, received string' },
      });
      const notJson = await fetch(`${url}/echo`, { method: 'POST', body: '{"n":' });
      expect(await notJson.json()).toEqual({
        error: { code: 'ARGUMENT_INVALID', message: 'the request body is not valid JSON' },
      });
      const failed = await fetch(`${url}/fail`);
      expect(failed.status).toBe(400);
      expect(await failed.text()).not.toContain('/secret/path.csv');
      expect(await series(metrics, 'tandem_serve_requests_total', { route: 'echo', status: '200' })).toBe(1);
      expect(await series(metrics, 'tandem_serve_errors_total', { route: 'fail', code: 'DATA_VALUE_INVALID' })).toBe(1);
      expect(await metrics.render()).toMatch(/tandem_serve_request_duration_seconds_count\{route="echo"\} 3/);
    });
  });

  it('answers an unknown path or method with 404 ROUTE_NOT_FOUND, not 400, and takes path parameters as long as ids', async () => {
    const byId: Route = {
      method: 'GET',
      path: '/user/:id',
      name: 'user',
      action: 'audience',
      handle: (req) => ({ json: { id: req.params['id'] } }),
    };
    await withServer({ routes: [echo, byId] }, async (url, metrics) => {
      const id = `u ${'x'.repeat(510)}`;
      expect(await (await fetch(`${url}/user/${encodeURIComponent(id)}`)).json()).toEqual({ id });
      const nope = await fetch(`${url}/nope`);
      expect(nope.status).toBe(404);
      expect(await nope.json()).toEqual({ error: { code: 'ROUTE_NOT_FOUND', message: 'no such endpoint: GET /nope' } });
      expect((await fetch(`${url}/echo`)).status).toBe(404);
      expect(await series(metrics, 'tandem_serve_requests_total', { route: 'unknown', status: '404' })).toBe(2);
    });
  });

  it('answers a body over the limit with 413 and a JSON error, not a reset, and counts it once', async () => {
    await withServer({ routes: [echo], maxBodyBytes: 1024 }, async (url, metrics) => {
      const body = JSON.stringify({ n: 1, pad: 'x'.repeat(4096) });
      // With a content-length…
      const declared = await fetch(`${url}/echo`, { method: 'POST', body });
      expect(declared.status).toBe(413);
      expect(await declared.json()).toEqual({
        error: { code: 'MESSAGE_TOO_LARGE', message: 'the request body exceeds 1024 bytes' },
      });
      // …and streamed without one (chunked): the limit is found while reading.
      const stream = new ReadableStream<Uint8Array>({
        start(controller) {
          for (let k = 0; k < 8; k++) controller.enqueue(new TextEncoder().encode(body.slice(k * 600, (k + 1) * 600)));
          controller.close();
        },
      });
      const chunked = await fetch(`${url}/echo`, { method: 'POST', body: stream, duplex: 'half' });
      expect(chunked.status).toBe(413);
      expect(await chunked.json()).toMatchObject({ error: { code: 'MESSAGE_TOO_LARGE' } });
      expect(await series(metrics, 'tandem_serve_requests_total', { route: 'echo', status: '413' })).toBe(2);
      expect(await series(metrics, 'tandem_serve_errors_total', { route: 'echo', code: 'MESSAGE_TOO_LARGE' })).toBe(2);
    });
  });

  it('caps open connections: past the cap, a connection is closed on arrival', async () => {
    await withServer({ routes: [echo], maxConnections: 4 }, async (url, _metrics, port) => {
      const sockets = await Promise.all(
        Array.from(
          { length: 10 },
          () =>
            new Promise<{ socket: Socket; closed: Promise<void> }>((resolve) => {
              const socket = connect(port, '127.0.0.1');
              const closed = new Promise<void>((r) => socket.on('close', () => r()));
              socket.on('error', () => undefined);
              socket.on('connect', () => resolve({ socket, closed }));
            }),
        ),
      );
      await new Promise((r) => setTimeout(r, 200));
      const open = sockets.filter((s) => !s.socket.destroyed && s.socket.readyState === 'open');
      expect(open.length).toBe(4);
      for (const s of sockets) s.socket.destroy();
      await Promise.all(sockets.map((s) => s.closed));
      await new Promise((r) => setTimeout(r, 50));
      expect((await fetch(`${url}/echo`, { method: 'POST', body: '{"n":1}' })).status).toBe(200);
    });
  });

  it('closes a connection whose body stalls midway within the request timeout (408), and an idle one after the keep-alive timeout', async () => {
    await withServer(
      { routes: [echo], requestTimeoutMs: 600, headersTimeoutMs: 500, keepAliveTimeoutMs: 400 },
      async (_url, metrics, port) => {
        const stalled = await rawExchange(
          port,
          'POST /echo HTTP/1.1\r\nhost: x\r\ncontent-length: 100\r\n\r\n{"n":',
          10_000,
        );
        expect(stalled.response).toMatch(/^HTTP\/1\.1 408/);
        expect(stalled.closedAfterMs).toBeLessThan(3_000);
        const idle = await rawExchange(
          port,
          'POST /echo HTTP/1.1\r\nhost: x\r\ncontent-length: 7\r\n\r\n{"n":1}',
          10_000,
        );
        expect(idle.response).toMatch(/^HTTP\/1\.1 200/);
        expect(idle.closedAfterMs).toBeLessThan(3_000);
        // A stalled request is not a server failure.
        expect(await series(metrics, 'tandem_serve_requests_total', { route: 'echo', status: '500' })).toBe(0);
      },
    );
  });

  it('counts a client that goes away mid-body as 499 and logs no internal error', async () => {
    const { log, lines } = capturingLogger();
    await withServer({ routes: [echo], log }, async (_url, metrics, port) => {
      await rawExchange(port, 'POST /echo HTTP/1.1\r\nhost: x\r\ncontent-length: 100\r\n\r\n{"n":', 200);
      await new Promise((r) => setTimeout(r, 200));
      expect(await series(metrics, 'tandem_serve_requests_total', { route: 'echo', status: '499' })).toBe(1);
      expect(await series(metrics, 'tandem_serve_requests_total', { route: 'echo', status: '500' })).toBe(0);
      expect(await series(metrics, 'tandem_serve_errors_total', { route: 'echo', code: 'INTERNAL' })).toBe(0);
    });
    expect(lines.filter((l) => (l['level'] as number) >= 40 || l['code'] === 'INTERNAL')).toEqual([]);
  });

  it('authenticates and authorises before it reads a body, and leaves health open', async () => {
    const seen: [string, Action][] = [];
    const health: Route = {
      method: 'GET',
      path: '/healthz',
      name: 'health',
      action: 'health',
      handle: () => ({ json: { status: 'ok' } }),
    };
    const authenticate = (req: { headers: { authorization?: string | undefined } }): Caller =>
      req.headers.authorization === 'Bearer good' ? { kind: 'token', name: 'good' } : { kind: 'anonymous' };
    const authorize = (caller: Caller, action: Action, what: string): void => {
      seen.push([what, action]);
      if (action !== 'health' && caller.kind === 'anonymous')
        throw new TandemError('AUTH_REQUIRED', 'no token', { publicMessage: 'send a token' });
    };
    let handled = 0;
    const counting: Route = {
      ...echo,
      handle: (req) => {
        handled++;
        return echo.handle(req);
      },
    };
    await withServer({ routes: [counting, health], authenticate, authorize, maxBodyBytes: 64 }, async (url) => {
      // Unauthenticated, with a body over the limit: refused as unauthenticated, before the body is read.
      const refused = await fetch(`${url}/echo`, { method: 'POST', body: 'x'.repeat(1000) });
      expect(refused.status).toBe(401);
      expect(await refused.json()).toEqual({ error: { code: 'AUTH_REQUIRED', message: 'send a token' } });
      expect((await fetch(`${url}/healthz`)).status).toBe(200);
      expect(
        (await fetch(`${url}/echo`, { method: 'POST', body: '{"n":2}', headers: { authorization: 'Bearer good' } }))
          .status,
      ).toBe(200);
      expect(handled).toBe(1);
      expect(seen).toEqual([
        ['echo', 'score'],
        ['health', 'health'],
        ['echo', 'score'],
      ]);
    });
  });

  it('lets an in-flight request finish on close, then stops listening', async () => {
    let release: () => void = () => undefined;
    const server = await startHttpServer({
      metrics: new ServeMetrics({ processMetrics: false }),
      log: silentLogger(),
      port: 0,
      ...openAuth,
      routes: [
        {
          method: 'GET',
          path: '/slow',
          name: 'slow',
          action: 'score',
          handle: () => new Promise((resolve) => (release = () => resolve({ json: { done: true } }))),
        },
      ],
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
