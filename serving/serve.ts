/**
 * `tandem serve`: loads a verified model bundle and opens its endpoints.
 *
 * - public (`listen`:`port`, HTTP/JSON): health (open), and for this
 *   party's operators only (a bearer token, or a client certificate with
 *   `publicAuth: 'mtls'`): model info, Prometheus metrics and scoring — at
 *   the guest, federated online scoring; at a host, its own partial for one
 *   of its users or a feature vector and, with an audience file, membership;
 * - peer (`peerListen`:`peerPort`, HTTPS with mTLS, hosts only): partial
 *   logits (a trees host: split bits) by pseudonym, for the job's guest
 *   and nobody else;
 * - gRPC (`listen`:`grpcPort`, mTLS, optional): service `Scoring`, calling
 *   the same handlers as the public routes.
 *
 * An LR bundle and a trees bundle (trees-bundle.ts) are served alike.
 * Who may call what is decided in one place (access.ts) for every edge.
 * Options go raw → defaults → checked → frozen (`compileServeOptions`).
 */
import { join, resolve } from 'node:path';
import { loadPartyConfig } from '../party/config.ts';
import { nodeSecretSeed } from '../party/node-secret.ts';
import { ConfigError, TandemError } from '../protocol/errors.ts';
import { loadNodeIdentity, NODE_NAME } from '../runtime/certs.ts';
import { processStartTicks } from '../runtime/node-lock.ts';
import { silentLogger, type Logger } from '../runtime/logger.ts';
import { accessPolicy, authorize, type Caller, type Edge } from './access.ts';
import type { Endpoint } from './endpoint.ts';
import { startGrpcServer, type GrpcServer } from './grpc-server.ts';
import { guestEndpoint } from './guest-endpoint.ts';
import { hostEndpoint } from './host-endpoint.ts';
import { certificateName, startHttpServer, type HttpServer, type Route } from './http-server.ts';
import { DEFAULT_LOOKUP_BURST, DEFAULT_LOOKUP_RATE } from './lookup-limit.ts';
import { ServeMetrics } from './metrics.ts';
import { coordinatorName } from './model-bundle.ts';
import { isTrees, loadServable, type ServableModel } from './trees-bundle.ts';
import { MAX_PSEUDONYMS_PER_CALL } from './host-batcher.ts';
import { openServingAudit, type ServingAudit } from './serving-audit.ts';
import { startPeerServer } from './peer-server.ts';
import { announceEndpoint } from './running.ts';
import { openTokenFile, type TokenFile } from './token-file.ts';

