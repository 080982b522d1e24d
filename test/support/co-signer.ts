/**
 * The coordinator's co-signing (coordinator/export-signing.ts) without a
 * running coordinator, for unit tests and benchmarks that export hand-made
 * model parts: the job store is replaced by records built from the parts
 * themselves, so every check the coordinator makes still runs.
 */
import { signExport } from '../../coordinator/export-signing.ts';
import type { JobRecord } from '../../coordinator/job-store.ts';
import { SIGNATURE_ALGORITHM } from '../../protocol/serving/model-manifest.ts';
import type { NodeIdentity } from '../../runtime/certs.ts';
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
