/**
 * A host's peer port: partial scores for the job's guest, over mutual TLS.
 * It serves a fixed handful of exact paths to one caller, so it runs on
 * node's HTTPS server without Fastify: on the serve bench, Fastify's work
 * per request (request and reply objects, hooks, the body parser chain)
 * was 10–15 µs of the host's ≈150, and that was the difference between
 * online p99 behind and level with the hand-written server it replaced
 * (bench/README.md, "serve"). The public port, which serves operators a
 * richer API, stays on Fastify (http-server.ts).
 *
 * The same rules as the public port, with the same shared pieces: the
 * node server's limits and timeouts (`nodeServer`), authentication and
 * authorisation before a byte of the body is read, bodies over
 * `maxBodyBytes` answered 413, JSON parsed with the prototype-poisoning
 * guard Fastify uses (secure-json-parse), failures mapped through the
 * error catalog to a status and the public message (`refusal`), every
 * request counted once (`track`, 499 for a client that went away), 503
 * while draining, and `close()` letting in-flight requests finish.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import secureJson from 'secure-json-parse';
import type { ZodType } from 'zod';
import { asTandemError, TandemError } from '../protocol/errors.ts';
import type { NodeIdentity } from '../runtime/certs.ts';
import type { Caller } from './access.ts';
import {
  catalogued,
  clientWentAway,
  drain,
  nodeServer,
  refusal,
  routeStats,
  track,
  validate,
  type HttpServer,
  type HttpServerOptions,
  type Reply,
  type Route,
  type RouteStats,
} from './http-server.ts';

export type PeerServerOptions = Omit<HttpServerOptions, 'tls'> & {
  /** The host's identity. The peer port is always mutual TLS: a handshake without a certificate from the federation CA is refused. */
  readonly identity: NodeIdentity;
};

type Served = { readonly route: Route; readonly stats: RouteStats };

