/**
 * `tandem serve`: loads a verified model bundle and opens its endpoints.
 *
 * - public (HTTP/JSON, `port`): health, model info, Prometheus metrics, and
 *   scoring — at the guest, federated online scoring; at a host, its own
 *   partial for one of its users and, with an audience file, membership;
 * - peer (HTTPS with mTLS, `peerPort`, hosts only): partial logits by
 *   pseudonym, for the job's guest and nobody else;
 * - gRPC (mTLS, `grpcPort`, optional): service `Scoring` — Score, ScoreBatch,
 *   Health, ModelInfo — calling the same handlers as the public HTTP routes.
 *
 * On the mTLS endpoints, scoring is for the allowed callers only (by
 * certificate CN; default: the parties of the model's job): gRPC Score and
 * ScoreBatch, and the host's partial scores, which only the job's guest may
 * ask for in any case.
 *
 * Options go raw → defaults → checked → frozen (`compileServeOptions`).
 */
import { z } from 'zod';
import { loadPartyConfig } from '../party/config.ts';
import { ConfigError, TandemError } from '../protocol/errors.ts';
import { loadNodeIdentity, NODE_NAME } from '../runtime/certs.ts';
import { silentLogger, type Logger } from '../runtime/logger.ts';
import { loadAudience, type AudienceEntry } from './batch-scoring.ts';
import { loadHostStore, type HostStore, type PartialLogits } from './host-store.ts';
import { startGrpcServer, type GrpcServer } from './grpc-server.ts';
import { coalescing } from './host-batcher.ts';
import { startHttpServer, type HttpServer, type Route } from './http-server.ts';
import { ServeMetrics } from './metrics.ts';
import { coordinatorName, loadModel, type ServingModel } from './model-bundle.ts';
import { scoreOnline, type HostClient } from './online-scoring.ts';
import { absentHost, PARTIAL_SCORES_PATH, peerClient, type PeerClient } from './peer-client.ts';
import { partialScore, partialScores } from './scorer.ts';

export type ServeOptions = {
  /** Directory written by `tandem model export`. */
  readonly modelDir: string;
  /** The party node's YAML config: its certificates (mTLS, model verification) and, at a host, the dataset to score from. */
  readonly configFile: string;
  /** Listen address of both endpoints. @default '127.0.0.1' */
  readonly listen?: string | undefined;
  /** Public HTTP port; 0 picks a free one. @default 8080 */
  readonly port?: number | undefined;
  /** Host only: the mTLS peer port the guest calls; 0 picks a free one. @default 8443 */
  readonly peerPort?: number | undefined;
  /** gRPC (service Scoring, mTLS) port; 0 picks a free one. Undefined: no gRPC endpoint. */
  readonly grpcPort?: number | undefined;
  /** Guest only: host name → `https://address:peerPort`. A host without one is always a fallback. @default {} */
  readonly hostEndpoints?: Readonly<Record<string, string>> | undefined;
  /** Guest only: how long to wait for each host. @default 250 */
  readonly hostTimeoutMs?: number | undefined;
  /** How long `close()` lets in-flight requests finish. @default 10000 */
  readonly shutdownGraceTimeMs?: number | undefined;
  /** Probability at or above which a visitor is in the `positive` segment. @default 0.5 */
  readonly threshold?: number | undefined;
  /** Host only: a ranked audience (from `tandem model score-pool`) for membership tests. */
  readonly audienceFile?: string | undefined;
  /** Certificate names (CNs) that may score over mTLS: gRPC Score/ScoreBatch, a host's partial scores. @default the parties of the model's job */
  readonly allowedCallers?: readonly string[] | undefined;
  readonly log?: Logger | undefined;
};

export type ServeConfig = {
  readonly modelDir: string;
  readonly configFile: string;
  readonly listen: string;
  readonly port: number;
  readonly peerPort: number;
  readonly grpcPort: number | undefined;
  readonly hostEndpoints: Readonly<Record<string, string>>;
  readonly hostTimeoutMs: number;
  readonly shutdownGraceTimeMs: number;
  readonly threshold: number;
  readonly audienceFile: string | undefined;
  /** Undefined: the job's parties (known once the model is loaded). */
  readonly allowedCallers: readonly string[] | undefined;
};

