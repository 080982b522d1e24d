/**
 * The gRPC adapter of `tandem serve`: service `Scoring`
 * (protocol/proto/tandem.proto) over mTLS. Every call is translated to the
 * JSON shape of the HTTP/JSON API and handed to the very same route handler,
 * so both APIs score with the same scorer, validate with the same schemas and
 * fail with the same catalogued errors (as gRPC status + `tandem-error-code`
 * metadata). Callers must present a certificate from the federation CA; the
 * handler sees the verified node name as `peer`.
 */
import * as grpc from '@grpc/grpc-js';
import { tandem } from '../protocol/generated/tandem.js';
import { asTandemError, TandemError } from '../protocol/errors.ts';
import type { NodeIdentity } from '../runtime/certs.ts';
import { scoringService, toServiceError } from '../runtime/grpc-service.ts';
import { peerName, serverCredentials, type AuthenticatedCall } from '../runtime/grpc-tls.ts';
import type { Logger } from '../runtime/logger.ts';
import { httpStatus, validate, type Reply, type Route } from './http-server.ts';
import type { ServeMetrics } from './metrics.ts';

type Handle = Route['handle'];

/** The route handlers behind each RPC (the same functions the HTTP routes call). */
export type GrpcRoutes = {
  /** Body `{id?, features?}` → the JSON the HTTP `POST /v1/score` answers. */
  readonly score: Handle;
  /** Body `{rows}` → `{results}`; undefined where HTTP has no batch route (hosts). */
  readonly scoreBatch: Handle | undefined;
  /** → `{status, role, jobId}`. */
  readonly health: Handle;
  /** → the JSON of `GET /v1/model`. */
  readonly modelInfo: Handle;
};

export type GrpcServerOptions = {
  readonly routes: GrpcRoutes;
  readonly identity: NodeIdentity;
  readonly metrics: ServeMetrics;
  readonly log: Logger;
  /** Listen address. @default '127.0.0.1' */
  readonly host?: string | undefined;
  /** 0 picks a free port. */
  readonly port: number;
};

export type GrpcServer = {
  readonly port: number;
  /** Stops accepting, lets in-flight calls finish for up to `graceMs`, then cancels the rest. */
  close(graceMs: number): Promise<void>;
};

type RawValue = string | number | boolean | null;
type JsonRow = { id?: string; features?: Record<string, RawValue> };

/** A proto feature value → the raw value the JSON API takes (unset: missing, like null). */
function rawValue(v: tandem.v1.FeatureValue.$Properties | undefined): RawValue {
  if (v === undefined || v === null) return null;
  if (v.stringValue !== undefined && v.stringValue !== null) return v.stringValue;
  if (v.numberValue !== undefined && v.numberValue !== null) return v.numberValue;
  if (v.boolValue !== undefined && v.boolValue !== null) return v.boolValue;
  return null;
}

/** proto3 has no "absent" string or map: an empty id or feature map is left out, as a JSON caller would. */
function jsonRow(r: tandem.v1.ScoreRequest.$Properties): JsonRow {
  const row: JsonRow = {};
  if (typeof r.id === 'string' && r.id !== '') row.id = r.id;
  const features = Object.entries(r.features ?? {});
  if (features.length > 0) row.features = Object.fromEntries(features.map(([k, v]) => [k, rawValue(v)]));
  return row;
}

type JsonScore = {
  id?: string; probability?: number; logit?: number; segment?: string; complete?: boolean; hosts?: Record<string, string>; partialLogit?: number;
  probabilities?: Record<string, number>; logits?: Record<string, number>; partialLogits?: number[];
};

function scoreResponse(json: unknown): tandem.v1.ScoreResponse {
  const r = (json ?? {}) as JsonScore;
  return tandem.v1.ScoreResponse.create({
    id: r.id ?? '', probability: r.probability ?? 0, logit: r.logit ?? 0, segment: r.segment ?? '', complete: r.complete ?? false,
    hosts: r.hosts ?? {}, ...(r.partialLogit === undefined ? {} : { partialLogit: r.partialLogit }),
    probabilities: r.probabilities ?? {}, logits: r.logits ?? {}, partialLogits: r.partialLogits ?? [],
  });
}

type JsonInfo = {
  jobId: string; jobName: string; party: string; role: string; parties: { name: string; role: string }[]; featureNames: string[];
  inputColumns: { name: string; kind: string }[]; output: string; metrics: unknown; protocolVersion: number; createdAt: string; trainedAt: string | null;
  outputs?: number; classes?: string[];
};