/** @throws Error when a route's path has parameters (the peer port serves exact paths) */
export async function startPeerServer(options: PeerServerOptions): Promise<HttpServer> {
  const { metrics, log } = options;
  const maxBodyBytes = options.maxBodyBytes ?? 1_048_576;
  const served = new Map<string, Served>();
  for (const route of options.routes) {
    if (route.path.includes(':')) throw new Error(`the peer port serves exact paths, not ${route.path}`);
    served.set(`${route.method} ${route.path}`, { route, stats: routeStats(metrics, route.name) });
  }
  const unknown = routeStats(metrics, 'unknown');
  let draining = false;
  let inFlight = 0;
  let idle: (() => void) | undefined;

  const answer = (res: ServerResponse, status: number, headers: Record<string, string>, body: string): void => {
    if (res.headersSent || res.destroyed) return;
    if (draining) headers['connection'] = 'close';
    headers['content-length'] = String(Buffer.byteLength(body));
    res.writeHead(status, headers);
    res.end(body);
  };
  const fail = (
    req: IncomingMessage,
    res: ServerResponse,
    route: string,
    caller: Caller | undefined,
    error: unknown,
  ) => {
    if (clientWentAway(error, req)) {
      log.debug({ code: 'CLIENT_CLOSED' }, `${route}: the client went away before its answer`);
      return;
    }
    const e = catalogued(error instanceof Error ? error : asTandemError(error), maxBodyBytes);
    const r = refusal(e, route, caller, { metrics, log, draining });
    answer(res, r.status, { ...r.headers }, r.body);
  };
  const reply = (res: ServerResponse, a: Reply): void => {
    if (a.text !== undefined)
      answer(res, a.status ?? 200, { 'content-type': a.contentType ?? 'text/plain; charset=utf-8' }, a.text);
    else
      answer(
        res,
        a.status ?? 200,
        { 'content-type': a.contentType ?? 'application/json' },
        `${JSON.stringify(a.json ?? {})}\n`,
      );
  };

  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    inFlight++;
    res.on('close', () => {
      if (--inFlight === 0) idle?.();
    });
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const found = served.get(`${req.method ?? ''} ${path}`);
    if (found === undefined) {
      track(res, unknown);
      req.resume();
      return fail(
        req,
        res,
        'unknown',
        undefined,
        new TandemError('ROUTE_NOT_FOUND', `no route ${req.method ?? ''} ${path}`, {
          publicMessage: `no such endpoint: ${req.method ?? ''} ${path}`,
        }),
      );
    }
    const { route, stats } = found;
    track(res, stats);
    if (draining) {
      req.resume();
      return fail(
        req,
        res,
        route.name,
        undefined,
        new TandemError('PEER_UNAVAILABLE', 'draining', { publicMessage: 'this endpoint is shutting down; retry' }),
      );
    }
    let caller: Caller;
    try {
      caller = options.authenticate(req);
      options.authorize(caller, route.action, route.name);
    } catch (error) {
      req.resume();
      return fail(req, res, route.name, undefined, error);
    }
    const run = (body: unknown): void => {
      try {
        const a = route.handle({ params: {}, caller, body: <T>(schema: ZodType<T>) => validate(schema, body) });
        if (a instanceof Promise)
          a.then(
            (x) => reply(res, x),
            (error: unknown) => fail(req, res, route.name, caller, error),
          );
        else reply(res, a);
      } catch (error) {
        fail(req, res, route.name, caller, error);
      }
    };
    if (route.method === 'GET') {
      req.resume();
      return run(undefined);
    }
    readBody(req, maxBodyBytes, (error, text) => {
      if (error !== undefined) {
        // The answer closes the connection, and the rest of an oversized body is dropped with it.
        if ((error as { code?: unknown }).code === 'FST_ERR_CTP_BODY_TOO_LARGE') res.shouldKeepAlive = false;
        return fail(req, res, route.name, caller, error);
      }
      if (text === '')
        return fail(
          req,
          res,
          route.name,
          caller,
          Object.assign(new Error('empty'), { code: 'FST_ERR_CTP_EMPTY_JSON_BODY' }),
        );
      let body: unknown;
      try {
        body = secureJson.parse(text, undefined, { protoAction: 'error', constructorAction: 'ignore' });
      } catch (e) {
        return fail(req, res, route.name, caller, new SyntaxError((e as Error).message));
      }
      run(body);
    });
  };

  const server = nodeServer(
    { ...options, tls: { identity: options.identity, clientCertificates: 'required' } },
    handle,
  );
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  return {
    port: (server.address() as AddressInfo).port,
    get draining() {
      return draining;
    },
    close: async (graceMs) => {
      draining = true;
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      const finished = new Promise<void>((resolve) => {
        if (inFlight === 0) resolve();
        else idle = resolve;
      });
      await drain(server, finished, closed, graceMs);
    },
  };
}

/** Reads a request body as UTF-8, up to `limit` bytes (by content-length, or as it arrives); errors carry Fastify's codes, which `catalogued` maps. */
function readBody(req: IncomingMessage, limit: number, then: (error: Error | undefined, text: string) => void): void {
  let finished = false;
  const done = (error: Error | undefined, text: string): void => {
    if (finished) return;
    finished = true;
    then(error, text);
  };
  const declared = Number(req.headers['content-length'] ?? Number.NaN);
  const tooLarge = (): Error => Object.assign(new Error('body too large'), { code: 'FST_ERR_CTP_BODY_TOO_LARGE' });
  if (declared > limit) {
    req.resume();
    return done(tooLarge(), '');
  }
  const chunks: Buffer[] = [];
  let size = 0;
  let over = false;
  req.on('data', (c: Buffer) => {
    size += c.length;
    if (size > limit) {
      over = true;
      chunks.length = 0;
      done(tooLarge(), '');
    } else if (!over) chunks.push(c);
  });
  req.on('end', () => {
    done(undefined, chunks.length === 1 ? (chunks[0]?.toString('utf8') ?? '') : Buffer.concat(chunks).toString('utf8'));
  });
  req.on('error', (error) => done(error, ''));
}