/** Fills defaults and checks ranges. @throws TandemError ARGUMENT_INVALID naming the option */
export function compileServeOptions(options: ServeOptions): ServeConfig {
  const config: ServeConfig = {
    modelDir: options.modelDir, configFile: options.configFile, listen: options.listen ?? '127.0.0.1',
    port: options.port ?? 8080, peerPort: options.peerPort ?? 8443, grpcPort: options.grpcPort, hostEndpoints: { ...options.hostEndpoints },
    hostTimeoutMs: options.hostTimeoutMs ?? 250, shutdownGraceTimeMs: options.shutdownGraceTimeMs ?? 10_000,
    threshold: options.threshold ?? 0.5, audienceFile: options.audienceFile,
    allowedCallers: options.allowedCallers === undefined ? undefined : Object.freeze([...options.allowedCallers]),
  };
  const bad = (option: string, problem: string): TandemError => new TandemError('ARGUMENT_INVALID', `--${option}: ${problem}`);
  for (const [option, port] of [['port', config.port], ['peer-port', config.peerPort], ['grpc-port', config.grpcPort]] as const) {
    if (port !== undefined && (!Number.isInteger(port) || port < 0 || port > 65_535)) throw bad(option, `${port} is not a port number (0–65535)`);
  }
  if (!(config.hostTimeoutMs > 0)) throw bad('host-timeout-ms', 'must be positive');
  if (!(config.threshold > 0 && config.threshold < 1)) throw bad('threshold', 'must be between 0 and 1');
  for (const name of config.allowedCallers ?? []) {
    if (!NODE_NAME.test(name)) throw bad('allow-caller', `"${name}" is not a node name (a certificate CN: lowercase letters, digits and dashes)`);
  }
  for (const [name, url] of Object.entries(config.hostEndpoints)) {
    if (!/^https:\/\/[^/\s]+\/?$/.test(url)) throw bad('host-endpoint', `${name}=${url}: expected https://host:port`);
  }
  return Object.freeze(config);
}

export type Serving = {
  readonly model: ServingModel;
  readonly port: number;
  /** The mTLS peer port (hosts only). */
  readonly peerPort: number | undefined;
  /** The gRPC port, when serving gRPC. */
  readonly grpcPort: number | undefined;
  close(): Promise<void>;
};

const rawValue = z.union([z.string(), z.number(), z.boolean(), z.null()]);
const scoreRow = z.strictObject({ id: z.string().min(1).max(512), features: z.record(z.string(), rawValue).optional() });
const scoreBatch = z.strictObject({ rows: z.array(scoreRow).min(1).max(1000) });
const hostScore = z.strictObject({ id: z.string().min(1).max(512).optional(), features: z.record(z.string(), rawValue).optional() });
const partialRequest = z.strictObject({ jobId: z.string(), pseudonyms: z.array(z.string().max(64)).max(10_000) });

/** A host's answer for one user: `partialLogit` (binary) or `partialLogits`, one per class. */
const partialJson = (u: PartialLogits): { partialLogit: number } | { partialLogits: readonly number[] } => (typeof u === 'number' ? { partialLogit: u } : { partialLogits: u });