export type ServeOptions = {
  /** Directory written by `tandem model export`. */
  readonly modelDir: string;
  /** The party node's YAML config: its certificates (mTLS, model verification), its data directory and, at a host, the dataset to score from. */
  readonly configFile: string;
  /** Listen address of the public HTTP port and the gRPC port. @default '127.0.0.1' */
  readonly listen?: string | undefined;
  /** Public HTTP port; 0 picks a free one. @default 8080 */
  readonly port?: number | undefined;
  /** Host only: listen address of the mTLS peer port. @default '127.0.0.1' */
  readonly peerListen?: string | undefined;
  /** Host only: the mTLS peer port the guest calls; 0 picks a free one. @default 8443 */
  readonly peerPort?: number | undefined;
  /** gRPC (service Scoring, mTLS) port; 0 picks a free one. Undefined: no gRPC endpoint. */
  readonly grpcPort?: number | undefined;
  /** How the public HTTP API authenticates: bearer tokens from `tokenFile`, or client certificates of the federation CA (HTTPS). @default 'token' */
  readonly publicAuth?: 'token' | 'mtls' | undefined;
  /** The bearer tokens (one per line, mode 0600), created with a random token when missing. @default `<dataDir>/serving/tokens` */
  readonly tokenFile?: string | undefined;
  /** Certificate names (CNs) that are operators besides this node: may score over gRPC (and over HTTPS with `publicAuth: 'mtls'`). Never another party of the job. @default [] */
  readonly allowedCallers?: readonly string[] | undefined;
  /** Guest only: host name → `https://address:peerPort`. A host without one is always a fallback. @default {} */
  readonly hostEndpoints?: Readonly<Record<string, string>> | undefined;
  /** Guest only: how long to wait for each host. @default 250 */
  readonly hostTimeoutMs?: number | undefined;
  /** Host only: answer `null` (the guest says `not-held`) for a pseudonym this host does not hold, instead of a decoy. Tells the guest who this host's users are. @default false */
  readonly discloseMembership?: boolean | undefined;
  /** Host only: lookups per second each caller may sustain. @default 5000 */
  readonly lookupRatePerSecond?: number | undefined;
  /** Host only: lookups a caller may make at once after being idle (at least 10,000, one full peer call). @default 20000 */
  readonly lookupBurst?: number | undefined;
  /** The serving audit log (statements of lookups, signed with the node key). @default `<dataDir>/audit/serving/<node>.audit.jsonl` */
  readonly auditLogFile?: string | undefined;
  /** Most open connections per HTTP port. @default 512 */
  readonly maxConnections?: number | undefined;
  /** Time to receive a whole request (headers and body); a slower one is cut with 408. @default 15000 */
  readonly requestTimeoutMs?: number | undefined;
  /** Time to receive a request's headers. @default 10000 */
  readonly headersTimeoutMs?: number | undefined;
  /** How long an idle keep-alive connection stays open. @default 30000 */
  readonly keepAliveTimeoutMs?: number | undefined;
  /** How long `close()` lets in-flight requests finish. @default 10000 */
  readonly shutdownGraceTimeMs?: number | undefined;
  /** Probability at or above which a visitor is in the `positive` segment. @default 0.5 */
  readonly threshold?: number | undefined;
  /** Host only: a ranked audience (from `tandem model score-pool`) for membership tests. */
  readonly audienceFile?: string | undefined;
  readonly log?: Logger | undefined;
};

export type ServeConfig = {
  readonly modelDir: string;
  readonly configFile: string;
  readonly listen: string;
  readonly port: number;
  readonly peerListen: string;
  readonly peerPort: number;
  readonly grpcPort: number | undefined;
  readonly publicAuth: 'token' | 'mtls';
  /** Undefined: `<dataDir>/serving/tokens` (known once the node config is read). */
  readonly tokenFile: string | undefined;
  readonly allowedCallers: readonly string[];
  readonly hostEndpoints: Readonly<Record<string, string>>;
  readonly hostTimeoutMs: number;
  readonly discloseMembership: boolean;
  readonly lookupRatePerSecond: number;
  readonly lookupBurst: number;
  /** Undefined: `<dataDir>/audit/serving/<node>.audit.jsonl`. */
  readonly auditLogFile: string | undefined;
  readonly maxConnections: number;
  readonly requestTimeoutMs: number;
  readonly headersTimeoutMs: number;
  readonly keepAliveTimeoutMs: number;
  readonly shutdownGraceTimeMs: number;
  readonly threshold: number;
  readonly audienceFile: string | undefined;
};

