/**
 * The HTTP/JSON adapter of `tandem serve`, on Fastify: routes decode a
 * request, call one domain function and encode the answer. Failures map
 * through the error catalog to a status code and the public message only;
 * the detail goes to the local log (never a value: see request-features.ts).
 *
 * Before a body is read, the edge authenticates the caller (bearer token or
 * client certificate) and asks the one authorisation function
 * (serving/access.ts) whether that caller may call the route. The server
 * owns its limits: bodies over `maxBodyBytes` get 413, at most
 * `maxConnections` sockets, and timeouts for headers, the whole request
 * (a body stalled midway is cut) and idle keep-alive connections. Every
 * request is counted once in the metrics, a client that went away as 499;
 * `close()` drains in-flight requests before it drops connections.
 *
 * This is the public port. A host's peer port (peer-server.ts) serves its
 * one route without Fastify, through the pieces exported here: the node
 * server's limits (`nodeServer`), `refusal`, `catalogued` and `track`.
 */
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import Fastify, { type FastifyError, type FastifyReply, type FastifyRequest } from 'fastify';
import type { ZodType } from 'zod';
import { asTandemError, GrpcStatus, TandemError } from '../protocol/errors.ts';
import { verifyPeerCertificate, type NodeIdentity } from '../runtime/certs.ts';
import type { Logger } from '../runtime/logger.ts';
import { callerName, type Action, type Caller } from './access.ts';
import { CLIENT_CLOSED_STATUS, type CounterSeries, type HistogramSeries, type ServeMetrics } from './metrics.ts';

export type RouteRequest = {
  /** Path parameters by name (`/v1/audience/:id` → `id`). */
  readonly params: Readonly<Record<string, string>>;
  /** Who is calling, as the edge authenticated them (already authorised for the route). */
  readonly caller: Caller;
  body<T>(schema: ZodType<T>): T;
};

export type Reply = {
  readonly status?: number | undefined;
  readonly json?: unknown;
  readonly text?: string | undefined;
  readonly contentType?: string | undefined;
};

export type Route = {
  readonly method: 'GET' | 'POST';
  /** Fastify path syntax: `/v1/score`, `/v1/audience/:id`. */
  readonly path: string;
  /** The metrics label, and the name in refusals. */
  readonly name: string;
  /** What the route does, for authorisation. */
  readonly action: Action;
  handle(request: RouteRequest): Reply | Promise<Reply>;
};

export type HttpServerOptions = {
  readonly routes: readonly Route[];
  readonly metrics: ServeMetrics;
  readonly log: Logger;
  /** Listen address. @default '127.0.0.1' */
  readonly host?: string | undefined;
  /** 0 picks a free port. */
  readonly port: number;
  /** Who is calling, from the request's headers and socket. @throws TandemError AUTH_REQUIRED for bad credentials */
  authenticate(request: IncomingMessage): Caller;
  /** @throws TandemError when `caller` may not call the route */
  authorize(caller: Caller, action: Action, what: string): void;
  /** Serve HTTPS with this certificate; `clientCertificates: 'required'` refuses a handshake without a client certificate from the federation CA. */
  readonly tls?: { readonly identity: NodeIdentity; readonly clientCertificates: 'required' | 'optional' } | undefined;
  /** Largest request body. @default 1048576 */
  readonly maxBodyBytes?: number | undefined;
  /** Most open connections; more are closed on arrival. @default 512 */
  readonly maxConnections?: number | undefined;
  /** Time to receive a request's headers. @default 10000 */
  readonly headersTimeoutMs?: number | undefined;
  /** Time to receive a whole request, body included. @default 15000 */
  readonly requestTimeoutMs?: number | undefined;
  /** How long an idle keep-alive connection stays open. @default 30000 */
  readonly keepAliveTimeoutMs?: number | undefined;
};

export type HttpServer = {
  readonly port: number;
  readonly draining: boolean;
  /** Stops accepting, lets in-flight requests finish for up to `graceMs`, then drops every connection. */
  close(graceMs: number): Promise<void>;
};

const STATUS_BY_GRPC: Readonly<Record<number, number>> = {
  [GrpcStatus.INVALID_ARGUMENT]: 400,
  [GrpcStatus.UNAUTHENTICATED]: 401,
  [GrpcStatus.PERMISSION_DENIED]: 403,
  [GrpcStatus.NOT_FOUND]: 404,
  [GrpcStatus.FAILED_PRECONDITION]: 409,
  [GrpcStatus.RESOURCE_EXHAUSTED]: 413,
  [GrpcStatus.UNAVAILABLE]: 503,
  [GrpcStatus.DEADLINE_EXCEEDED]: 504,
};

