/**
 * Serving fixtures for unit tests and benchmarks that export hand-made model
 * parts: the coordinator's co-signing (coordinator/export-signing.ts)
 * without a running coordinator — the job store is replaced by records built
 * from the parts themselves, so every check the coordinator makes still
 * runs — and a guest + host pair of exported models with node configs.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { loadNodeIdentity, type NodeIdentity } from '../../runtime/certs.ts';
import { exportModel } from '../../serving/model-bundle.ts';
import { signExport } from '../../coordinator/export-signing.ts';
import type { JobRecord } from '../../coordinator/job-store.ts';
import { SIGNATURE_ALGORITHM } from '../../protocol/serving/model-manifest.ts';
import type { CoSigner } from '../../serving/model-bundle.ts';
import type { ModelPart } from '../../serving/model-part.ts';

/** A completed job as the coordinator would have stored it, from its parties' model parts. */
export function jobRecordOf(parts: readonly ModelPart[], stage: JobRecord['stage'] = 'completed'): JobRecord {
  const first = parts[0];
  if (first === undefined) throw new RangeError('jobRecordOf needs at least one model part');
  return {
    jobId: first.jobId, name: first.jobName, kind: 'hetero-lr', stage, phase: 'done', parties: first.parties.map((p) => p.name),
    epoch: 0, maxEpochs: 0, loss: 0, message: stage, summaryJson: JSON.stringify(Object.fromEntries(parts.map((p) => [p.party, p.summary]))),
    specYaml: '', specJson: JSON.stringify({ name: first.jobName, parties: first.parties }), createdAtMs: 0, updatedAtMs: 0,
  };
}

/** Co-signs as `coordinator` would, for the jobs given. `caller` is the exporting node (the mTLS peer at a real coordinator). */
export function testCoSigner(coordinator: NodeIdentity, caller: string, jobs: readonly JobRecord[]): CoSigner {
  return (manifest) => {
    const signed = signExport(caller, JSON.stringify(manifest), { identity: coordinator, job: (id) => jobs.find((j) => j.jobId === id) });
    return Promise.resolve({ name: signed.coordinator, certificate: signed.certificate, algorithm: SIGNATURE_ALGORITHM, value: Buffer.from(signed.signature).toString('base64') });
  };
}

/**
 * In `dir` (whose `certs/` holds a federation from `initCertificates`):
 * exports `brand`'s guest part and `partner`'s host part, co-signed, to
 * `brand-model` and `partner-model`, writes each party's data (`<name>.csv`)
 * and node config (`<name>.yaml`, dataset `d`, the guest's with `label`).
 */
export async function writeServingFixture(dir: string, parts: { readonly guest: ModelPart; readonly host: ModelPart }, data: { readonly brand: string; readonly partner: string }, label = ''): Promise<void> {
  const id = (n: string): Promise<NodeIdentity> => loadNodeIdentity({ ca: join(dir, 'certs', 'ca.crt'), cert: join(dir, 'certs', `${n}.crt`), key: join(dir, 'certs', `${n}.key`) });
  const coordinator = await id('coordinator');
  const job = jobRecordOf([parts.guest, parts.host]);
  for (const [name, part] of [['brand', parts.guest], ['partner', parts.host]] as const) {
    await exportModel({ part, identity: await id(name), outDir: join(dir, `${name}-model`), coSign: testCoSigner(coordinator, name, [job]) });
    await writeFile(join(dir, `${name}.csv`), data[name]);
    await writeFile(join(dir, `${name}.yaml`), `node:
  name: ${name}
  coordinator: 127.0.0.1:7443
  dataDir: ./${name}-data
  certs: { ca: certs/ca.crt, cert: certs/${name}.crt, key: certs/${name}.key }
datasets:
  d:
    file: ${name}.csv
    id: id${name === 'brand' && label !== '' ? `\n    label: ${label}` : ''}
    features: all
`);
  }
}
