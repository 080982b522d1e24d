/**
 * The gRPC adapter of `tandem serve`: service `Scoring`
 * (protocol/proto/tandem.proto) over mTLS. Every call is translated to the
 * JSON shape of the HTTP/JSON API and handed to the very same route handler,
 * so both APIs score with the same scorer, validate with the same schemas and
 * fail with the same catalogued errors (as gRPC status + `tandem-error-code`
 * metadata). Callers must present a certificate from the federation CA;
 * before a request is decoded, the verified name goes through the same
 * authorisation function as the HTTP edge (access.ts). Warnings (a category
 * the model was not trained on) travel as `tandem-warning` trailers.
 */
import * as grpc from '@grpc/grpc-js';
import { tandem } from '../protocol/generated/tandem.js';
import { asTandemError, TandemError } from '../protocol/errors.ts';
import type { NodeIdentity } from '../runtime/certs.ts';
import { scoringService, toServiceError } from '../runtime/grpc-service.ts';
import { peerName, serverCredentials, type AuthenticatedCall } from '../runtime/grpc-tls.ts';
import type { Logger } from '../runtime/logger.ts';
import type { Action, Caller } from './access.ts';
import { httpStatus, validate, type Reply, type Route } from './http-server.ts';
import type { ServeMetrics } from './metrics.ts';

type Handle = Route['handle'];

/** The route handlers behind each RPC (the same functions the HTTP routes call). */
export type GrpcRoutes = {
  /** Body `{id?, features?}` → the JSON the HTTP `POST /v1/score` answers. */
  readonly score: Handle;
  /** Body `{rows}` → `{results}`; undefined where HTTP has no batch route (hosts). */
  readonly scoreBatch: Handle | undefined;
  /** → `{status}`. */
  readonly health: Handle;
  /** → the JSON of `GET /v1/model`. */
  readonly modelInfo: Handle;
};

export type GrpcServerOptions = {
  readonly routes: GrpcRoutes;
  /** @throws TandemError when `caller` may not make the call */
  authorize(caller: Caller, action: Action, what: string): void;
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
  id?: string;
  probability?: number;
  logit?: number;
  segment?: string;
  complete?: boolean;
  hosts?: Record<string, string>;
  partialLogit?: number;
  probabilities?: Record<string, number>;
  logits?: Record<string, number>;
  partialLogits?: number[];
  warnings?: string[];
  splitBits?: string;
  prediction?: number;
};

/** The warnings of a reply (one row's, or every row's of a batch) as `tandem-warning` trailers. */
function warningTrailers(json: unknown): grpc.Metadata | undefined {
  const r = (json ?? {}) as JsonScore & { results?: JsonScore[] };
  const warnings = [...(r.warnings ?? []), ...(r.results ?? []).flatMap((x) => x.warnings ?? [])];
  if (warnings.length === 0) return undefined;
  const md = new grpc.Metadata();
  for (const w of warnings) md.add('tandem-warning', w);
  return md;
}

function scoreResponse(json: unknown): tandem.v1.ScoreResponse {
  const r = (json ?? {}) as JsonScore;
  return tandem.v1.ScoreResponse.create({
    id: r.id ?? '',
    probability: r.probability ?? 0,
    logit: r.logit ?? 0,
    segment: r.segment ?? '',
    complete: r.complete ?? false,
    hosts: r.hosts ?? {},
    ...(r.partialLogit === undefined ? {} : { partialLogit: r.partialLogit }),
    probabilities: r.probabilities ?? {},
    logits: r.logits ?? {},
    partialLogits: r.partialLogits ?? [],
    splitBits: r.splitBits ?? '',
    ...(r.prediction === undefined ? {} : { prediction: r.prediction }),
  });
}

type JsonInfo = {
  jobId: string;
  jobName: string;
  party: string;
  role: string;
  parties: { name: string; role: string }[];
  featureNames: string[];
  inputColumns: { name: string; kind: string }[];
  output: string;
  metrics: unknown;
  protocolVersion: number;
  createdAt: string;
  trainedAt: string | null;
  outputs?: number;
  classes?: string[];
};

