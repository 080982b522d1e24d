import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initCertificates, loadNodeIdentity, type NodeIdentity } from '../runtime/certs.ts';
import { AuthError, ConfigError } from '../protocol/errors.ts';
import { exportModel, loadModel } from './model-bundle.ts';
import type { ModelPart } from './model-part.ts';

const part: ModelPart = {
  format: 'tandem-model-part/1', jobId: 'job-1', jobName: 'test', party: 'brand', role: 'guest',
  parties: [{ name: 'brand', role: 'guest', dataset: 'd' }, { name: 'partner', role: 'host', dataset: 'd' }],
  featureNames: ['x'], weights: [0.123456789012345], intercept: -0.5, link: { degree: 6, clip: 6 }, rowClip: null,
  preprocess: { format: 'tandem-preprocess/1', missingPolicy: 'mean', missingTokens: [''], fittedRows: 3, columns: [{ name: 'x', kind: 'numeric', mean: 1, std: 2, indicator: false }], outputColumns: ['x'] },
  scoringKey: 'ab'.repeat(32), summary: { metrics: { auc: 0.9, roc: { thresholds: [0.1, 0.2] } } },
};

describe('model bundles', () => {
  let dir: string;
  let brand: NodeIdentity;
  let foreign: NodeIdentity;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tandem-bundle-'));
    await initCertificates({ outDir: join(dir, 'certs'), parties: ['brand', 'partner'] });
    await initCertificates({ outDir: join(dir, 'other'), parties: ['brand'] });
    const id = (d: string, n: string): Promise<NodeIdentity> => loadNodeIdentity({ ca: join(dir, d, 'ca.crt'), cert: join(dir, d, `${n}.crt`), key: join(dir, d, `${n}.key`) });
    brand = await id('certs', 'brand');
    foreign = await id('other', 'brand');
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('round-trips the float64 weights and drops row-level metrics from the manifest', async () => {
    const out = join(dir, 'ok');
    await exportModel({ part, identity: brand, outDir: out });
    const model = await loadModel(out, { caPem: brand.caPem, party: 'brand' });
    expect(Array.from(model.weights)).toEqual(part.weights);
    expect(model).toMatchObject({ intercept: -0.5, guest: 'brand', hosts: ['partner'] });
    expect(model.manifest.metrics).toEqual({ auc: 0.9 });
  });

  it('refuses a manifest edited after export', async () => {
    const out = join(dir, 'edited');
    await exportModel({ part, identity: brand, outDir: out });
    const manifest = JSON.parse(await readFile(join(out, 'manifest.json'), 'utf8')) as { jobName: string };
    manifest.jobName = 'other';
    await writeFile(join(out, 'manifest.json'), JSON.stringify(manifest));
    const load = loadModel(out, { caPem: brand.caPem });
    await expect(load).rejects.toThrow(ConfigError);
    await expect(loadModel(out, { caPem: brand.caPem })).rejects.toThrow(/signature: does not verify with brand's certificate: the manifest was changed after export/);
  });

  it('refuses a model signed by a certificate from another federation', async () => {
    const out = join(dir, 'foreign');
    await exportModel({ part, identity: foreign, outDir: out });
    await expect(loadModel(out, { caPem: brand.caPem })).rejects.toThrow(AuthError);
    await expect(loadModel(out, { caPem: brand.caPem })).rejects.toThrow(/is not signed by the federation CA/);
  });

  it('refuses to export another node\'s part', async () => {
    await expect(exportModel({ part: { ...part, party: 'partner' }, identity: brand, outDir: join(dir, 'x') })).rejects.toThrow(/the model part was trained by partner, but this node is brand/);
  });
});