function modelInfoResponse(json: unknown): tandem.v1.ModelInfoResponse {
  const i = json as JsonInfo;
  return tandem.v1.ModelInfoResponse.create({
    jobId: i.jobId, jobName: i.jobName, party: i.party, role: i.role, parties: i.parties, featureNames: i.featureNames, inputColumns: i.inputColumns,
    output: i.output, metricsJson: JSON.stringify(i.metrics ?? null), protocolVersion: i.protocolVersion, createdAt: i.createdAt, trainedAt: i.trainedAt ?? '',
    outputs: i.outputs ?? 1, classes: i.classes ?? [],
  });
}

/** An IPv6 listen address needs brackets in a gRPC target. */
const address = (host: string): string => (host.includes(':') && !host.startsWith('[') ? `[${host}]` : host);

const noBatch = (): never => {
  throw new TandemError('ARGUMENT_INVALID', 'ScoreBatch at a host', { publicMessage: 'ScoreBatch is served by the guest; call Score at a host' });
};

export async function startGrpcServer(options: GrpcServerOptions): Promise<GrpcServer> {
  const { identity, metrics, log, routes } = options;
  const server = new grpc.Server();
  const peers = new Map<string, { readonly name: string; readonly checkedAtMs: number }>();
  /** The caller's verified node name, cached per certificate for a minute (verifying on every call costs more than scoring). */
  const peerOf = (call: AuthenticatedCall): string => {
    const raw = call.getAuthContext()?.sslPeerCertificate?.raw;
    const key = raw === undefined ? '' : Buffer.from(raw).toString('base64');
    const cached = peers.get(key);
    if (key !== '' && cached !== undefined && Date.now() - cached.checkedAtMs < 60_000) return cached.name;
    const name = peerName(call, identity);
    if (peers.size >= 1024) peers.clear();
    peers.set(key, { name, checkedAtMs: Date.now() });
    return name;
  };

  /** One unary RPC: verify the peer, decode to the JSON shape, call the route, encode; count and time it like an HTTP request. */
  const unary = <Req, Res>(route: string, handle: Handle, body: (request: Req) => unknown, encode: (reply: Reply) => Res) =>
    (call: grpc.ServerUnaryCall<Req, Res>, callback: grpc.sendUnaryData<Res>): void => {
      const started = performance.now();
      const done = (status: number): void => {
        metrics.requests.inc({ route, status: grpc.status[status] ?? String(status) });
        metrics.latency.observe({ route }, (performance.now() - started) / 1000);
      };
      void (async () => {
        try {
          const peer = peerOf(call);
          const value = body(call.request);
          const reply = await handle({ params: [], peer, body: (schema) => validate(schema, value) });
          callback(null, encode(reply));
          done(grpc.status.OK);
        } catch (error) {
          const e = asTandemError(error);
          metrics.errors.inc({ route, code: e.code });
          if (httpStatus(e) >= 500) log.warn({ err: e, code: e.code }, 'gRPC call failed');
          callback(toServiceError(e), null);
          done(e.grpcStatus);
        }
      })();
    };

  server.addService(scoringService, {
    score: unary('grpc.Score', routes.score, (r: tandem.v1.ScoreRequest) => jsonRow(r), (reply) => scoreResponse(reply.json)),
    scoreBatch: unary('grpc.ScoreBatch', routes.scoreBatch ?? noBatch, (r: tandem.v1.ScoreBatchRequest) => ({ rows: r.rows.map(jsonRow) }),
      (reply) => tandem.v1.ScoreBatchResponse.create({ results: ((reply.json as { results?: unknown[] } | undefined)?.results ?? []).map(scoreResponse) })),
    health: unary('grpc.Health', routes.health, () => ({}), (reply) => {
      const h = (reply.json ?? {}) as { status?: string; role?: string; jobId?: string };
      return tandem.v1.HealthResponse.create({ status: h.status ?? '', role: h.role ?? '', jobId: h.jobId ?? '' });
    }),
    modelInfo: unary('grpc.ModelInfo', routes.modelInfo, () => ({}), (reply) => modelInfoResponse(reply.json)),
  });
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync(`${address(options.host ?? '127.0.0.1')}:${options.port}`, serverCredentials(identity), (error, bound) => (error === null ? resolve(bound) : reject(error)));
  });
  return {
    port,
    close: async (graceMs) => {
      const drained = new Promise<boolean>((resolve) => server.tryShutdown(() => resolve(true)));
      const timedOut = new Promise<boolean>((resolve) => setTimeout(() => resolve(false), graceMs).unref());
      if (!(await Promise.race([drained, timedOut]))) server.forceShutdown();
    },
  };
}