/** Fills defaults and checks ranges. @throws TandemError ARGUMENT_INVALID naming the option */
export function compileServeOptions(options: ServeOptions): ServeConfig {
  const config: ServeConfig = {
    modelDir: options.modelDir,
    configFile: options.configFile,
    listen: options.listen ?? '127.0.0.1',
    port: options.port ?? 8080,
    peerListen: options.peerListen ?? '127.0.0.1',
    peerPort: options.peerPort ?? 8443,
    grpcPort: options.grpcPort,
    publicAuth: options.publicAuth ?? 'token',
    tokenFile: options.tokenFile,
    allowedCallers: Object.freeze([...(options.allowedCallers ?? [])]),
    hostEndpoints: { ...options.hostEndpoints },
    hostTimeoutMs: options.hostTimeoutMs ?? 250,
    discloseMembership: options.discloseMembership ?? false,
    lookupRatePerSecond: options.lookupRatePerSecond ?? DEFAULT_LOOKUP_RATE,
    lookupBurst: options.lookupBurst ?? DEFAULT_LOOKUP_BURST,
    auditLogFile: options.auditLogFile,
    maxConnections: options.maxConnections ?? 512,
    requestTimeoutMs: options.requestTimeoutMs ?? 15_000,
    headersTimeoutMs: options.headersTimeoutMs ?? 10_000,
    keepAliveTimeoutMs: options.keepAliveTimeoutMs ?? 30_000,
    shutdownGraceTimeMs: options.shutdownGraceTimeMs ?? 10_000,
    threshold: options.threshold ?? 0.5,
    audienceFile: options.audienceFile,
  };
  const bad = (option: string, problem: string): TandemError =>
    new TandemError('ARGUMENT_INVALID', `--${option}: ${problem}`);
  for (const [option, port] of [
    ['port', config.port],
    ['peer-port', config.peerPort],
    ['grpc-port', config.grpcPort],
  ] as const) {
    if (port !== undefined && (!Number.isInteger(port) || port < 0 || port > 65_535))
      throw bad(option, `${port} is not a port number (0–65535)`);
  }
  if (!['token', 'mtls'].includes(config.publicAuth))
    throw bad('public-auth', `${String(config.publicAuth)} is not token or mtls`);
  if (!(config.hostTimeoutMs > 0)) throw bad('host-timeout-ms', 'must be positive');
  if (!(config.threshold > 0 && config.threshold < 1)) throw bad('threshold', 'must be between 0 and 1');
  if (!(config.lookupRatePerSecond > 0)) throw bad('lookup-rate', 'must be positive');
  if (!(config.lookupBurst >= MAX_PSEUDONYMS_PER_CALL))
    throw bad(
      'lookup-burst',
      `must be at least ${MAX_PSEUDONYMS_PER_CALL}, the pseudonyms of one full call from the guest`,
    );
  if (!(Number.isInteger(config.maxConnections) && config.maxConnections > 0))
    throw bad('max-connections', 'must be a positive whole number');
  for (const [option, ms] of [
    ['request-timeout-ms', config.requestTimeoutMs],
    ['headers-timeout-ms', config.headersTimeoutMs],
    ['keep-alive-timeout-ms', config.keepAliveTimeoutMs],
  ] as const) {
    if (!(Number.isFinite(ms) && ms > 0)) throw bad(option, 'must be positive');
  }
  for (const name of config.allowedCallers) {
    if (!NODE_NAME.test(name))
      throw bad(
        'allow-caller',
        `"${name}" is not a node name (a certificate CN: lowercase letters, digits and dashes)`,
      );
  }
  for (const [name, url] of Object.entries(config.hostEndpoints)) {
    if (!/^https:\/\/[^/\s]+\/?$/.test(url)) throw bad('host-endpoint', `${name}=${url}: expected https://host:port`);
  }
  return Object.freeze(config);
}

export type Serving = {
  readonly model: ServableModel;
  readonly port: number;
  /** The mTLS peer port (hosts only). */
  readonly peerPort: number | undefined;
  /** The gRPC port, when serving gRPC. */
  readonly grpcPort: number | undefined;
  /** The bearer token file of the public API (`publicAuth: 'token'`), and whether this start created it. */
  readonly tokens: Pick<TokenFile, 'file' | 'created'> | undefined;
  /** The serving audit log. */
  readonly auditLogFile: string;
  close(): Promise<void>;
};

