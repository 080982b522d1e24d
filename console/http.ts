/**
 * The console's HTTP conventions: route tables (each view — party,
 * coordinator, auditor — is a list of routes that decode a request, call one
 * domain function and return JSON), security headers on every answer, errors
 * as `{ error: { code, message, field?, fix? } }` with the catalog's code and
 * an HTTP status derived from its gRPC status, and server-sent events for
 * anything that changes while a page is open (the browser's EventSource
 * reconnects by itself; nothing polls from the page).
 *
 * The console's user is this node's own operator, so errors carry the
 * detailed local message (file, field, fix), as the CLI prints it; only
 * internal errors are reduced to their code, with the detail in the log.
 */
import type { FastifyReply, FastifyRequest, FastifySchema } from 'fastify';
import type { Logger } from '../runtime/logger.ts';
import type { NodeContext } from './node-context.ts';
import { ConfigError, GrpcStatus, asTandemError, type TandemError } from '../protocol/errors.ts';

/** The app's pages may load only their own scripts and styles, talk only to the console, and be framed by nobody. */
export const APP_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

/** Headers every answer carries. */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy': APP_CSP,
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cross-origin-resource-policy': 'same-origin',
  'cross-origin-opener-policy': 'same-origin',
  'x-frame-options': 'DENY',
  'cache-control': 'no-store',
};

const STATUS_BY_GRPC: Readonly<Record<number, number>> = {
  [GrpcStatus.INVALID_ARGUMENT]: 400,
  [GrpcStatus.UNAUTHENTICATED]: 401,
  [GrpcStatus.PERMISSION_DENIED]: 403,
  [GrpcStatus.NOT_FOUND]: 404,
  [GrpcStatus.ALREADY_EXISTS]: 409,
  [GrpcStatus.FAILED_PRECONDITION]: 409,
  [GrpcStatus.ABORTED]: 409,
  [GrpcStatus.CANCELLED]: 409,
  [GrpcStatus.RESOURCE_EXHAUSTED]: 413,
  [GrpcStatus.UNAVAILABLE]: 503,
  [GrpcStatus.DEADLINE_EXCEEDED]: 504,
};

/** The HTTP status of a catalogued error. */
export function statusOf(error: TandemError): number {
  return STATUS_BY_GRPC[error.grpcStatus] ?? 500;
}

export type ErrorBody = {
  readonly error: {
    readonly code: string;
    readonly message: string;
    readonly field?: string;
    readonly fix?: string;
    readonly line?: number;
  };
};

/** What the page is told about a failure. */
export function errorBody(error: unknown): ErrorBody {
  const e = asTandemError(error);
  if (e.code === 'INTERNAL')
    return { error: { code: e.code, message: 'internal error (the console log has the detail)' } };
  if (e instanceof ConfigError) {
    const line = e.details['line'];
    return {
      error: {
        code: e.code,
        message: e.message,
        field: e.field,
        fix: e.fix,
        ...(typeof line === 'number' ? { line } : {}),
      },
    };
  }
  return { error: { code: e.code, message: e.message } };
}

/** An open event stream to one page. */
export type EventStream = {
  /** Sends one event with a JSON payload. */
  send(event: string, data: unknown): void;
  /** Ends the stream (the page's EventSource would reconnect: send an `end` event first when it should not). */
  close(): void;
  /** Aborted when the page goes away or the stream is closed. */
  readonly signal: AbortSignal;
};

/**
 * Takes the response over as a `text/event-stream`. A comment every
 * `keepAliveMs` keeps proxies and the browser from timing the stream out.
 * @param keepAliveMs @default 15000
 */
export function openEventStream(request: FastifyRequest, reply: FastifyReply, keepAliveMs = 15_000): EventStream {
  const abort = new AbortController();
  reply.hijack();
  const raw = reply.raw;
  raw.writeHead(200, {
    ...SECURITY_HEADERS,
    'content-type': 'text/event-stream; charset=utf-8',
    connection: 'keep-alive',
    'x-accel-buffering': 'no',
  });
  raw.write(': open\n\n');
  const timer = setInterval(() => raw.write(': keep-alive\n\n'), keepAliveMs);
  timer.unref();
  const close = (): void => {
    if (abort.signal.aborted) return;
    clearInterval(timer);
    abort.abort();
    raw.end();
  };
  request.raw.on('close', close);
  return {
    send: (event, data) => {
      if (!abort.signal.aborted) raw.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
    },
    close,
    signal: abort.signal,
  };
}

export type ConsoleRoute = {
  readonly method: 'GET' | 'POST';
  readonly url: string;
  /** JSON schema of params, query and body; Fastify refuses what does not match with a 400. */
  readonly schema?: FastifySchema;
  readonly handler: (request: FastifyRequest, reply: FastifyReply) => unknown;
};

/** What every route table gets. */
export type RouteContext = {
  readonly node: NodeContext;
  readonly log: Logger;
  /** Audit log files given with --audit-logs. */
  readonly auditLogs: readonly string[];
  /** Where `<node>.crt` of every node is. */
  readonly auditCertsDir: string;
};

/** A job id as the coordinator makes them; anything else is refused before it reaches a path or a call. */
export const JOB_ID_PATTERN = '^job-[0-9a-f]{10}$';

export const jobParams = {
  type: 'object',
  required: ['id'],
  properties: { id: { type: 'string', pattern: JOB_ID_PATTERN } },
} as const;

/** A POST body holding a job spec's YAML. */
export const specBody = {
  type: 'object',
  required: ['specYaml'],
  additionalProperties: false,
  properties: { specYaml: { type: 'string', minLength: 1, maxLength: 65536 } },
} as const;