/** The HTTP status for a catalogued error. */
export function httpStatus(error: TandemError): number {
  if (error.code === 'RATE_LIMITED') return 429;
  return STATUS_BY_GRPC[error.grpcStatus] ?? 500;
}

/**
 * Checks a decoded request against its schema (the gRPC adapter uses it too, so both APIs refuse the same requests with the same text).
 * @throws TandemError ARGUMENT_INVALID naming the first bad field
 */
export function validate<T>(schema: ZodType<T>, value: unknown): T {
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue === undefined || issue.path.length === 0 ? 'the request' : issue.path.join('.');
    const text = `${where}: ${issue?.message ?? 'invalid'}`;
    throw new TandemError('ARGUMENT_INVALID', text, { publicMessage: text });
  }
  return parsed.data;
}

type RouteConfig = { readonly name: string; readonly action: Action };

declare module 'fastify' {
  interface FastifyRequest {
    tandemCaller: Caller | undefined;
  }
}

/** Whether a failure is the client going away, not the server failing. */
export function clientWentAway(error: unknown, request: IncomingMessage): boolean {
  const code = (error as { code?: unknown }).code;
  return (
    request.aborted || request.socket.destroyed || code === 'ECONNRESET' || code === 'ECONNABORTED' || code === 'EPIPE'
  );
}

/** A Fastify failure (body parsing, limits), or a body parser's, as the catalogued error it stands for. */
export function catalogued(error: FastifyError | Error, maxBodyBytes: number): TandemError {
  if (error instanceof TandemError) return error;
  const code = (error as FastifyError).code;
  if (code === 'FST_ERR_CTP_BODY_TOO_LARGE')
    return new TandemError('MESSAGE_TOO_LARGE', `request body over ${maxBodyBytes} bytes`, {
      publicMessage: `the request body exceeds ${maxBodyBytes} bytes`,
    });
  if (code === 'FST_ERR_CTP_EMPTY_JSON_BODY')
    return new TandemError('ARGUMENT_INVALID', 'empty request body', {
      publicMessage: 'the request body is empty; send a JSON object',
    });
  if (code === 'FST_ERR_CTP_INVALID_CONTENT_LENGTH')
    return new TandemError('ARGUMENT_INVALID', 'request body length differs from content-length', {
      publicMessage: 'the request body does not match its content-length',
    });
  if (error instanceof SyntaxError || code === 'FST_ERR_CTP_INVALID_JSON_BODY')
    return new TandemError('ARGUMENT_INVALID', 'request body is not JSON', {
      publicMessage: 'the request body is not valid JSON',
    });
  const status = (error as FastifyError).statusCode;
  if (status !== undefined && status >= 400 && status < 500)
    return new TandemError('ARGUMENT_INVALID', `${code ?? 'bad request'}: ${error.message}`, {
      publicMessage: 'the request is malformed',
    });
  return asTandemError(error);
}

/**
 * The node server under an HTTP adapter: its limits and timeouts, and TLS
 * (a client certificate from the federation CA required, or asked for).
 */
export function nodeServer(
  options: Pick<
    HttpServerOptions,
    'tls' | 'maxConnections' | 'headersTimeoutMs' | 'requestTimeoutMs' | 'keepAliveTimeoutMs'
  >,
  handler: (req: IncomingMessage, res: ServerResponse) => void,
): Server {
  const requestTimeout = options.requestTimeoutMs ?? 15_000;
  const timeouts = {
    // The whole request includes its headers.
    headersTimeout: Math.min(options.headersTimeoutMs ?? 10_000, requestTimeout),
    requestTimeout,
    keepAliveTimeout: options.keepAliveTimeoutMs ?? 30_000,
    // Node enforces the two timeouts above only when it checks, every 30 s by default: a stalled body would live that much longer.
    connectionsCheckingInterval: 1000,
  };
  const tls = options.tls;
  const server =
    tls === undefined
      ? createHttpServer(timeouts, handler)
      : createHttpsServer(
          {
            ...timeouts,
            key: tls.identity.keyPem,
            cert: tls.identity.certPem,
            ca: tls.identity.caPem,
            requestCert: true,
            rejectUnauthorized: tls.clientCertificates === 'required',
            handshakeTimeout: options.headersTimeoutMs ?? 10_000,
          },
          handler,
        );
  server.maxConnections = options.maxConnections ?? 512;
  return server;
}

