import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'node:tls';
import { z } from 'zod';
import { DataError, TandemError } from '../protocol/errors.ts';
import { initCertificates } from '../runtime/certificate-authority.ts';
import { loadNodeIdentity, type NodeIdentity } from '../runtime/certs.ts';
import { silentLogger } from '../runtime/logger.ts';
import type { Action, Caller } from './access.ts';
import { certificateName, type HttpServer, type Route } from './http-server.ts';
import { ServeMetrics } from './metrics.ts';
import { startPeerServer, type PeerServerOptions } from './peer-server.ts';
import { capturingLogger, series } from '../test/support/serving.ts';

let dir: string;
let host: NodeIdentity;
let guest: NodeIdentity;
let stranger: NodeIdentity;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tandem-peer-server-'));
  await initCertificates({ outDir: join(dir, 'ca'), parties: ['brand', 'partner'] });
  await initCertificates({ outDir: join(dir, 'other'), parties: ['brand'] });
  const id = (d: string, n: string) =>
    loadNodeIdentity({ ca: join(dir, d, 'ca.crt'), cert: join(dir, d, `${n}.crt`), key: join(dir, d, `${n}.key`) });
  [host, guest, stranger] = await Promise.all([id('ca', 'partner'), id('ca', 'brand'), id('other', 'brand')]);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const echo: Route = {
  method: 'POST',
  path: '/echo',
  name: 'echo',
  action: 'partial-scores',
  handle: (req) => ({ json: { caller: req.caller, ...req.body(z.strictObject({ n: z.number() })) } }),
};

async function withPeer(
  options: Partial<PeerServerOptions> & { routes: readonly Route[] },
  run: (port: number, metrics: ServeMetrics, server: HttpServer) => Promise<void>,
): Promise<void> {
  const metrics = new ServeMetrics({ processMetrics: false });
  const server = await startPeerServer({
    metrics,
    log: silentLogger(),
    port: 0,
    identity: host,
    authenticate: (req): Caller => {
      const name = certificateName(req, host);
      return name === undefined ? { kind: 'anonymous' } : { kind: 'certificate', name };
    },
    authorize: (): void => undefined,
    ...options,
  });
  try {
    await run(server.port, metrics, server);
  } finally {
    await server.close(0);
  }
}

type Answer = { status: number; body: string; headers: Record<string, unknown> };

/** One request over mutual TLS as `as`; the body in one piece, or in chunks (no content-length). */
function call(port: number, as: NodeIdentity, method: string, path: string, body?: string | string[]): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        method,
        path,
        agent: false,
        ca: host.caPem,
        cert: as.certPem,
        key: as.keyPem,
        checkServerIdentity: () => undefined,
      },
      (res) => {
        let text = '';
        res.on('data', (c: Buffer) => (text += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text, headers: res.headers }));
      },
    );
    req.on('error', reject);
    if (Array.isArray(body)) {
      for (const c of body) req.write(c);
      req.end();
    } else req.end(body);
  });
}

/** Writes raw HTTP over mutual TLS as the guest; resolves with what came back once the server closes (or after `keepOpenMs`). */
function rawExchange(
  port: number,
  text: string,
  keepOpenMs: number,
): Promise<{ response: string; closedAfterMs: number }> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const socket = connect(
      {
        host: '127.0.0.1',
        port,
        ca: host.caPem,
        cert: guest.certPem,
        key: guest.keyPem,
        checkServerIdentity: () => undefined,
      },
      () => socket.write(text),
    );
    let response = '';
    socket.on('data', (c: Buffer) => (response += c.toString()));
    socket.on('error', reject);
    socket.on('close', () => resolve({ response, closedAfterMs: Date.now() - started }));
    setTimeout(() => socket.destroy(), keepOpenMs).unref();
  });
}

