/**
 * The gRPC Scoring service, end to end in one process: a real host and a real
 * guest (`startServing`, exported and signed models, the guest calling the
 * host over mTLS), each with a gRPC port, called by a real grpc-js client
 * with mTLS. Every gRPC answer must equal the HTTP/JSON answer to the same
 * request.
 */
import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { tandem } from '../protocol/generated/tandem.js';
import { loadNodeIdentity, type NodeIdentity } from '../runtime/certs.ts';
import { initCertificates } from '../runtime/certificate-authority.ts';
import { channelCredentials } from '../runtime/grpc-tls.ts';
import { ScoringClient } from '../runtime/grpc-service.ts';
import { bearerToken, writeServingFixture } from '../test/support/serving.ts';
import type { ModelPart } from '../models/lr/part.ts';
import { compileServeOptions, startServing, type Serving } from './serve.ts';

const parties = [
  { name: 'brand', role: 'guest' as const, dataset: 'd' },
  { name: 'partner', role: 'host' as const, dataset: 'd' },
];
const common = {
  format: 'tandem-model-part/1' as const,
  jobId: 'job-1',
  jobName: 'test',
  parties,
  link: { degree: 6, clip: 6 },
  rowClip: null,
  scoringKey: 'ab'.repeat(32),
  summary: { metrics: { auc: 0.9 } },
};
const guestPart: ModelPart = {
  ...common,
  party: 'brand',
  role: 'guest',
  featureNames: ['x', 'c=a', 'c=b'],
  weights: [0.5, -1, 2],
  intercept: -0.25,
  splitSeed: 's',
  preprocess: {
    format: 'tandem-preprocess/1',
    missingPolicy: 'mean',
    missingTokens: ['', 'NA'],
    fittedRows: 3,
    columns: [
      { name: 'x', kind: 'numeric', mean: 1, std: 2, indicator: false },
      { name: 'c', kind: 'categorical', categories: ['a', 'b'], indicator: false },
    ],
    outputColumns: ['x', 'c=a', 'c=b'],
  },
};
const hostPart: ModelPart = {
  ...common,
  party: 'partner',
  role: 'host',
  featureNames: ['z'],
  weights: [0.75],
  intercept: 0,
  preprocess: {
    format: 'tandem-preprocess/1',
    missingPolicy: 'mean',
    missingTokens: [''],
    fittedRows: 3,
    columns: [{ name: 'z', kind: 'numeric', mean: 0, std: 1, indicator: false }],
    outputColumns: ['z'],
  },
};

type Unary<Req, Res> = (
  request: Req,
  metadata: grpc.Metadata,
  options: grpc.CallOptions,
  callback: (error: grpc.ServiceError | null, response?: Res) => void,
) => void;
type Scoring = grpc.Client & {
  score: Unary<tandem.v1.IScoreRequest, tandem.v1.ScoreResponse>;
  scoreBatch: Unary<tandem.v1.IScoreBatchRequest, tandem.v1.ScoreBatchResponse>;
  health: Unary<tandem.v1.IHealthRequest, tandem.v1.HealthResponse>;
  modelInfo: Unary<tandem.v1.IModelInfoRequest, tandem.v1.ModelInfoResponse>;
};

/** A unary call as a promise: the response, or the gRPC error. */
function call<Req, Res>(
  client: Scoring,
  rpc: 'score' | 'scoreBatch' | 'health' | 'modelInfo',
  request: Req,
): Promise<Res> {
  return new Promise((resolve, reject) => {
    (client[rpc] as unknown as Unary<Req, Res>).call(
      client,
      request,
      new grpc.Metadata(),
      { deadline: Date.now() + 10_000 },
      (error, response) => (error === null ? resolve(response as Res) : reject(error)),
    );
  });
}