/**
 * How an adapter answers a refused or failed request: counted by route and
 * code, logged (a warning for the server's own failures), the public
 * message only, when to retry, and the connection closed while draining.
 */
export function refusal(
  e: TandemError,
  route: string,
  caller: Caller | undefined,
  context: { readonly metrics: ServeMetrics; readonly log: Logger; readonly draining: boolean },
): { readonly status: number; readonly headers: Record<string, string>; readonly body: string } {
  const status = httpStatus(e);
  context.metrics.errors(route, e.code).add();
  const who = caller === undefined ? undefined : callerName(caller);
  if (status >= 500) context.log.warn({ err: e, code: e.code, status, peer: who }, `${route} failed`);
  else context.log.info({ code: e.code, status, peer: who }, `${route} refused: ${e.message}`);
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (context.draining) headers['connection'] = 'close';
  const retryAfterMs = e.details['retryAfterMs'];
  if (typeof retryAfterMs === 'number') headers['retry-after'] = String(Math.max(1, Math.ceil(retryAfterMs / 1000)));
  return { status, headers, body: `${JSON.stringify({ error: { code: e.code, message: e.publicMessage } })}\n` };
}

/** Waits up to `graceMs` for in-flight requests (`idle`), then drops every connection and waits for the server to close. */
export async function drain(
  server: Server,
  idle: Promise<unknown>,
  closed: Promise<unknown>,
  graceMs: number,
): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([idle, new Promise((resolve) => (timer = setTimeout(resolve, graceMs)))]);
  clearTimeout(timer);
  server.closeAllConnections();
  await closed;
}

export async function startHttpServer(options: HttpServerOptions): Promise<HttpServer> {
  const { metrics, log } = options;
  const maxBodyBytes = options.maxBodyBytes ?? 1_048_576;
  let draining = false;
  let raw: Server | undefined;
  const serverFactory = (handler: (req: IncomingMessage, res: ServerResponse) => void): Server =>
    (raw = nodeServer(options, handler));
  const app = Fastify({
    serverFactory,
    logger: false,
    bodyLimit: maxBodyBytes,
    forceCloseConnections: 'idle',
    exposeHeadRoutes: false,
    return503OnClosing: true,
    // Path parameters are ids (audience lookups), up to 512 characters like ids in bodies; find-my-way's default is 100.
    routerOptions: { maxParamLength: 1024 },
  });
  app.decorateRequest('tandemCaller', undefined);
  // Every body is JSON whatever its content type says (curl and fetch send text/plain by default), parsed with Fastify's
  // prototype-poisoning guard, within the body limit.
  app.removeAllContentTypeParsers();
  const json = app.getDefaultJsonParser('error', 'ignore');
  // Registered by name as well: Fastify caches the parser for a named type by header, but looks the catch-all up anew each request.
  app.addContentTypeParser('application/json', { parseAs: 'string' }, json);
  app.addContentTypeParser('*', { parseAs: 'string' }, json);

  const statsOf = new Map<string, RouteStats>();
  const stats = (route: string): RouteStats => {
    let st = statsOf.get(route);
    if (st === undefined) {
      st = routeStats(metrics, route);
      statsOf.set(route, st);
    }
    return st;
  };
  /** The route's first hook: counting, then authentication and authorisation, before a byte of the body is read. */
  const guard = (config: RouteConfig) => {
    const counted = stats(config.name);
    return (request: FastifyRequest, reply: FastifyReply, done: (error?: Error) => void): void => {
      track(reply.raw, counted);
      try {
        const caller = options.authenticate(request.raw);
        options.authorize(caller, config.action, config.name);
        request.tandemCaller = caller;
        done();
      } catch (error) {
        done(error as Error);
      }
    };
  };

  app.setErrorHandler((error: FastifyError | Error, request, reply) => {
    const route = (request.routeOptions.config as Partial<RouteConfig>).name ?? 'unknown';
    if (clientWentAway(error, request.raw)) {
      log.debug({ code: 'CLIENT_CLOSED' }, `${route}: the client went away before its answer`);
      return reply.send();
    }
    const r = refusal(catalogued(error, maxBodyBytes), route, request.tandemCaller, { metrics, log, draining });
    return reply.code(r.status).headers(r.headers).send(r.body);
  });

  app.setNotFoundHandler((request, reply) => {
    track(reply.raw, stats('unknown'));
    const path = request.url.split('?')[0] ?? '/';
    throw new TandemError('ROUTE_NOT_FOUND', `no route ${request.method} ${path}`, {
      publicMessage: `no such endpoint: ${request.method} ${path}`,
    });
  });

  for (const route of options.routes) {
    const config: RouteConfig = { name: route.name, action: route.action };
    app.route({
      method: route.method,
      url: route.path,
      config,
      onRequest: guard(config),
      // Not async, and returns nothing: a host's routes answer synchronously, and a promise per request (or Fastify
      // watching the reply as a thenable) would cost microtasks and listeners for nothing.
      handler: (request, reply) => {
        const answer = route.handle(new RouteCall(request));
        if (answer instanceof Promise)
          answer.then(
            (a) => send(reply, a, draining),
            (error: unknown) => void reply.send(error instanceof Error ? error : asTandemError(error)),
          );
        else send(reply, answer, draining);
      },
    });
  }

  await app.listen({ port: options.port, host: options.host ?? '127.0.0.1' });
  const server = raw ?? app.server;
  return {
    port: (server.address() as AddressInfo).port,
    get draining() {
      return draining;
    },
    close: async (graceMs) => {
      draining = true;
      const closed = app.close();
      await drain(server, closed, closed, graceMs);
    },
  };
}

