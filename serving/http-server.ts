/**
 * The HTTP/JSON adapter: routes decode a request, call one domain function
 * and encode the answer. Failures map through the error catalog to a status
 * code and the public message only (the detail goes to the local log).
 * Every request is counted and timed; `close()` drains in-flight requests
 * before it drops connections.
 */
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { ZodType } from 'zod';
import { asTandemError, GrpcStatus, TandemError } from '../protocol/errors.ts';
import { verifyPeerCertificate, type NodeIdentity } from '../runtime/certs.ts';
import type { Logger } from '../runtime/logger.ts';
import type { ServeMetrics } from './metrics.ts';

export type RouteRequest = {
  /** Path parameters, in the order of the route pattern's groups. */
  readonly params: readonly string[];
  /** The verified client certificate's node name (mTLS servers only). */
  readonly peer: string | undefined;
  body<T>(schema: ZodType<T>): T;
};

export type Reply = { readonly status?: number | undefined; readonly json?: unknown; readonly text?: string | undefined; readonly contentType?: string | undefined };

export type Route = {
  readonly method: 'GET' | 'POST';
  /** Exact path, or a pattern whose groups become `params`. */
  readonly path: string | RegExp;
  /** The metrics label. */
  readonly name: string;
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
  /** Serve HTTPS and require a client certificate from the federation CA. */
  readonly tls?: NodeIdentity | undefined;
  /** Largest request body. @default 1048576 */
  readonly maxBodyBytes?: number | undefined;
};

export type HttpServer = {
  readonly port: number;
  readonly draining: boolean;
  /** Stops accepting, lets in-flight requests finish for up to `graceMs`, then drops every connection. */
  close(graceMs: number): Promise<void>;
};

const STATUS_BY_GRPC: Readonly<Record<number, number>> = {
  [GrpcStatus.INVALID_ARGUMENT]: 400, [GrpcStatus.UNAUTHENTICATED]: 401, [GrpcStatus.PERMISSION_DENIED]: 403, [GrpcStatus.NOT_FOUND]: 404,
  [GrpcStatus.FAILED_PRECONDITION]: 409, [GrpcStatus.RESOURCE_EXHAUSTED]: 413, [GrpcStatus.UNAVAILABLE]: 503, [GrpcStatus.DEADLINE_EXCEEDED]: 504,
};

/** The HTTP status for a catalogued error. */
export function httpStatus(error: TandemError): number {
  return STATUS_BY_GRPC[error.grpcStatus] ?? 500;
}

export async function startHttpServer(options: HttpServerOptions): Promise<HttpServer> {
  const maxBody = options.maxBodyBytes ?? 1_048_576;
  let draining = false;
  let inFlight = 0;
  let idle: (() => void) | undefined;
  const handler = (req: IncomingMessage, res: ServerResponse): void => {
    inFlight++;
    void serve(req, res).finally(() => {
      inFlight--;
      if (inFlight === 0) idle?.();
    });
  };
  const serve = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const started = performance.now();
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    let routeName = 'unknown';
    let reply: Reply;
    try {
      const match = findRoute(options.routes, req.method ?? 'GET', path);
      if (match === undefined) throw new TandemError('ARGUMENT_INVALID', `no route ${req.method ?? ''} ${path}`, { publicMessage: `no such endpoint: ${req.method ?? ''} ${path}` });
      routeName = match.route.name;
      const raw = req.method === 'POST' ? await readBody(req, maxBody) : '';
      const peer = options.tls === undefined ? undefined : peerOf(req, options.tls);
      reply = await match.route.handle({ params: match.params, peer, body: (schema) => decode(schema, raw) });
    } catch (error) {
      const e = asTandemError(error);
      const status = httpStatus(e);
      options.metrics.errors.inc({ route: routeName, code: e.code });
      if (status >= 500) options.log.warn({ err: e, code: e.code }, 'request failed');
      reply = { status, json: { error: { code: e.code, message: e.publicMessage } } };
    }
    const status = reply.status ?? 200;
    const body = reply.text ?? `${JSON.stringify(reply.json ?? {})}\n`;
    res.writeHead(status, {
      'content-type': reply.contentType ?? (reply.text === undefined ? 'application/json' : 'text/plain; version=0.0.4'),
      'content-length': Buffer.byteLength(body),
      ...(draining ? { connection: 'close' } : {}),
    });
    res.end(body);
    options.metrics.requests.inc({ route: routeName, status: String(status) });
    options.metrics.latency.observe({ route: routeName }, (performance.now() - started) / 1000);
  };
  const server: Server = options.tls === undefined
    ? createHttpServer({ keepAliveTimeout: 30_000 }, handler)
    : createHttpsServer({ key: options.tls.keyPem, cert: options.tls.certPem, ca: options.tls.caPem, requestCert: true, rejectUnauthorized: true, keepAliveTimeout: 30_000 }, handler);
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
      if (inFlight > 0) {
        await Promise.race([new Promise<void>((resolve) => (idle = resolve)), new Promise((resolve) => setTimeout(resolve, graceMs).unref())]);
      }
      server.closeAllConnections();
      await closed;
    },
  };
}

function findRoute(routes: readonly Route[], method: string, path: string): { route: Route; params: string[] } | undefined {
  for (const route of routes) {
    if (route.method !== method) continue;
    if (typeof route.path === 'string') {
      if (route.path === path) return { route, params: [] };
      continue;
    }
    const m = route.path.exec(path);
    if (m !== null) return { route, params: m.slice(1).map((p) => decodeURIComponent(p ?? '')) };
  }
  return undefined;
}

function readBody(req: IncomingMessage, limit: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.byteLength;
      if (size > limit) {
        reject(new TandemError('MESSAGE_TOO_LARGE', `request body over ${limit} bytes`, { publicMessage: `the request body exceeds ${limit} bytes` }));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function decode<T>(schema: ZodType<T>, raw: string): T {
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    throw new TandemError('ARGUMENT_INVALID', 'request body is not JSON', { publicMessage: 'the request body is not valid JSON' });
  }
  return validate(schema, value);
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

const peers = new WeakMap<object, { readonly name: string; readonly checkedAtMs: number }>();

/**
 * The caller's node name, re-checked against the CA (TLS has verified the
 * chain already). Cached per connection for a minute: parsing and verifying
 * the certificate on every request of a keep-alive connection costs more
 * than scoring.
 */
function peerOf(req: IncomingMessage, identity: NodeIdentity): string {
  const cached = peers.get(req.socket);
  if (cached !== undefined && Date.now() - cached.checkedAtMs < 60_000) return cached.name;
  const cert = (req.socket as TLSSocket).getPeerCertificate();
  const name = verifyPeerCertificate(new Uint8Array(cert.raw), identity.caPem);
  peers.set(req.socket, { name, checkedAtMs: Date.now() });
  return name;
}