describe('the gRPC Scoring service', () => {
  let dir: string;
  let brand: NodeIdentity;
  let partner: NodeIdentity;
  let foreign: NodeIdentity;
  let dashboard: NodeIdentity;
  let auditor: NodeIdentity;
  let host: Serving;
  let guest: Serving;
  const clients: grpc.Client[] = [];
  const tokens = { guest: '', host: '' };
  /** A client of `port` with `identity`'s certificate; party certificates name the node, so the TLS target name is the served party's. */
  const connect = (port: number, identity: NodeIdentity, serverName: string): Scoring => {
    const client = new ScoringClient(`127.0.0.1:${port}`, channelCredentials(identity), {
      'grpc.ssl_target_name_override': serverName,
    }) as unknown as Scoring;
    clients.push(client);
    return client;
  };
  /** The public HTTP API, as an operator (the endpoint's bearer token). */
  const http = async (port: number, path: string, body?: unknown): Promise<unknown> => {
    const authorization = `Bearer ${port === guest.port ? tokens.guest : tokens.host}`;
    const res = await fetch(
      `http://127.0.0.1:${port}${path}`,
      body === undefined
        ? { headers: { authorization } }
        : { method: 'POST', body: JSON.stringify(body), headers: { authorization } },
    );
    return res.json();
  };
  const guestMetrics = async (): Promise<string> =>
    (
      await fetch(`http://127.0.0.1:${guest.port}/metrics`, { headers: { authorization: `Bearer ${tokens.guest}` } })
    ).text();
  const tokenOf = (serving: Serving): Promise<string> => bearerToken(serving.tokens?.file ?? '');

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tandem-grpc-serve-'));
    await initCertificates({
      outDir: join(dir, 'certs'),
      parties: ['brand', 'partner'],
      extraNames: ['dashboard', 'auditor'],
    });
    await initCertificates({ outDir: join(dir, 'other'), parties: ['brand'] });
    const id = (d: string, n: string): Promise<NodeIdentity> =>
      loadNodeIdentity({ ca: join(dir, d, 'ca.crt'), cert: join(dir, d, `${n}.crt`), key: join(dir, d, `${n}.key`) });
    brand = await id('certs', 'brand');
    partner = await id('certs', 'partner');
    dashboard = await id('certs', 'dashboard');
    auditor = await id('certs', 'auditor');
    foreign = await id('other', 'brand');
    await writeServingFixture(
      dir,
      { guest: guestPart, host: hostPart },
      { brand: 'id,x,c,y\nu1,1,a,1\nu2,2,b,0\n', partner: 'id,z\nu1,0.5\nu3,-1\n' },
      '{ column: y, positive: 1, negative: 0 }',
    );
    host = await startServing({
      modelDir: join(dir, 'partner-model'),
      configFile: join(dir, 'partner.yaml'),
      port: 0,
      peerPort: 0,
      grpcPort: 0,
    });
    guest = await startServing({
      modelDir: join(dir, 'brand-model'),
      configFile: join(dir, 'brand.yaml'),
      port: 0,
      grpcPort: 0,
      hostEndpoints: { partner: `https://127.0.0.1:${host.peerPort ?? 0}` },
      hostTimeoutMs: 2_000,
      allowedCallers: ['dashboard'],
    });
    tokens.guest = await tokenOf(guest);
    tokens.host = await tokenOf(host);
  }, 30_000);

  afterAll(async () => {
    for (const c of clients) c.close();
    await guest?.close();
    await host?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('scores at the guest exactly as the HTTP API does, one visitor and a batch', async () => {
    expect(guest.grpcPort).toBeGreaterThan(0);
    const client = connect(guest.grpcPort ?? 0, brand, 'brand');
    const viaGrpc = await call<tandem.v1.IScoreRequest, tandem.v1.ScoreResponse>(client, 'score', {
      id: 'u1',
      features: { x: { numberValue: 3 }, c: { stringValue: 'b' } },
    });
    const viaHttp = await http(guest.port, '/v1/score', { id: 'u1', features: { x: 3, c: 'b' } });
    expect(viaHttp).toMatchObject({ complete: true, hosts: { partner: 'ok' } });
    expect({
      id: viaGrpc.id,
      probability: viaGrpc.probability,
      logit: viaGrpc.logit,
      segment: viaGrpc.segment,
      complete: viaGrpc.complete,
      hosts: viaGrpc.hosts,
    }).toEqual(viaHttp);
    expect(viaGrpc.partialLogit ?? undefined).toBeUndefined();

    // A visitor the host does not hold (answered with a decoy: the guest cannot tell), and an unset value (missing, like JSON null).
    const rows = [
      { id: 'u1', features: { x: { stringValue: 'NA' }, c: {} } },
      { id: 'nobody', features: { x: { numberValue: -2 } } },
    ];
    const batch = await call<tandem.v1.IScoreBatchRequest, tandem.v1.ScoreBatchResponse>(client, 'scoreBatch', {
      rows,
    });
    const httpBatch = (await http(guest.port, '/v1/score-batch', {
      rows: [
        { id: 'u1', features: { x: 'NA', c: null } },
        { id: 'nobody', features: { x: -2 } },
      ],
    })) as { results: unknown[] };
    expect(
      batch.results.map((r) => ({
        id: r.id,
        probability: r.probability,
        logit: r.logit,
        segment: r.segment,
        complete: r.complete,
        hosts: r.hosts,
      })),
    ).toEqual(httpBatch.results);
    expect(batch.results[1]).toMatchObject({ complete: true, hosts: { partner: 'ok' } });
  });

  it('answers health and model info', async () => {
    const client = connect(guest.grpcPort ?? 0, brand, 'brand');
    // Health says whether the endpoint is up, and nothing else.
    expect(await call(client, 'health', {})).toMatchObject({ status: 'ok', role: '', jobId: '' });
    const info = await call<tandem.v1.IModelInfoRequest, tandem.v1.ModelInfoResponse>(client, 'modelInfo', {});
    expect(info).toMatchObject({
      jobId: 'job-1',
      party: 'brand',
      role: 'guest',
      featureNames: ['x', 'c=a', 'c=b'],
      output: 'logit',
      protocolVersion: ((await http(guest.port, '/v1/model')) as { protocolVersion: number }).protocolVersion,
    });
    expect(info.parties.map((p) => p.name)).toEqual(['brand', 'partner']);
    expect(JSON.parse(info.metricsJson)).toEqual({ auc: 0.9 });
  });

  it("refuses a bad request with the HTTP API's error code and message", async () => {
    const client = connect(guest.grpcPort ?? 0, brand, 'brand');
    const error = await call(client, 'score', { features: { x: { numberValue: 1 } } }).catch(
      (e: unknown) => e as grpc.ServiceError,
    );
    const viaHttp = (await http(guest.port, '/v1/score', { features: { x: 1 } })) as {
      error: { code: string; message: string };
    };
    expect(error).toMatchObject({ code: grpc.status.INVALID_ARGUMENT, details: viaHttp.error.message });
    expect((error as grpc.ServiceError).metadata.get('tandem-error-code')).toEqual([viaHttp.error.code]);
    const tooMany = await call(client, 'scoreBatch', { rows: [] }).catch((e: unknown) => e as grpc.ServiceError);
    expect(tooMany).toMatchObject({ code: grpc.status.INVALID_ARGUMENT });
  });

  it("serves a host's partial logit by id or by features to its own operators, and no batch", async () => {
    const client = connect(host.grpcPort ?? 0, partner, 'partner');
    const byId = await call<tandem.v1.IScoreRequest, tandem.v1.ScoreResponse>(client, 'score', { id: 'u1' });
    expect(byId).toMatchObject({
      id: 'u1',
      partialLogit: ((await http(host.port, '/v1/score', { id: 'u1' })) as { partialLogit: number }).partialLogit,
    });
    const byFeatures = await call<tandem.v1.IScoreRequest, tandem.v1.ScoreResponse>(client, 'score', {
      features: { z: { numberValue: 2 } },
    });
    expect(byFeatures.partialLogit).toBe(1.5);
    await expect(call(client, 'scoreBatch', { rows: [{ id: 'u1' }] })).rejects.toMatchObject({
      code: grpc.status.INVALID_ARGUMENT,
      details: 'ScoreBatch is served by the guest; call Score at a host',
    });
  });

  it('refuses a client whose certificate is not from the federation CA, and counts gRPC calls in /metrics', async () => {
    const outsider = connect(guest.grpcPort ?? 0, foreign, 'brand');
    await expect(call(outsider, 'health', {})).rejects.toMatchObject({ code: grpc.status.UNAVAILABLE });
    const metrics = await guestMetrics();
    expect(metrics).toMatch(/tandem_serve_requests_total\{route="grpc\.Score",status="OK"\} [1-9]/);
    expect(metrics).toMatch(/tandem_serve_errors_total\{code="ARGUMENT_INVALID",route="grpc\.Score"\} 1/);
  });

  it('lets only this node and the allowed certificate names call it, refusing others with PERMISSION_DENIED', async () => {
    const refusal = async (
      port: number,
      who: NodeIdentity,
      server: string,
      rpc: 'score' | 'scoreBatch' | 'modelInfo',
      request: unknown,
    ): Promise<grpc.ServiceError | undefined> => {
      const error = await call(connect(port, who, server), rpc, request).then(
        () => undefined,
        (e: unknown) => e as grpc.ServiceError,
      );
      expect(error).toMatchObject({ code: grpc.status.PERMISSION_DENIED });
      expect(error?.metadata.get('tandem-error-code')).toEqual(['AUTH_NOT_ALLOWED']);
      return error;
    };
    const rpcName = { score: 'Score', scoreBatch: 'ScoreBatch', modelInfo: 'ModelInfo' } as const;
    // The guest allows dashboard besides itself: another certificate of the same CA is refused, and told how it could be allowed.
    for (const [rpc, request] of [
      ['score', { id: 'u1', features: { x: { numberValue: 1 } } }],
      ['scoreBatch', { rows: [{ id: 'u1' }] }],
      ['modelInfo', {}],
    ] as const) {
      const error = await refusal(guest.grpcPort ?? 0, auditor, 'brand', rpc, request);
      expect(error?.details).toBe(
        `auditor may not call ${rpcName[rpc]} on this endpoint; its operator can allow it with --allow-caller auditor`,
      );
    }
    const viaDashboard = await call<tandem.v1.IScoreRequest, tandem.v1.ScoreResponse>(
      connect(guest.grpcPort ?? 0, dashboard, 'brand'),
      'score',
      { id: 'u1', features: { x: { numberValue: 1 } } },
    );
    expect(viaDashboard).toMatchObject({ id: 'u1', complete: true });
    // The host keeps the default, itself only: the job's guest is a party, and is told it can never be allowed.
    const guestAtHost = await refusal(host.grpcPort ?? 0, brand, 'partner', 'score', { id: 'u1' });
    expect(guestAtHost?.details).toBe(
      "brand may not call Score on this endpoint: it is the guest of job job-1, and a party's model answers chosen inputs only to that party's own operators",
    );
    await refusal(host.grpcPort ?? 0, dashboard, 'partner', 'score', { features: { z: { numberValue: 1 } } });
    // Health stays open to any certificate of the federation (monitoring).
    expect(await call(connect(guest.grpcPort ?? 0, auditor, 'brand'), 'health', {})).toMatchObject({ status: 'ok' });
    expect(await guestMetrics()).toMatch(/tandem_serve_errors_total\{code="AUTH_NOT_ALLOWED",route="grpc\.Score"\} 1/);
  });

  it("answers only the job's guest on a host's peer port: the host's own certificate and any other are refused", async () => {
    const ask = (who: NodeIdentity): Promise<{ status: number; body: string }> =>
      new Promise((resolve, reject) => {
        const req = httpsRequest(
          {
            host: '127.0.0.1',
            port: host.peerPort,
            path: '/v1/partial-scores',
            method: 'POST',
            ca: who.caPem,
            cert: who.certPem,
            key: who.keyPem,
            checkServerIdentity: () => undefined,
          },
          (res) => {
            let body = '';
            res.on('data', (c: Buffer) => (body += c.toString()));
            res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
          },
        );
        req.on('error', reject);
        req.end(JSON.stringify({ jobId: 'job-1', pseudonyms: [] }));
      });
    expect((await ask(brand)).status).toBe(200);
    for (const who of [partner, dashboard]) {
      const answer = await ask(who);
      expect(answer.status).toBe(403);
      expect(JSON.parse(answer.body)).toEqual({
        error: {
          code: 'AUTH_NOT_ALLOWED',
          message: 'only brand, the guest of job job-1, may ask for partial scores, on the peer port',
        },
      });
    }
  });

  it('sends warnings as tandem-warning trailers', async () => {
    const client = connect(guest.grpcPort ?? 0, brand, 'brand');
    const trailers = await new Promise<grpc.Metadata>((resolve, reject) => {
      const unary = client.score as unknown as (
        r: unknown,
        m: grpc.Metadata,
        o: grpc.CallOptions,
        cb: (e: grpc.ServiceError | null) => void,
      ) => grpc.ClientUnaryCall;
      const pending = unary.call(
        client,
        { id: 'u1', features: { x: { numberValue: 1 }, c: { stringValue: 'zz' } } },
        new grpc.Metadata(),
        { deadline: Date.now() + 10_000 },
        (e) => {
          if (e !== null) reject(e);
        },
      );
      pending.on('status', (status: grpc.StatusObject) => resolve(status.metadata));
    });
    expect(trailers.get('tandem-warning')).toEqual([
      'features.c: "zz" is not a category the model was trained on; scored as none of its categories',
    ]);
  });

  it("with --public-auth mtls, serves the public API over HTTPS to operators' certificates, and health to anyone", async () => {
    const mtls = await startServing({
      modelDir: join(dir, 'brand-model'),
      configFile: join(dir, 'brand.yaml'),
      port: 0,
      publicAuth: 'mtls',
      allowedCallers: ['dashboard'],
      hostEndpoints: { partner: `https://127.0.0.1:${host.peerPort ?? 0}` },
      auditLogFile: join(dir, 'mtls.audit.jsonl'),
    });
    try {
      const ask = (path: string, who?: NodeIdentity): Promise<{ status: number; body: string }> =>
        new Promise((resolve, reject) => {
          const pem = who === undefined ? { ca: brand.caPem } : { ca: brand.caPem, cert: who.certPem, key: who.keyPem };
          const req = httpsRequest(
            {
              host: '127.0.0.1',
              port: mtls.port,
              path,
              method: path === '/healthz' ? 'GET' : 'POST',
              ...pem,
              checkServerIdentity: () => undefined,
            },
            (res) => {
              let body = '';
              res.on('data', (c: Buffer) => (body += c.toString()));
              res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
            },
          );
          req.on('error', reject);
          req.end(path === '/healthz' ? undefined : JSON.stringify({ id: 'u1', features: { x: 1 } }));
        });
      expect(mtls.tokens).toBeUndefined();
      expect((await ask('/healthz')).status).toBe(200);
      expect((await ask('/v1/score')).status).toBe(401);
      expect(JSON.parse((await ask('/v1/score', dashboard)).body)).toMatchObject({ id: 'u1', complete: true });
      expect((await ask('/v1/score', brand)).status).toBe(200);
      expect(JSON.parse((await ask('/v1/score', partner)).body)).toMatchObject({ error: { code: 'AUTH_NOT_ALLOWED' } });
      expect((await ask('/v1/score', auditor)).status).toBe(403);
      // A certificate from another CA is no credential.
      expect((await ask('/v1/score', foreign)).status).toBe(401);
    } finally {
      await mtls.close();
    }
  });

  it('refuses a bad --allow-caller name, and another party of the job as an allowed caller', async () => {
    expect(() => compileServeOptions({ modelDir: 'm', configFile: 'c', allowedCallers: ['Brand Inc'] })).toThrow(
      '--allow-caller: "Brand Inc" is not a node name',
    );
    const start = startServing({
      modelDir: join(dir, 'brand-model'),
      configFile: join(dir, 'brand.yaml'),
      port: 0,
      allowedCallers: ['partner'],
      auditLogFile: join(dir, 'other.audit.jsonl'),
    });
    await expect(start).rejects.toMatchObject({
      code: 'ARGUMENT_INVALID',
      message: expect.stringContaining(
        '--allow-caller partner: partner is the host of job job-1; another party of the job may not score on this endpoint',
      ) as unknown,
    });
  });
});
