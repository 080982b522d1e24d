import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadNodeIdentity, type NodeIdentity } from '../runtime/certs.ts';
import { initCertificates } from '../runtime/certificate-authority.ts';
import { AuthError, ConfigError, JobError } from '../protocol/errors.ts';
import { exportModel, loadModel, type CoSigner, type Manifest } from './model-bundle.ts';
import type { ModelPart } from '../models/lr/part.ts';
import { jobRecordOf, testCoSigner } from '../test/support/serving.ts';

const part: ModelPart = {
  format: 'tandem-model-part/1',
  jobId: 'job-1',
  jobName: 'test',
  party: 'brand',
  role: 'guest',
  parties: [
    { name: 'brand', role: 'guest', dataset: 'd' },
    { name: 'partner', role: 'host', dataset: 'd' },
  ],
  featureNames: ['x'],
  weights: [0.123456789012345],
  intercept: -0.5,
  link: { degree: 6, clip: 6 },
  rowClip: null,
  preprocess: {
    format: 'tandem-preprocess/1',
    missingPolicy: 'mean',
    missingTokens: [''],
    fittedRows: 3,
    columns: [{ name: 'x', kind: 'numeric', mean: 1, std: 2, indicator: false }],
    outputColumns: ['x'],
  },
  scoringKey: 'ab'.repeat(32),
  summary: { metrics: { auc: 0.9, roc: { thresholds: [0.1, 0.2] } } },
};

describe('model bundles', () => {
  let dir: string;
  let brand: NodeIdentity;
  let partner: NodeIdentity;
  let foreign: NodeIdentity;
  let coSign: CoSigner;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tandem-bundle-'));
    await initCertificates({ outDir: join(dir, 'certs'), parties: ['brand', 'partner'] });
    await initCertificates({ outDir: join(dir, 'other'), parties: ['brand'] });
    const id = (d: string, n: string): Promise<NodeIdentity> =>
      loadNodeIdentity({ ca: join(dir, d, 'ca.crt'), cert: join(dir, d, `${n}.crt`), key: join(dir, d, `${n}.key`) });
    brand = await id('certs', 'brand');
    partner = await id('certs', 'partner');
    foreign = await id('other', 'brand');
    coSign = testCoSigner(await id('certs', 'coordinator'), 'brand', [jobRecordOf([part])]);
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  const manifestOf = async (out: string): Promise<Manifest> =>
    JSON.parse(await readFile(join(out, 'manifest.json'), 'utf8')) as Manifest;

  it('round-trips the float64 weights, is co-signed by the coordinator, and drops row-level metrics from the manifest', async () => {
    const out = join(dir, 'ok');
    await exportModel({ part, identity: brand, outDir: out, coSign });
    const model = await loadModel(out, { caPem: brand.caPem, party: 'brand' });
    expect(Array.from(model.weights)).toEqual(part.weights);
    expect(model).toMatchObject({ intercept: -0.5, guest: 'brand', hosts: ['partner'] });
    expect(model.manifest.metrics).toEqual({ auc: 0.9 });
    expect(model.manifest.coordinatorSignature).toMatchObject({ name: 'coordinator', algorithm: 'ECDSA-P256-SHA256' });
  });

  it('refuses a manifest edited after export', async () => {
    const out = join(dir, 'edited');
    await exportModel({ part, identity: brand, outDir: out, coSign });
    const manifest = await manifestOf(out);
    manifest.jobName = 'other';
    await writeFile(join(out, 'manifest.json'), JSON.stringify(manifest));
    const load = loadModel(out, { caPem: brand.caPem });
    await expect(load).rejects.toThrow(ConfigError);
    await expect(loadModel(out, { caPem: brand.caPem })).rejects.toThrow(
      /signature: does not verify with brand's certificate: the manifest was changed after export/,
    );
  });

  it("refuses a model without the coordinator's co-signature, naming the file and the field", async () => {
    const out = join(dir, 'unsigned');
    await exportModel({ part, identity: brand, outDir: out, coSign });
    const { coordinatorSignature: _dropped, ...manifest } = await manifestOf(out);
    await writeFile(join(out, 'manifest.json'), JSON.stringify(manifest));
    await expect(loadModel(out, { caPem: brand.caPem })).rejects.toThrow(ConfigError);
    await expect(loadModel(out, { caPem: brand.caPem })).rejects.toThrow(
      `${join(out, 'manifest.json')}: coordinatorSignature: is missing: the coordinator never co-signed this model`,
    );
  });

  it('refuses a tampered co-signature', async () => {
    const out = join(dir, 'tampered-co');
    await exportModel({ part, identity: brand, outDir: out, coSign, now: new Date('2026-01-01T00:00:00Z') });
    const manifest = await manifestOf(out);
    const other = await manifestOf(join(dir, 'ok'));
    // The coordinator's signature over another export (another createdAt): valid bytes, wrong manifest.
    manifest.coordinatorSignature = other.coordinatorSignature;
    await writeFile(join(out, 'manifest.json'), JSON.stringify(manifest));
    await expect(loadModel(out, { caPem: brand.caPem })).rejects.toThrow(
      /manifest\.json: coordinatorSignature: does not verify with coordinator's certificate: the manifest was changed after the coordinator signed it/,
    );
  });

  it('refuses a co-signature by a node that is not the coordinator', async () => {
    const out = join(dir, 'partner-co');
    // partner signs where the coordinator should: a valid federation certificate, the wrong node.
    await exportModel({
      part,
      identity: brand,
      outDir: out,
      coSign: testCoSigner(partner, 'brand', [jobRecordOf([part])]),
    });
    await expect(loadModel(out, { caPem: brand.caPem })).rejects.toThrow(AuthError);
    await expect(loadModel(out, { caPem: brand.caPem })).rejects.toThrow(
      /coordinatorSignature: is by partner, not by the coordinator coordinator/,
    );
    // ...unless the node config names partner as the coordinator.
    await expect(loadModel(out, { caPem: brand.caPem, coordinator: 'partner' })).resolves.toMatchObject({
      guest: 'brand',
    });
  });

  it('writes nothing when the coordinator refuses', async () => {
    const out = join(dir, 'refused');
    const running = testCoSigner(brand, 'brand', [jobRecordOf([part], 'running')]);
    await expect(exportModel({ part, identity: brand, outDir: out, coSign: running })).rejects.toThrow(JobError);
    expect(existsSync(out)).toBe(false);
  });

  it('refuses a model signed by a certificate from another federation', async () => {
    const out = join(dir, 'foreign');
    await exportModel({
      part,
      identity: foreign,
      outDir: out,
      coSign: () =>
        Promise.resolve({
          name: 'coordinator',
          certificate: foreign.certPem,
          algorithm: 'ECDSA-P256-SHA256',
          value: '',
        }),
    });
    await expect(loadModel(out, { caPem: brand.caPem })).rejects.toThrow(AuthError);
    await expect(loadModel(out, { caPem: brand.caPem })).rejects.toThrow(/is not signed by the federation CA/);
  });

  it("refuses to export another node's part", async () => {
    await expect(
      exportModel({ part: { ...part, party: 'partner' }, identity: brand, outDir: join(dir, 'x'), coSign }),
    ).rejects.toThrow(/the model part was trained by partner, but this node is brand/);
  });
});