/** A request as a route sees it; the body is validated when the route asks, with the route's schema. */
class RouteCall implements RouteRequest {
  readonly params: Readonly<Record<string, string>>;
  readonly caller: Caller;
  readonly #body: unknown;
  constructor(request: FastifyRequest) {
    this.params = request.params as Record<string, string>;
    this.caller = request.tandemCaller ?? ANONYMOUS;
    this.#body = request.body;
  }
  body<T>(schema: ZodType<T>): T {
    return validate(schema, this.#body);
  }
}

const ANONYMOUS: Caller = Object.freeze({ kind: 'anonymous' });

function send(reply: FastifyReply, answer: Reply, draining: boolean): void {
  // A request in flight when draining began gets its answer, then its connection closes (it would idle until the grace ends).
  if (draining) void reply.header('connection', 'close');
  void reply.code(answer.status ?? 200);
  if (answer.text !== undefined) void reply.type(answer.contentType ?? 'text/plain; charset=utf-8').send(answer.text);
  else void reply.type(answer.contentType ?? 'application/json').send(`${JSON.stringify(answer.json ?? {})}\n`);
}

/** A route's metric series, looked up once: its latency, and its request count by status. */
export type RouteStats = {
  readonly latency: HistogramSeries;
  status(code: number): CounterSeries;
  readonly clientClosed: CounterSeries;
};

export function routeStats(metrics: ServeMetrics, route: string): RouteStats {
  const byStatus = new Map<number, CounterSeries>();
  return {
    latency: metrics.latency(route),
    clientClosed: metrics.requests(route, CLIENT_CLOSED_STATUS),
    status: (code) => {
      let c = byStatus.get(code);
      if (c === undefined) {
        c = metrics.requests(route, String(code));
        byStatus.set(code, c);
      }
      return c;
    },
  };
}

const TRACKED = Symbol('tandem.tracked');
type Tracked = ServerResponse & { [TRACKED]?: { readonly stats: RouteStats; readonly startedMs: number } };

/** Counts a request once, when the connection is done with its response: finished, or abandoned by the client. */
export function track(res: ServerResponse, stats: RouteStats): void {
  (res as Tracked)[TRACKED] = { stats, startedMs: performance.now() };
  res.on('close', counted);
}

function counted(this: ServerResponse): void {
  const t = (this as Tracked)[TRACKED];
  if (t === undefined) return;
  (this.writableFinished ? t.stats.status(this.statusCode) : t.stats.clientClosed).add();
  t.stats.latency.observe((performance.now() - t.startedMs) / 1000);
}

const peers = new WeakMap<object, { readonly name: string; readonly checkedAtMs: number }>();

/**
 * The verified client certificate's node name, or undefined when the
 * client sent none that the TLS layer accepted. Re-checked against the CA
 * (TLS has verified the chain already) and cached per connection for a
 * minute: parsing and verifying the certificate on every request of a
 * keep-alive connection costs more than scoring.
 */
export function certificateName(request: IncomingMessage, identity: NodeIdentity): string | undefined {
  const socket = request.socket as TLSSocket;
  if (socket.authorized !== true) return undefined;
  const cached = peers.get(socket);
  if (cached !== undefined && Date.now() - cached.checkedAtMs < 60_000) return cached.name;
  const cert = socket.getPeerCertificate();
  const name = verifyPeerCertificate(new Uint8Array(cert.raw), identity.caPem);
  peers.set(socket, { name, checkedAtMs: Date.now() });
  return name;
}
