import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AuthError, JobError, TandemError } from '../protocol/errors.ts';
import { sign } from '../protocol/crypto/signing.ts';
import {
  MANIFEST_FORMAT,
  SIGNATURE_ALGORITHM,
  signedBytes,
  type Manifest,
  type ManifestBody,
} from '../protocol/serving/model-manifest.ts';
import { PROTOCOL_VERSION } from '../protocol/version.ts';
import { AuditLog, readAuditLog } from '../audit/log.ts';
import { readAuditSources, verifyAuditLogs } from '../audit/verify.ts';
import { loadNodeIdentity, type NodeIdentity } from '../runtime/certs.ts';
import { initCertificates } from '../runtime/certificate-authority.ts';
import { signExport } from './export-signing.ts';
import type { JobRecord } from './job-store.ts';

const parties = [
  { name: 'brand', role: 'guest' as const, dataset: 'd' },
  { name: 'partner', role: 'host' as const, dataset: 'h' },
];
const job: JobRecord = {
  jobId: 'job-1',
  name: 'churn',
  kind: 'hetero-lr',
  stage: 'completed',
  phase: 'done',
  parties: ['brand', 'partner'],
  epoch: 5,
  maxEpochs: 5,
  unit: 'epochs',
  loss: 0.3,
  message: 'completed',
  summaryJson: JSON.stringify({ brand: { metrics: { auc: 0.91, ks: 0.6 } }, partner: {} }),
  specYaml: '',
  specJson: JSON.stringify({ name: 'churn', kind: 'hetero-lr', parties }),
  createdAtMs: 0,
  updatedAtMs: 0,
};

describe('the coordinator co-signing an exported model', () => {
  let dir: string;
  const ids: Record<string, NodeIdentity> = {};
  const jobs = new Map<string, JobRecord>([
    [job.jobId, job],
    ['job-2', { ...job, jobId: 'job-2', stage: 'failed' }],
  ]);

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tandem-export-signing-'));
    await initCertificates({ outDir: dir, parties: ['brand', 'partner', 'outsider'] });
    for (const n of ['coordinator', 'brand', 'partner', 'outsider'])
      ids[n] = await loadNodeIdentity({
        ca: join(dir, 'ca.crt'),
        cert: join(dir, `${n}.crt`),
        key: join(dir, `${n}.key`),
      });
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  /** A manifest of `party`'s part, as `signer` would sign it, with `changes` to its body. */
  const manifest = (party: string, changes: Partial<ManifestBody> = {}, signer = party): string => {
    const id = ids[signer]!;
    const body: ManifestBody = {
      format: MANIFEST_FORMAT,
      protocolVersion: PROTOCOL_VERSION,
      jobId: 'job-1',
      jobName: 'churn',
      party,
      role: party === 'brand' ? 'guest' : 'host',
      parties,
      featureNames: ['x'],
      output: party === 'brand' ? 'logit' : 'partial-logit',
      metrics: party === 'brand' ? { auc: 0.91 } : null,
      trainedAt: null,
      createdAt: '2026-01-01T00:00:00.000Z',
      files: { 'model.json': 'a'.repeat(64) },
      signer: { name: id.name, certificate: id.certPem },
      ...changes,
    };
    const m: Manifest = {
      ...body,
      signature: {
        algorithm: SIGNATURE_ALGORITHM,
        value: Buffer.from(sign(id.privateKey, signedBytes(body))).toString('base64'),
      },
    };
    return JSON.stringify(m);
  };
  const cosign = (caller: string, json: string) =>
    signExport(caller, json, { identity: ids['coordinator']!, job: (id) => jobs.get(id) });

  it("co-signs a participant's own manifest of a completed job and states it in its audit log", async () => {
    const audit = new AuditLog(
      join(dir, 'audit', 'coordinator.audit.jsonl'),
      'coordinator',
      ids['coordinator']!.privateKey,
    );
    const signed = signExport('partner', manifest('partner'), {
      identity: ids['coordinator']!,
      job: (id) => jobs.get(id),
      audit,
    });
    audit.close();
    expect(signed).toMatchObject({ coordinator: 'coordinator', certificate: ids['coordinator']!.certPem });
    const [record] = readAuditLog(join(dir, 'audit', 'coordinator.audit.jsonl'));
    expect(record?.claim).toMatchObject({ type: 'model-export', job: 'job-1', party: 'partner', role: 'host' });
    const report = verifyAuditLogs(await readAuditSources([join(dir, 'audit', 'coordinator.audit.jsonl')]), {
      caSource: 'ca.crt',
      caPem: ids['coordinator']!.caPem,
      certificates: [{ source: 'coordinator.crt', pem: ids['coordinator']!.certPem }],
    });
    expect(report.findings).toEqual([]);
    expect(report.ok).toBe(true);
  });

  it('refuses a node that is not a party to the job', () => {
    expect(() => cosign('outsider', manifest('outsider'))).toThrow(JobError);
    expect(() => cosign('outsider', manifest('outsider'))).toThrow('"outsider" is not a party to job job-1');
  });

  it("refuses to co-sign another party's part", () => {
    expect(() => cosign('brand', manifest('partner', {}, 'brand'))).toThrow(AuthError);
    expect(() => cosign('brand', manifest('partner', {}, 'brand'))).toThrow("brand asked to co-sign partner's part");
  });

  it("refuses a manifest signed with another node's certificate", () => {
    const forged = manifest('brand', { signer: { name: 'brand', certificate: ids['partner']!.certPem } }, 'partner');
    expect(() => cosign('brand', forged)).toThrow(AuthError);
    expect(() => cosign('brand', forged)).toThrow(/carries partner's certificate/);
  });

  it('refuses an unknown job, and a job that did not complete', () => {
    expect(() => cosign('brand', manifest('brand', { jobId: 'job-9' }))).toThrow(JobError);
    expect(() => cosign('brand', manifest('brand', { jobId: 'job-9' }))).toThrow('no job "job-9"');
    expect(() => cosign('brand', manifest('brand', { jobId: 'job-2' }))).toThrow(/job job-2 is failed/);
  });

  it.each([
    [{ role: 'host' as const }, /manifest\.role: is host, brand is the guest of job job-1/],
    [{ jobName: 'other' }, /manifest\.jobName: is "other", job job-1 is named "churn"/],
    [
      { parties: [parties[0]!, { ...parties[1]!, dataset: 'd' }] },
      /manifest\.parties: are .*"dataset":"d".*, job job-1 has .*"dataset":"h"/,
    ],
    [{ protocolVersion: PROTOCOL_VERSION + 1 }, /manifest\.protocolVersion: is/],
    [{ metrics: { auc: 0.99 } }, /manifest\.metrics\.auc: is 0\.99, brand reported 0\.91 for job job-1/],
    [{ family: 'trees' }, /manifest\.family: is trees, job job-1 trained lr/],
  ])('refuses a manifest that disagrees with the job store (%o)', (changes, message) => {
    expect(() => cosign('brand', manifest('brand', changes))).toThrow(TandemError);
    expect(() => cosign('brand', manifest('brand', changes))).toThrow(message);
  });

  it('refuses a manifest that is not one', () => {
    expect(() => cosign('brand', '{"format":"x"}')).toThrow(/manifest\.format: /);
    expect(() => cosign('brand', 'not json')).toThrow('the manifest is not valid JSON');
  });
});
