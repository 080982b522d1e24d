/**
 * Multi-class (cold-start, one-vs-rest) models through export and serving,
 * with hand-built model parts in the shape a `cold-start` job writes
 * (`outputs: K`, class-major `weights`, `intercepts`, the guest's
 * `classes`): the bundle carries a K-unit LayersModel, the host answers K
 * partial logits per pseudonym, and the guest returns per-class
 * probabilities `σ(z_c) / Σ_k σ(z_k)` and the most probable class as the
 * segment — over HTTP and gRPC, with real mTLS between the endpoints.
 */
import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Tensor } from '@tensorflow/tfjs';
import type { tandem } from '../protocol/generated/tandem.js';
import { sigmoid } from '../protocol/training/chebyshev-link.ts';
import { loadNodeIdentity, type NodeIdentity } from '../runtime/certs.ts';
import { initCertificates } from '../runtime/certificate-authority.ts';
import { channelCredentials } from '../runtime/grpc-tls.ts';
import { ScoringClient } from '../runtime/grpc-service.ts';
import { bearerToken, http, writeServingFixture } from '../test/support/serving.ts';
import { scorePool } from './batch-scoring.ts';
import { loadModel } from './model-bundle.ts';
import type { ModelPart } from '../models/lr/part.ts';
import { scoreOnline, type HostClient } from './online-scoring.ts';
import { startServing, type Serving } from './serve.ts';
import { loadLayersModel } from './tfjs-layers.ts';