export async function startServing(options: ServeOptions): Promise<Serving> {
  const config = compileServeOptions(options);
  const log = options.log ?? silentLogger();
  const node = await loadPartyConfig(config.configFile);
  const identity = await loadNodeIdentity(node.node.certs);
  const model = await loadServable(config.modelDir, {
    caPem: identity.caPem,
    party: identity.name,
    coordinator: coordinatorName(node),
  });
  const { manifest } = model;
  const policy = accessPolicy(
    { self: identity.name, jobId: manifest.jobId, guest: model.guest, parties: manifest.parties },
    config.allowedCallers,
  );
  const tokens =
    config.publicAuth === 'token'
      ? await openTokenFile(config.tokenFile ?? join(node.node.dataDir, 'serving', 'tokens'))
      : undefined;
  if (tokens?.created === true)
    log.info(
      { file: tokens.file },
      'created a bearer token file with a new random token (mode 0600): give a token from it to the services that call this endpoint',
    );
  const authenticatePublic = (request: Parameters<typeof certificateName>[0]): Caller => {
    if (tokens !== undefined) return tokens.authenticate(request.headers.authorization);
    const name = certificateName(request, identity);
    return name === undefined ? { kind: 'anonymous' } : { kind: 'certificate', name };
  };
  const edge =
    (where: Edge) =>
    (caller: Caller, action: Parameters<typeof authorize>[3], what: string): void =>
      authorize(policy, where, caller, action, what);
  const metrics = new ServeMetrics();
  const info = {
    jobId: manifest.jobId,
    jobName: manifest.jobName,
    party: manifest.party,
    role: manifest.role,
    parties: manifest.parties.map((p) => ({ name: p.name, role: p.role })),
    featureNames: manifest.featureNames,
    inputColumns: model.preprocess.columns.map((c) => ({ name: c.name, kind: c.kind })),
    output: manifest.output,
    metrics: manifest.metrics,
    protocolVersion: manifest.protocolVersion,
    createdAt: manifest.createdAt,
    trainedAt: manifest.trainedAt,
    ...(isTrees(model)
      ? {
          family: 'trees',
          outputs: model.scoring.outputs ?? 1,
          ...(model.scoring.classes === undefined ? {} : { classes: model.scoring.classes }),
        }
      : { outputs: model.outputs, ...(model.classes === undefined ? {} : { classes: model.classes }) }),
  };
  let closing = false;
  // Health says whether the endpoint is up, nothing else: it is the one route open to anyone.
  const health: Route['handle'] = () => ({
    status: closing ? 503 : 200,
    json: { status: closing ? 'draining' : 'ok' },
  });
  const modelInfo: Route['handle'] = () => ({ json: info });
  const common: Route[] = [
    { method: 'GET', path: '/healthz', name: 'health', action: 'health', handle: health },
    { method: 'GET', path: '/v1/model', name: 'model-info', action: 'model-info', handle: modelInfo },
    {
      method: 'GET',
      path: '/metrics',
      name: 'metrics',
      action: 'metrics',
      handle: async () => ({ text: await metrics.render(), contentType: metrics.contentType }),
    },
  ];
  const limits = {
    maxConnections: config.maxConnections,
    requestTimeoutMs: config.requestTimeoutMs,
    headersTimeoutMs: config.headersTimeoutMs,
    keepAliveTimeoutMs: config.keepAliveTimeoutMs,
  };
  const audit: ServingAudit = openServingAudit({
    file: config.auditLogFile ?? join(node.node.dataDir, 'audit', 'serving', `${identity.name}.audit.jsonl`),
    node: identity.name,
    signingKey: identity.privateKey,
    jobId: manifest.jobId,
  });
  const servers: HttpServer[] = [];
  let grpcServer: GrpcServer | undefined;
  let endpoint: (Endpoint & { close?: () => void }) | undefined;
  let peer: HttpServer | undefined;
  try {
    if (manifest.role === 'guest') {
      const unknown = Object.keys(config.hostEndpoints).filter((h) => !model.hosts.includes(h));
      if (unknown.length > 0)
        throw new TandemError(
          'ARGUMENT_INVALID',
          `--host-endpoint ${unknown.join(', ')}: job ${manifest.jobId} has no such host (its hosts: ${model.hosts.join(', ')})`,
        );
      endpoint = guestEndpoint({
        model,
        identity,
        hostEndpoints: config.hostEndpoints,
        hostTimeoutMs: config.hostTimeoutMs,
        threshold: config.threshold,
        audit,
        metrics,
      });
    } else {
      const datasetName = manifest.parties.find((p) => p.name === manifest.party)?.dataset ?? '';
      const dataset = node.datasets[datasetName];
      if (dataset === undefined) {
        throw new ConfigError('CONFIG_INVALID', {
          file: config.configFile,
          field: 'datasets',
          problem: `has no dataset "${datasetName}", which job ${manifest.jobId} trained on`,
          fix: 'serve with the node config the job ran with',
        });
      }
      // Stable across restarts (the node secret), so a decoy never changes and cannot be told from a real answer by asking again.
      const decoyKey = config.discloseMembership
        ? undefined
        : Buffer.from(await nodeSecretSeed(node.node.dataDir, 'serving-decoy', manifest.jobId), 'hex');
      const host = await hostEndpoint({
        model,
        dataset,
        audit,
        metrics,
        decoyKey,
        audienceFile: config.audienceFile,
        lookups: { ratePerSecond: config.lookupRatePerSecond, burst: config.lookupBurst },
      });
      endpoint = host;
      log.info({ rows: host.rows }, 'host rows indexed');
    }
    servers.push(
      await startHttpServer({
        routes: [...common, ...endpoint.routes],
        metrics,
        log,
        host: config.listen,
        port: config.port,
        ...limits,
        authenticate: authenticatePublic,
        authorize: edge('public'),
        tls: tokens === undefined ? { identity, clientCertificates: 'optional' } : undefined,
      }),
    );
    if (endpoint.peerRoutes !== undefined) {
      peer = await startPeerServer({
        routes: [
          { method: 'GET', path: '/healthz', name: 'peer-health', action: 'health', handle: health },
          ...endpoint.peerRoutes,
        ],
        metrics,
        log,
        host: config.peerListen,
        port: config.peerPort,
        ...limits,
        maxBodyBytes: 4 * 1_048_576,
        identity,
        authenticate: (request) => {
          const name = certificateName(request, identity);
          return name === undefined ? { kind: 'anonymous' } : { kind: 'certificate', name };
        },
        authorize: edge('peer'),
      });
      servers.push(peer);
    }
    if (config.grpcPort !== undefined) {
      grpcServer = await startGrpcServer({
        routes: { score: endpoint.score, scoreBatch: endpoint.scoreBatch, health, modelInfo },
        authorize: edge('grpc'),
        identity,
        metrics,
        log,
        host: config.listen,
        port: config.grpcPort,
      });
    }
  } catch (error) {
    await grpcServer?.close(0);
    for (const s of servers) await s.close(0);
    endpoint?.close?.();
    audit.close();
    throw error;
  }
  log.info({ job: manifest.jobId, role: manifest.role, port: servers[0]?.port, grpcPort: grpcServer?.port }, 'serving');
  // For the node's console: which endpoints run, and where to read their metrics.
  const unannounce = announceEndpoint(node.node.dataDir, {
    pid: process.pid,
    startTicks: processStartTicks(process.pid) ?? null,
    jobId: manifest.jobId,
    jobName: manifest.jobName,
    role: manifest.role,
    party: manifest.party,
    modelDir: resolve(config.modelDir),
    listen: config.listen,
    port: servers[0]?.port ?? 0,
    peerPort: peer?.port ?? null,
    grpcPort: grpcServer?.port ?? null,
    auth: tokens === undefined ? 'mtls' : 'token',
    tokenFile: tokens?.file ?? null,
    startedAt: new Date().toISOString(),
  });
  return {
    model,
    port: servers[0]?.port ?? 0,
    peerPort: peer?.port,
    grpcPort: grpcServer?.port,
    auditLogFile: audit.file,
    tokens: tokens === undefined ? undefined : { file: tokens.file, created: tokens.created },
    close: async () => {
      closing = true;
      unannounce();
      await Promise.all([
        ...servers.map((s) => s.close(config.shutdownGraceTimeMs)),
        grpcServer?.close(config.shutdownGraceTimeMs),
      ]);
      endpoint?.close?.();
      audit.close();
    },
  };
}