export async function startServing(options: ServeOptions): Promise<Serving> {
  const config = compileServeOptions(options);
  const log = options.log ?? silentLogger();
  const node = await loadPartyConfig(config.configFile);
  const identity = await loadNodeIdentity(node.node.certs);
  const model = await loadModel(config.modelDir, { caPem: identity.caPem, party: identity.name, coordinator: coordinatorName(node) });
  const { manifest } = model;
  const metrics = new ServeMetrics();
  const allowed = new Set(config.allowedCallers ?? manifest.parties.map((p) => p.name));
  /** Refuses an mTLS caller that is not allowed to score here. */
  const checkCaller = (peer: string | undefined, what: string): void => {
    if (peer !== undefined && !allowed.has(peer)) {
      throw new TandemError('AUTH_NOT_ALLOWED', `${peer} called ${what}, allowed: ${[...allowed].join(', ')}`, { publicMessage: `${peer} may not call ${what} on this endpoint; its operator can allow it with --allow-caller ${peer}` });
    }
  };
  /** A scoring handler for the mTLS edge: allowed callers only (the public HTTP edge has no caller identity). */
  const guarded = (what: string, handle: Route['handle']): Route['handle'] => (req) => {
    checkCaller(req.peer, what);
    return handle(req);
  };
  const info = {
    jobId: manifest.jobId, jobName: manifest.jobName, party: manifest.party, role: manifest.role,
    parties: manifest.parties.map((p) => ({ name: p.name, role: p.role })), featureNames: manifest.featureNames,
    inputColumns: model.preprocess.columns.map((c) => ({ name: c.name, kind: c.kind })), output: manifest.output,
    metrics: manifest.metrics, protocolVersion: manifest.protocolVersion, createdAt: manifest.createdAt, trainedAt: manifest.trainedAt,
    outputs: model.outputs, ...(model.classes === undefined ? {} : { classes: model.classes }),
  };
  let closing = false;
  const health: Route['handle'] = () => ({ status: closing ? 503 : 200, json: { status: closing ? 'draining' : 'ok', role: manifest.role, jobId: manifest.jobId } });
  const modelInfo: Route['handle'] = () => ({ json: info });
  const common: Route[] = [
    { method: 'GET', path: '/healthz', name: 'health', handle: health },
    { method: 'GET', path: '/v1/model', name: 'model-info', handle: modelInfo },
    { method: 'GET', path: '/metrics', name: 'metrics', handle: () => ({ text: metrics.render() }) },
  ];
  const servers: HttpServer[] = [];
  const clients: PeerClient[] = [];
  let grpcServer: GrpcServer | undefined;
  /** The public scoring handlers, for the gRPC adapter. */
  let scoring: { score: Route['handle']; scoreBatch: Route['handle'] | undefined } | undefined;
  try {
    if (manifest.role === 'guest') {
      const unknown = Object.keys(config.hostEndpoints).filter((h) => !model.hosts.includes(h));
      if (unknown.length > 0) throw new TandemError('ARGUMENT_INVALID', `--host-endpoint ${unknown.join(', ')}: job ${manifest.jobId} has no such host (its hosts: ${model.hosts.join(', ')})`);
      const hosts: HostClient[] = model.hosts.map((name) => {
        const url = config.hostEndpoints[name];
        if (url === undefined) return absentHost(name);
        const client = peerClient({
          name, url, identity, jobId: manifest.jobId, timeoutMs: config.hostTimeoutMs,
          observe: (outcome, seconds) => {
            metrics.hostCalls.inc({ host: name, outcome });
            metrics.hostLatency.observe({ host: name }, seconds);
          },
        });
        clients.push(client);
        return coalescing(client);
      });
      const score = async (rows: readonly z.infer<typeof scoreRow>[]) => {
        const results = await scoreOnline(model, hosts, rows.map((r) => ({ id: r.id, features: r.features ?? {} })), { threshold: config.threshold });
        for (const r of results) metrics.rowsScored.inc({ complete: String(r.complete) });
        return results;
      };
      const scoreOne: Route['handle'] = async (req) => ({ json: (await score([req.body(scoreRow)]))[0] });
      const scoreMany: Route['handle'] = async (req) => ({ json: { results: await score(req.body(scoreBatch).rows) } });
      scoring = { score: scoreOne, scoreBatch: scoreMany };
      servers.push(await startHttpServer({
        routes: [
          ...common,
          { method: 'POST', path: '/v1/score', name: 'score', handle: scoreOne },
          { method: 'POST', path: '/v1/score-batch', name: 'score-batch', handle: scoreMany },
        ],
        metrics, log, host: config.listen, port: config.port,
      }));
    } else {
      const dataset = node.datasets[manifest.parties.find((p) => p.name === manifest.party)?.dataset ?? ''];
      if (dataset === undefined) {
        throw new ConfigError('CONFIG_INVALID', { file: config.configFile, field: 'datasets', problem: `has no dataset "${manifest.parties.find((p) => p.name === manifest.party)?.dataset ?? ''}", which job ${manifest.jobId} trained on`, fix: 'serve with the node config the job ran with' });
      }
      const store: HostStore = await loadHostStore(model, dataset);
      const audience: ReadonlyMap<string, AudienceEntry> | undefined = config.audienceFile === undefined ? undefined : await loadAudience(config.audienceFile);
      scoring = {
        score: (req) => {
          const body = req.body(hostScore);
          if (body.features !== undefined) return { json: partialJson(model.outputs === 1 ? partialScore(model, body.features, 'features') : Array.from(partialScores(model, body.features, 'features'))) };
          if (body.id === undefined) throw new TandemError('ARGUMENT_INVALID', 'neither id nor features', { publicMessage: 'send an id or features' });
          const u = store.byId(body.id);
          if (u === undefined) throw new TandemError('ARGUMENT_INVALID', 'unknown id', { publicMessage: 'no such user in this party\'s data' });
          return { json: { id: body.id, ...partialJson(u) } };
        },
        scoreBatch: undefined,
      };
      servers.push(await startHttpServer({
        routes: [
          ...common,
          { method: 'POST', path: '/v1/score', name: 'score', handle: scoring.score },
          { method: 'GET', path: /^\/v1\/audience\/([^/]+)$/, name: 'audience', handle: (req) => {
            if (audience === undefined) throw new TandemError('ARGUMENT_INVALID', 'no audience', { publicMessage: 'this endpoint was started without --audience' });
            const id = req.params[0] ?? '';
            const entry = audience.get(id);
            return { json: entry === undefined ? { id, member: false } : { id, member: true, rank: entry.rank, score: entry.score } };
          } },
        ],
        metrics, log, host: config.listen, port: config.port,
      }));
      servers.push(await startHttpServer({
        routes: [
          { method: 'GET', path: '/healthz', name: 'peer-health', handle: () => ({ status: closing ? 503 : 200, json: { status: closing ? 'draining' : 'ok' } }) },
          { method: 'POST', path: PARTIAL_SCORES_PATH, name: 'partial-scores', handle: (req) => {
            checkCaller(req.peer, 'partial-scores');
            if (req.peer !== model.guest) throw new TandemError('AUTH_NOT_ALLOWED', `${String(req.peer)} asked for partial scores`, { publicMessage: `only ${model.guest}, the guest of job ${manifest.jobId}, may ask for partial scores` });
            const body = req.body(partialRequest);
            if (body.jobId !== manifest.jobId) throw new TandemError('JOB_STATE_CONFLICT', `partial scores asked for job ${body.jobId}`, { publicMessage: `this endpoint serves job ${manifest.jobId}, not ${body.jobId}` });
            return { json: { jobId: manifest.jobId, scores: body.pseudonyms.map((p) => store.byPseudonym(p) ?? null) } };
          } },
        ],
        metrics, log, host: config.listen, port: config.peerPort, tls: identity, maxBodyBytes: 4 * 1_048_576,
      }));
      log.info({ rows: store.rows }, 'host rows indexed');
    }
    if (config.grpcPort !== undefined) {
      grpcServer = await startGrpcServer({
        routes: { score: guarded('Score', scoring.score), scoreBatch: scoring.scoreBatch === undefined ? undefined : guarded('ScoreBatch', scoring.scoreBatch), health, modelInfo },
        identity, metrics, log, host: config.listen, port: config.grpcPort,
      });
    }
  } catch (error) {
    await grpcServer?.close(0);
    for (const s of servers) await s.close(0);
    for (const c of clients) c.close();
    throw error;
  }
  log.info({ job: manifest.jobId, role: manifest.role, port: servers[0]?.port, grpcPort: grpcServer?.port }, 'serving');
  return {
    model, port: servers[0]?.port ?? 0, peerPort: servers[1]?.port, grpcPort: grpcServer?.port,
    close: async () => {
      closing = true;
      await Promise.all([...servers.map((s) => s.close(config.shutdownGraceTimeMs)), grpcServer?.close(config.shutdownGraceTimeMs)]);
      for (const c of clients) c.close();
    },
  };
}