const CLASSES = ['bus', 'opel', 'saab'];
const parties = [
  { name: 'brand', role: 'guest' as const, dataset: 'd' },
  { name: 'partner', role: 'host' as const, dataset: 'd' },
];
const common = {
  format: 'tandem-model-part/1' as const,
  jobId: 'job-mc',
  jobName: 'segments',
  parties,
  link: { degree: 6, clip: 6 },
  rowClip: null,
  scoringKey: 'cd'.repeat(32),
  outputs: 3,
  multiclass: 'one-vs-rest' as const,
  summary: { metrics: { accuracy: 0.8 } },
};
// Guest: columns x (numeric, mean 1, std 2) and c (a|b); weights class-major, 3 classes × 3 columns.
const guestPart: ModelPart = {
  ...common,
  party: 'brand',
  role: 'guest',
  featureNames: ['x', 'c=a', 'c=b'],
  weights: [0.5, -1, 2, -0.25, 0.75, 0, 1.5, 0, -2],
  intercepts: [-0.5, 0.25, 0.1],
  classes: CLASSES,
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
// Host: one column z (mean 0, std 1); zero intercepts.
const hostPart: ModelPart = {
  ...common,
  party: 'partner',
  role: 'host',
  featureNames: ['z'],
  weights: [0.75, -0.5, 2],
  intercepts: [0, 0, 0],
  preprocess: {
    format: 'tandem-preprocess/1',
    missingPolicy: 'mean',
    missingTokens: [''],
    fittedRows: 3,
    columns: [{ name: 'z', kind: 'numeric', mean: 0, std: 1, indicator: false }],
    outputColumns: ['z'],
  },
};

/** The reference: per-class logits from the formula, by hand. x = (raw − 1) / 2, c one-hot, z raw. */
function expected(
  x: number,
  c: 'a' | 'b',
  z: number | undefined,
): { logits: number[]; probabilities: number[]; segment: string } {
  const xs = (x - 1) / 2;
  const g = [0, 1, 2].map(
    (k) =>
      (guestPart.intercepts?.[k] ?? 0) +
      xs * (guestPart.weights[3 * k] ?? 0) +
      (c === 'a' ? 1 : 0) * (guestPart.weights[3 * k + 1] ?? 0) +
      (c === 'b' ? 1 : 0) * (guestPart.weights[3 * k + 2] ?? 0),
  );
  const logits = g.map((v, k) => (z === undefined ? v : v + z * (hostPart.weights[k] ?? 0)));
  const s = logits.map(sigmoid);
  const total = s.reduce((a, b) => a + b, 0);
  const probabilities = s.map((v) => v / total);
  return { logits, probabilities, segment: CLASSES[probabilities.indexOf(Math.max(...probabilities))] ?? '' };
}

const byLabel = (values: number[]): Record<string, number> =>
  Object.fromEntries(CLASSES.map((l, k) => [l, values[k] ?? NaN]));

describe('multi-class (one-vs-rest) models', () => {
  let dir: string;
  let brand: NodeIdentity;
  let host: Serving;
  let guest: Serving;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tandem-multiclass-'));
    await initCertificates({ outDir: join(dir, 'certs'), parties: ['brand', 'partner'] });
    const id = (n: string): Promise<NodeIdentity> =>
      loadNodeIdentity({
        ca: join(dir, 'certs', 'ca.crt'),
        cert: join(dir, 'certs', `${n}.crt`),
        key: join(dir, 'certs', `${n}.key`),
      });
    brand = await id('brand');
    await writeServingFixture(
      dir,
      { guest: guestPart, host: hostPart },
      { brand: 'id,x,c,y\nu1,1,a,bus\nu2,2,b,saab\n', partner: 'id,z\nu1,0.5\nu3,-1\n' },
    );
    // This host discloses membership, so the guest's fallback for a visitor it does not hold can be seen.
    host = await startServing({
      modelDir: join(dir, 'partner-model'),
      configFile: join(dir, 'partner.yaml'),
      port: 0,
      peerPort: 0,
      discloseMembership: true,
    });
    guest = await startServing({
      modelDir: join(dir, 'brand-model'),
      configFile: join(dir, 'brand.yaml'),
      port: 0,
      grpcPort: 0,
      hostEndpoints: { partner: `https://127.0.0.1:${host.peerPort ?? 0}` },
      hostTimeoutMs: 2_000,
    });
  }, 30_000);

  afterAll(async () => {
    await guest?.close();
    await host?.close();
    await rm(dir, { recursive: true, force: true });
  });

  /** A request from the endpoint's own operator (its bearer token). */
  const operator = async (port: number, path: string, body?: unknown): Promise<Record<string, unknown>> => {
    const file = (port === guest.port ? guest : host).tokens?.file ?? '';
    return (await http(port, body === undefined ? 'GET' : 'POST', path, body, await bearerToken(file))).json;
  };
  const post = (port: number, path: string, body: unknown): Promise<Record<string, unknown>> =>
    operator(port, path, body);

  it('exports a K-unit LayersModel and a manifest that names the classes', async () => {
    const model = await loadModel(join(dir, 'brand-model'), { caPem: brand.caPem, party: 'brand' });
    expect(model).toMatchObject({ outputs: 3, classes: CLASSES });
    expect(Array.from(model.intercepts)).toEqual(guestPart.intercepts);
    expect(model.manifest).toMatchObject({ outputs: 3, classes: CLASSES, output: 'logit' });
    const tfModel = await loadLayersModel(
      await readFile(join(dir, 'brand-model', 'model.json'), 'utf8'),
      new Uint8Array(await readFile(join(dir, 'brand-model', 'weights.bin'))),
    );
    const tf = await import('@tensorflow/tfjs');
    const y = Array.from((tfModel.predict(tf.tensor2d([[1, 0, 1]])) as Tensor).dataSync());
    // Preprocessed row (1, 0, 1): class k's logit is w[k][0] + w[k][2] + b[k].
    expect(y).toHaveLength(3);
    y.forEach((v, k) =>
      expect(v).toBeCloseTo(
        (guestPart.weights[3 * k] ?? 0) + (guestPart.weights[3 * k + 2] ?? 0) + (guestPart.intercepts?.[k] ?? 0),
        5,
      ),
    );
    expect(await operator(guest.port, '/v1/model')).toMatchObject({ outputs: 3, classes: CLASSES });
    const hostModel = await loadModel(join(dir, 'partner-model'), { caPem: brand.caPem });
    expect(hostModel.manifest.classes).toBeUndefined();
  });

  it('scores a visitor federatedly: per-class probabilities σ(z_c)/Σσ(z_k), the most probable class as segment', async () => {
    const want = expected(3, 'b', 0.5);
    const r = await post(guest.port, '/v1/score', { id: 'u1', features: { x: 3, c: 'b' } });
    expect(r).toMatchObject({ id: 'u1', complete: true, hosts: { partner: 'ok' }, segment: want.segment });
    const probabilities = r['probabilities'] as Record<string, number>;
    for (const [k, label] of CLASSES.entries()) {
      expect(probabilities[label]).toBeCloseTo(want.probabilities[k] ?? NaN, 14);
      expect((r['logits'] as Record<string, number>)[label]).toBeCloseTo(want.logits[k] ?? NaN, 14);
    }
    expect(Object.values(probabilities).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 14);
    expect(r['probability']).toBe(probabilities[want.segment]);
    // The host's own endpoint answers its K partial logits.
    expect(await post(host.port, '/v1/score', { id: 'u1' })).toEqual({
      id: 'u1',
      partialLogits: hostPart.weights.map((w) => 0.5 * w),
    });
  });

  it('falls back to the guest part for a visitor the host does not hold, and says so', async () => {
    const want = expected(-1, 'a', undefined);
    const r = await post(guest.port, '/v1/score', { id: 'stranger', features: { x: -1, c: 'a' } });
    expect(r).toMatchObject({ complete: false, hosts: { partner: 'not-held' }, segment: want.segment });
    expect(r['logits']).toEqual(byLabel(want.logits));
  });

  it('answers over gRPC with the same probabilities', async () => {
    const client = new ScoringClient(`127.0.0.1:${guest.grpcPort ?? 0}`, channelCredentials(brand), {
      'grpc.ssl_target_name_override': 'brand',
    });
    try {
      const res = await new Promise<tandem.v1.ScoreResponse>((resolve, reject) => {
        (
          client as unknown as {
            score: (
              r: unknown,
              m: grpc.Metadata,
              o: grpc.CallOptions,
              cb: (e: grpc.ServiceError | null, r?: tandem.v1.ScoreResponse) => void,
            ) => void;
          }
        ).score(
          { id: 'u1', features: { x: { numberValue: 3 }, c: { stringValue: 'b' } } },
          new grpc.Metadata(),
          { deadline: Date.now() + 10_000 },
          (e, r) => (e === null && r !== undefined ? resolve(r) : reject(e ?? new Error('no response'))),
        );
      });
      const viaHttp = await post(guest.port, '/v1/score', { id: 'u1', features: { x: 3, c: 'b' } });
      expect({
        segment: res.segment,
        probabilities: res.probabilities,
        logits: res.logits,
        complete: res.complete,
      }).toEqual({
        segment: viaHttp['segment'],
        probabilities: viaHttp['probabilities'],
        logits: viaHttp['logits'],
        complete: true,
      });
    } finally {
      client.close();
    }
  });

  it('marks a host answering another shape of model as a mismatch', async () => {
    const model = await loadModel(join(dir, 'brand-model'), { caPem: brand.caPem });
    const binaryHost: HostClient = { name: 'partner', partials: () => Promise.resolve({ ok: true, scores: [1.5] }) };
    const [r] = await scoreOnline(model, [binaryHost], [{ id: 'u1', features: { x: '3', c: 'b' } }]);
    expect(r).toMatchObject({
      complete: false,
      hosts: { partner: 'mismatch' },
      logits: byLabel(expected(3, 'b', undefined).logits),
    });
  });

  it('refuses to batch-score a pool with a multi-class part, saying why', async () => {
    const model = await loadModel(join(dir, 'partner-model'), { caPem: brand.caPem });
    await expect(
      scorePool({ model, poolFile: join(dir, 'partner.csv'), outFile: join(dir, 'audience.csv') }),
    ).rejects.toThrow(
      /the model is a 3-class \(cold-start\) model: score-pool ranks a lookalike audience by one binary score/,
    );
  });
});
