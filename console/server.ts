/**
 * `tandem console`'s server: HTTPS with the node's own certificate (the
 * browser sees the node's name, issued by the federation CA), bound to
 * loopback unless told otherwise, and every route behind the session check
 * of console/auth.ts except the login link itself. The views are route
 * tables: the party's (routes-party.ts: datasets, jobs, models, the job
 * form), the coordinator's (routes-coordinator.ts: parties, jobs,
 * failures), and the auditor's for any node given audit logs
 * (audit-view.ts). The pages are hand-written HTML, CSS and ES modules in
 * console/static, read once at start and served from memory: nothing is
 * built, and nothing is fetched from anywhere else.
 */
import { readdir, readFile } from 'node:fs/promises';
import { extname, join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import Fastify, { type FastifyReply, type FastifyRequest } from 'fastify';
import { AuthError, TandemError, asTandemError } from '../protocol/errors.ts';
import type { Logger } from '../runtime/logger.ts';
import { CLEAR_SESSION_COOKIE, ConsoleAuth, CSRF_HEADER, crossSiteProblem, sessionCookie } from './auth.ts';
import { errorBody, SECURITY_HEADERS, statusOf, type ConsoleRoute, type RouteContext } from './http.ts';
import { loadNodeContext, type NodeContext } from './node-context.ts';
import { partyRoutes } from './routes-party.ts';
import { coordinatorRoutes } from './routes-coordinator.ts';
import { auditRoutes } from './audit-view.ts';

export type ConsoleOptions = {
  /** A party node's or the coordinator's config. */
  readonly config: string;
  /** Address to listen on. @default '127.0.0.1' */
  readonly listen?: string | undefined;
  /** 0 picks a free port. @default 0 */
  readonly port?: number | undefined;
  /** Audit logs to verify and browse (any node's). @default [] */
  readonly auditLogs?: readonly string[] | undefined;
  /** Where the nodes' certificates (`<node>.crt`) are. @default the directory of this node's certificate */
  readonly auditCertsDir?: string | undefined;
  /** Names of federation certificates let in without a login link. @default [this node's name] */
  readonly clientCertNames?: readonly string[] | undefined;
  /** With a coordinator config: where to dial it. @default from its config */
  readonly coordinatorAddress?: string | undefined;
  /** Host name in the printed links; it must be one the node's certificate names. @default the node's name */
  readonly urlHost?: string | undefined;
  /** @default 43200000 (12 h) */
  readonly sessionTtlMs?: number | undefined;
  readonly log: Logger;
};

export type ConsoleServer = {
  readonly port: number;
  readonly node: NodeContext;
  /** `https://<urlHost>:<port>` */
  readonly origin: string;
  /** A new one-time login link. */
  loginLink(): string;
  /** Every route, for tests that check they all require a session. */
  readonly routes: readonly Pick<ConsoleRoute, 'method' | 'url'>[];
  close(): Promise<void>;
};

const UNAUTHENTICATED_PAGE = (message: string): string =>
  `<!doctype html><html lang="en"><meta charset="utf-8"><title>Tandem console</title><body><h1>Tandem console</h1><p>${escapeHtml(message)}.</p><p>Open the login link that <code>tandem console</code> printed when it started (each link works once). For a new one, send the console <code>SIGHUP</code> or start it again.</p></body></html>`;

/** Starts the console next to a node. @throws ConfigError for a bad config or certificate */
export async function startConsole(o: ConsoleOptions): Promise<ConsoleServer> {
  const node = await loadNodeContext({ config: o.config, coordinatorAddress: o.coordinatorAddress });
  const log = o.log.child({ node: node.name });
  const auth = new ConsoleAuth({
    caPem: node.identity.caPem,
    clientNames: o.clientCertNames ?? [node.name],
    sessionTtlMs: o.sessionTtlMs,
  });
  const assets = await loadStaticAssets();
  const ctx: RouteContext = {
    node,
    log,
    auditLogs: o.auditLogs ?? [],
    auditCertsDir: o.auditCertsDir ?? node.certsDir,
  };
  const routes: ConsoleRoute[] = [
    ...(node.kind === 'party' ? partyRoutes(ctx, node.config) : coordinatorRoutes(ctx)),
    ...auditRoutes(ctx),
    {
      method: 'GET',
      url: '/api/whoami',
      handler: () => ({
        node: node.name,
        kind: node.kind,
        auditLogs: ctx.auditLogs.length,
        fingerprint: node.identity.fingerprintSha256,
      }),
    },
    {
      method: 'POST',
      url: '/api/logout',
      handler: (request, reply) => {
        auth.logout(request.headers.cookie);
        void reply.header('set-cookie', CLEAR_SESSION_COOKIE);
        return { ok: true };
      },
    },
    { method: 'GET', url: '/', handler: (_r, reply) => asset(reply, 'index.html') },
    {
      method: 'GET',
      url: '/assets/:file',
      handler: (request, reply) => asset(reply, (request.params as { file: string }).file),
    },
  ];
  const asset = (reply: FastifyReply, name: string): FastifyReply => {
    const file = assets.get(name);
    if (file === undefined)
      return reply.status(404).send({ error: { code: 'ARGUMENT_INVALID', message: `no such asset: ${name}` } });
    return reply.type(file.type).send(file.body);
  };

  /** Every request but the login link's: a session or an allowed certificate, and nothing cross-site. */
  const guard = (request: FastifyRequest): void => {
    const path = request.url.split('?')[0] ?? '/';
    if (request.method === 'GET' && path === '/login') return;
    const der = (request.raw.socket as TLSSocket).getPeerCertificate?.(false)?.raw as Uint8Array | undefined;
    auth.authenticate(request.headers.cookie, der);
    if (path.startsWith('/api/') || request.method !== 'GET') {
      const problem = crossSiteProblem({
        method: request.method,
        host: request.headers.host,
        origin: request.headers.origin,
        fetchSite: header(request, 'sec-fetch-site'),
        csrfHeader: header(request, CSRF_HEADER),
      });
      if (problem !== undefined)
        throw new AuthError('AUTH_NOT_ALLOWED', `refused a cross-site request: ${problem}`, {
          publicMessage: 'requests from other sites are refused',
        });
    }
  };

  const app = Fastify({
    https: {
      key: node.identity.keyPem,
      cert: `${node.identity.certPem.trim()}\n${node.identity.caPem.trim()}\n`,
      ca: node.identity.caPem,
      requestCert: true,
      rejectUnauthorized: false,
      minVersion: 'TLSv1.2',
    },
    logger: false,
    bodyLimit: 256 * 1024,
    forceCloseConnections: true,
    connectionTimeout: 0,
    requestTimeout: 60_000,
  });
  app.addHook('onRequest', (request, _reply, done) => {
    try {
      guard(request);
      done();
    } catch (error) {
      done(error as Error);
    }
  });
  app.addHook('onSend', (_request, reply, payload, done) => {
    for (const [k, v] of Object.entries(SECURITY_HEADERS)) if (!reply.hasHeader(k)) void reply.header(k, v);
    done(null, payload);
  });
  app.setErrorHandler((error, request, reply) => {
    // Fastify's own refusals (a bad body, one too large) keep their status, under the catalog's code for bad input.
    const own = (error as { statusCode?: unknown }).statusCode;
    const fastify = !(error instanceof TandemError) && typeof own === 'number' && own < 500 ? own : undefined;
    const e =
      fastify === undefined ? asTandemError(error) : new TandemError('ARGUMENT_INVALID', (error as Error).message);
    const status = fastify ?? statusOf(e);
    if (status >= 500) log.warn({ code: e.code, err: e }, 'console request failed');
    const wantsPage =
      request.method === 'GET' &&
      !request.url.startsWith('/api/') &&
      (request.headers.accept ?? '').includes('text/html');
    if (wantsPage && status === 401)
      return reply.status(401).type('text/html; charset=utf-8').send(UNAUTHENTICATED_PAGE(e.publicMessage));
    return reply.status(status).send(errorBody(e));
  });
  app.setNotFoundHandler((request, reply) =>
    reply.status(404).send({
      error: {
        code: 'ARGUMENT_INVALID',
        message: `no such page: ${request.method} ${request.url.split('?')[0] ?? ''}`,
      },
    }),
  );

  app.get('/login', (request, reply) => {
    const token = (request.query as { token?: unknown }).token;
    const session = auth.login(typeof token === 'string' ? token : '');
    log.info({ address: request.ip }, 'console login');
    return reply.header('set-cookie', sessionCookie(session, auth.sessionTtlMs)).redirect('/', 303);
  });
  for (const r of routes)
    app.route({
      method: r.method,
      url: r.url,
      handler: r.handler,
      ...(r.schema === undefined ? {} : { schema: r.schema }),
    });

  await app.listen({ host: o.listen ?? '127.0.0.1', port: o.port ?? 0 });
  const address = app.server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  const origin = `https://${o.urlHost ?? node.name}:${port}`;
  log.info({ address: `${o.listen ?? '127.0.0.1'}:${port}` }, 'console listening');
  return {
    port,
    node,
    origin,
    loginLink: () => `${origin}/login?token=${auth.issueLoginToken()}`,
    routes: [{ method: 'GET', url: '/login' }, ...routes.map(({ method, url }) => ({ method, url }))],
    close: async () => {
      await app.close();
      node.close();
    },
  };
}

const escapeHtml = (s: string): string => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function header(request: FastifyRequest, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

const STATIC_DIR = join(import.meta.dirname, 'static');

const TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
};

type Asset = { readonly body: Buffer; readonly type: string };

/** Every file of console/static by name (no subdirectories). */
async function loadStaticAssets(dir: string = STATIC_DIR): Promise<ReadonlyMap<string, Asset>> {
  const assets = new Map<string, Asset>();
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const type = TYPES[extname(entry.name)];
    if (!entry.isFile() || type === undefined) continue;
    assets.set(entry.name, { body: await readFile(join(dir, entry.name)), type });
  }
  return assets;
}