describe('the peer port', () => {
  it('answers a route with the caller its certificate names, maps failures through the catalog, and counts both', async () => {
    const fail: Route = {
      method: 'GET',
      path: '/fail',
      name: 'fail',
      action: 'health',
      handle: () => {
        throw new DataError('DATA_VALUE_INVALID', { file: '/secret/path.csv', problem: 'bad', fix: 'fix it' });
      },
    };
    await withPeer({ routes: [echo, fail] }, async (port, metrics) => {
      const ok = await call(port, guest, 'POST', '/echo', '{"n":3}');
      expect(ok.status).toBe(200);
      expect(JSON.parse(ok.body)).toEqual({ caller: { kind: 'certificate', name: 'brand' }, n: 3 });
      const refusals = [
        ['{"n":"x"}', 'n: Invalid input: expected number, received string'],
        ['{"n":', 'the request body is not valid JSON'],
        ['', 'the request body is empty; send a JSON object'],
        ['{"n":1,"__proto__":{"polluted":true}}', 'the request body is not valid JSON'],
      ] as const;
      for (const [body, message] of refusals) {
        const bad = await call(port, guest, 'POST', '/echo', body);
        expect(bad.status).toBe(400);
        expect(JSON.parse(bad.body)).toEqual({ error: { code: 'ARGUMENT_INVALID', message } });
      }
      expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
      const failed = await call(port, guest, 'GET', '/fail');
      expect(failed.status).toBe(400);
      expect(failed.body).not.toContain('/secret/path.csv');
      expect(await series(metrics, 'tandem_serve_requests_total', { route: 'echo', status: '200' })).toBe(1);
      expect(await series(metrics, 'tandem_serve_requests_total', { route: 'echo', status: '400' })).toBe(4);
      expect(await series(metrics, 'tandem_serve_errors_total', { route: 'fail', code: 'DATA_VALUE_INVALID' })).toBe(1);
      expect(await metrics.render()).toMatch(/tandem_serve_request_duration_seconds_count\{route="echo"\} 5/);
    });
  });

  it('refuses a handshake without a client certificate, or with one from another CA', async () => {
    await withPeer({ routes: [echo] }, async (port) => {
      const anonymous = new Promise<void>((resolve, reject) => {
        const req = request(
          {
            host: '127.0.0.1',
            port,
            method: 'POST',
            path: '/echo',
            agent: false,
            ca: host.caPem,
            checkServerIdentity: () => undefined,
          },
          () => reject(new Error('answered without a client certificate')),
        );
        req.on('error', () => resolve());
        req.end('{"n":1}');
      });
      await anonymous;
      await expect(call(port, stranger, 'POST', '/echo', '{"n":1}')).rejects.toThrow();
    });
  });

  it('answers an unknown path or method with 404 ROUTE_NOT_FOUND, and refuses a route with path parameters at start', async () => {
    await withPeer({ routes: [echo] }, async (port, metrics) => {
      const nope = await call(port, guest, 'GET', '/nope?x=1');
      expect(nope.status).toBe(404);
      expect(JSON.parse(nope.body)).toEqual({
        error: { code: 'ROUTE_NOT_FOUND', message: 'no such endpoint: GET /nope' },
      });
      expect((await call(port, guest, 'GET', '/echo')).status).toBe(404);
      expect(await series(metrics, 'tandem_serve_requests_total', { route: 'unknown', status: '404' })).toBe(2);
    });
    await expect(withPeer({ routes: [{ ...echo, path: '/user/:id' }] }, () => Promise.resolve())).rejects.toThrow(
      'the peer port serves exact paths, not /user/:id',
    );
  });

  it('answers a body over the limit with 413, declared or streamed, and counts it once', async () => {
    await withPeer({ routes: [echo], maxBodyBytes: 1024 }, async (port, metrics) => {
      const body = JSON.stringify({ n: 1, pad: 'x'.repeat(4096) });
      const declared = await call(port, guest, 'POST', '/echo', body);
      expect(declared.status).toBe(413);
      expect(JSON.parse(declared.body)).toEqual({
        error: { code: 'MESSAGE_TOO_LARGE', message: 'the request body exceeds 1024 bytes' },
      });
      const chunks = Array.from({ length: 8 }, (_, k) => body.slice(k * 600, (k + 1) * 600));
      const streamed = await call(port, guest, 'POST', '/echo', chunks);
      expect(streamed.status).toBe(413);
      expect(await series(metrics, 'tandem_serve_requests_total', { route: 'echo', status: '413' })).toBe(2);
      expect(await series(metrics, 'tandem_serve_errors_total', { route: 'echo', code: 'MESSAGE_TOO_LARGE' })).toBe(2);
      expect((await call(port, guest, 'POST', '/echo', '{"n":1}')).status).toBe(200);
    });
  });

  it('authenticates and authorises before it reads a body', async () => {
    const seen: [string, Action][] = [];
    let handled = 0;
    const authorize = (caller: Caller, action: Action, what: string): void => {
      seen.push([what, action]);
      if (caller.kind !== 'certificate' || caller.name !== 'partner')
        throw new TandemError('AUTH_NOT_ALLOWED', 'not the guest', { publicMessage: 'only partner may call' });
    };
    const counting: Route = { ...echo, handle: (req) => (handled++, echo.handle(req)) };
    await withPeer({ routes: [counting], authorize, maxBodyBytes: 64 }, async (port) => {
      const refused = await call(port, guest, 'POST', '/echo', 'x'.repeat(1000));
      expect(refused.status).toBe(403);
      expect(JSON.parse(refused.body)).toEqual({
        error: { code: 'AUTH_NOT_ALLOWED', message: 'only partner may call' },
      });
      expect(handled).toBe(0);
      expect(seen).toEqual([['echo', 'partial-scores']]);
    });
  });

  it('closes a connection whose body stalls (408) and an idle keep-alive one, and counts a client gone mid-body as 499', async () => {
    const { log, lines } = capturingLogger();
    await withPeer(
      { routes: [echo], log, requestTimeoutMs: 600, headersTimeoutMs: 500, keepAliveTimeoutMs: 400 },
      async (port, metrics) => {
        const head = 'POST /echo HTTP/1.1\r\nhost: x\r\ncontent-length: 100\r\n\r\n{"n":';
        const stalled = await rawExchange(port, head, 10_000);
        expect(stalled.response).toMatch(/^HTTP\/1\.1 408/);
        expect(stalled.closedAfterMs).toBeLessThan(3_000);
        const idle = await rawExchange(
          port,
          'POST /echo HTTP/1.1\r\nhost: x\r\ncontent-length: 7\r\n\r\n{"n":1}',
          10_000,
        );
        expect(idle.response).toMatch(/^HTTP\/1\.1 200/);
        expect(idle.closedAfterMs).toBeLessThan(3_000);
        await rawExchange(port, head, 200);
        await new Promise((r) => setTimeout(r, 200));
        // The stalled request (its answer, the server's 408, is not the route's) and the one whose client left.
        expect(await series(metrics, 'tandem_serve_requests_total', { route: 'echo', status: '499' })).toBe(2);
        expect(await series(metrics, 'tandem_serve_requests_total', { route: 'echo', status: '500' })).toBe(0);
      },
    );
    expect(lines.filter((l) => (l['level'] as number) >= 40 || l['code'] === 'INTERNAL')).toEqual([]);
  });

  it('lets an in-flight request finish on close, refuses what arrives meanwhile, then stops listening', async () => {
    let release: () => void = () => undefined;
    const slow: Route = {
      method: 'GET',
      path: '/slow',
      name: 'slow',
      action: 'health',
      handle: () => new Promise((resolve) => (release = () => resolve({ json: { done: true } }))),
    };
    await withPeer({ routes: [slow] }, async (port, _metrics, server) => {
      const inFlight = call(port, guest, 'GET', '/slow');
      await new Promise((resolve) => setTimeout(resolve, 100));
      const closed = server.close(5_000);
      expect(server.draining).toBe(true);
      setTimeout(() => release(), 50);
      const res = await inFlight;
      expect(JSON.parse(res.body)).toEqual({ done: true });
      expect(res.headers['connection']).toBe('close');
      await closed;
      await expect(call(port, guest, 'GET', '/slow')).rejects.toThrow();
    });
  });
});