function modelInfoResponse(json: unknown): tandem.v1.ModelInfoResponse {
  const i = json as JsonInfo;
  return tandem.v1.ModelInfoResponse.create({
    jobId: i.jobId,
    jobName: i.jobName,
    party: i.party,
    role: i.role,
    parties: i.parties,
    featureNames: i.featureNames,
    inputColumns: i.inputColumns,
    output: i.output,
    metricsJson: JSON.stringify(i.metrics ?? null),
    protocolVersion: i.protocolVersion,
    createdAt: i.createdAt,
    trainedAt: i.trainedAt ?? '',
    outputs: i.outputs ?? 1,
    classes: i.classes ?? [],
  });
}

/** An IPv6 listen address needs brackets in a gRPC target. */
const address = (host: string): string => (host.includes(':') && !host.startsWith('[') ? `[${host}]` : host);

const noBatch = (): never => {
  throw new TandemError('ARGUMENT_INVALID', 'ScoreBatch at a host', {
    publicMessage: 'ScoreBatch is served by the guest; call Score at a host',
  });
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

  /** One unary RPC: verify and authorise the peer, decode to the JSON shape, call the route, encode; count and time it like an HTTP request. */
  const unary =
    <Req, Res>(
      rpc: string,
      action: Action,
      handle: Handle,
      body: (request: Req) => unknown,
      encode: (reply: Reply) => Res,
    ) =>
    (call: grpc.ServerUnaryCall<Req, Res>, callback: grpc.sendUnaryData<Res>): void => {
      const started = performance.now();
      const route = `grpc.${rpc}`;
      const done = (status: number): void => {
        metrics.requests(route, call.cancelled ? 'CANCELLED' : (grpc.status[status] ?? String(status))).add();
        metrics.latency(route).observe((performance.now() - started) / 1000);
      };
      void (async () => {
        try {
          const caller: Caller = { kind: 'certificate', name: peerOf(call) };
          options.authorize(caller, action, rpc);
          const value = body(call.request);
          const reply = await handle({ params: {}, caller, body: (schema) => validate(schema, value) });
          callback(null, encode(reply), warningTrailers(reply.json));
          done(grpc.status.OK);
        } catch (error) {
          const e = asTandemError(error);
          metrics.errors(route, e.code).add();
          if (httpStatus(e) >= 500) log.warn({ err: e, code: e.code }, 'gRPC call failed');
          callback(toServiceError(e), null);
          done(e.grpcStatus);
        }
      })();
    };

  server.addService(scoringService, {
    score: unary(
      'Score',
      'score',
      routes.score,
      (r: tandem.v1.ScoreRequest) => jsonRow(r),
      (reply) => scoreResponse(reply.json),
    ),
    scoreBatch: unary(
      'ScoreBatch',
      'score',
      routes.scoreBatch ?? noBatch,
      (r: tandem.v1.ScoreBatchRequest) => ({ rows: r.rows.map(jsonRow) }),
      (reply) =>
        tandem.v1.ScoreBatchResponse.create({
          results: ((reply.json as { results?: unknown[] } | undefined)?.results ?? []).map(scoreResponse),
        }),
    ),
    health: unary(
      'Health',
      'health',
      routes.health,
      () => ({}),
      (reply) => tandem.v1.HealthResponse.create({ status: ((reply.json ?? {}) as { status?: string }).status ?? '' }),
    ),
    modelInfo: unary(
      'ModelInfo',
      'model-info',
      routes.modelInfo,
      () => ({}),
      (reply) => modelInfoResponse(reply.json),
    ),
  });
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync(
      `${address(options.host ?? '127.0.0.1')}:${options.port}`,
      serverCredentials(identity),
      (error, bound) => (error === null ? resolve(bound) : reject(error)),
    );
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
