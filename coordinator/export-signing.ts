/**
 * The coordinator's co-signature on exported models: a party of a completed
 * job sends the manifest of its exported part (already signed by itself);
 * the coordinator checks it against what it knows of the job — the caller
 * took part, the job completed, and the job id, party, role, parties,
 * protocol version and validation metrics are the job's — and signs the
 * same canonical bytes with its own key. Every co-signing is stated in the
 * coordinator's audit log.
 *
 * What the coordinator cannot check, it does not claim: the weights, the
 * preprocessing and the scoring key never leave the party, so the file
 * digests are signed as the party stated them.
 */
import { createHash } from 'node:crypto';
import { AuthError, JobError, TandemError } from '../protocol/errors.ts';
import { sign, verify } from '../protocol/crypto/signing.ts';
import {
  canonicalJson,
  manifestBody,
  manifestSchema,
  signedBytes,
  type ManifestBody,
} from '../protocol/serving/model-manifest.ts';
import { PROTOCOL_VERSION } from '../protocol/version.ts';
import type { AuditClaim } from '../audit/log.ts';
import { verifyPeerCertificate, type NodeIdentity } from '../runtime/certs.ts';
import type { JobRecord } from './job-store.ts';

export type ExportSigningOptions = {
  /** The coordinator's identity: its key signs, its certificate goes into the manifest. */
  readonly identity: NodeIdentity;
  /** Reads a job from the job store. */
  readonly job: (jobId: string) => JobRecord | undefined;
  /** Where the co-signing is stated (the coordinator's audit log). */
  readonly audit?: { state(claim: AuditClaim): unknown } | undefined;
};

export type ExportSignature = {
  readonly coordinator: string;
  readonly certificate: string;
  readonly signature: Uint8Array;
};

/** What the job store says a manifest must repeat. */
type JobFacts = {
  readonly parties: readonly { readonly name: string; readonly role: string; readonly dataset: string }[];
  readonly model?: { readonly family?: string } | undefined;
};

const refuse = (message: string): TandemError =>
  new TandemError('ARGUMENT_INVALID', message, { publicMessage: message });

/**
 * Checks `manifestJson` (a manifest signed by `caller`) against the job store and co-signs its body.
 * @throws TandemError ARGUMENT_INVALID when the manifest is malformed or disagrees with the job
 * @throws JobError JOB_NOT_FOUND, JOB_NOT_PARTICIPANT, or JOB_STATE_CONFLICT when the job has not completed
 * @throws AuthError AUTH_NOT_ALLOWED when the manifest describes another party's part; AUTH_CERTIFICATE_REJECTED when the party's signature does not hold
 */
export function signExport(caller: string, manifestJson: string, options: ExportSigningOptions): ExportSignature {
  let raw: unknown;
  try {
    raw = JSON.parse(manifestJson);
  } catch {
    throw refuse('the manifest is not valid JSON');
  }
  const parsed = manifestSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw refuse(`manifest.${issue?.path.join('.') ?? ''}: ${issue?.message ?? 'is not a model manifest'}`);
  }
  const body = manifestBody(parsed.data);
  const job = options.job(body.jobId);
  if (job === undefined)
    throw new JobError('JOB_NOT_FOUND', `no job "${body.jobId}"`, { publicMessage: `no job "${body.jobId}"` });
  if (!job.parties.includes(caller)) {
    throw new JobError('JOB_NOT_PARTICIPANT', `"${caller}" is not a party to job ${job.jobId}`, {
      publicMessage: `"${caller}" is not a party to job ${job.jobId} and cannot export its model`,
    });
  }
  if (body.party !== caller || body.signer.name !== caller) {
    throw new AuthError('AUTH_NOT_ALLOWED', `${caller} asked to co-sign ${body.party}'s part`, {
      publicMessage: `${caller} may only have its own part co-signed, not ${body.party}'s`,
    });
  }
  checkPartySignature(caller, parsed.data.signature.value, body, options.identity.caPem);
  if (job.stage !== 'completed') {
    throw new JobError('JOB_STATE_CONFLICT', `job ${job.jobId} is ${job.stage}`, {
      publicMessage: `job ${job.jobId} is ${job.stage}; only a completed job's model can be exported`,
    });
  }
  const problem = disagreement(body, job);
  if (problem !== undefined) throw refuse(`manifest.${problem}`);
  const bytes = signedBytes(body);
  const signature = sign(options.identity.privateKey, bytes);
  options.audit?.state({
    type: 'model-export',
    job: job.jobId,
    party: caller,
    role: body.role,
    manifest: createHash('sha256').update(bytes).digest('hex'),
  });
  return { coordinator: options.identity.name, certificate: options.identity.certPem, signature };
}

function checkPartySignature(caller: string, signature: string, body: ManifestBody, caPem: string): void {
  const signer = verifyPeerCertificate(body.signer.certificate, caPem);
  if (signer !== caller)
    throw new AuthError(
      'AUTH_CERTIFICATE_REJECTED',
      `the manifest carries ${signer}'s certificate, sent by ${caller}`,
      { publicMessage: `the manifest must be signed with ${caller}'s own certificate, not ${signer}'s` },
    );
  if (!verify(body.signer.certificate, signedBytes(body), Buffer.from(signature, 'base64'))) {
    throw new AuthError('AUTH_CERTIFICATE_REJECTED', `${caller}'s manifest signature does not verify`, {
      publicMessage: `the manifest's signature does not verify with ${caller}'s certificate`,
    });
  }
}

/** The first field where the manifest and the job store disagree, with both values; undefined when they agree. */
function disagreement(body: ManifestBody, job: JobRecord): string | undefined {
  const spec = JSON.parse(job.specJson) as JobFacts;
  const parties = spec.parties.map((p) => ({ name: p.name, role: p.role, dataset: p.dataset }));
  if (body.protocolVersion !== PROTOCOL_VERSION)
    return `protocolVersion: is ${body.protocolVersion}, the coordinator speaks ${PROTOCOL_VERSION}`;
  if (body.jobName !== job.name) return `jobName: is "${body.jobName}", job ${job.jobId} is named "${job.name}"`;
  if (canonicalJson(body.parties) !== canonicalJson(parties))
    return `parties: are ${canonicalJson(body.parties)}, job ${job.jobId} has ${canonicalJson(parties)}`;
  const role = parties.find((p) => p.name === body.party)?.role;
  if (body.role !== role) return `role: is ${body.role}, ${body.party} is the ${role ?? '?'} of job ${job.jobId}`;
  // A bundle says which family scores it; it must be the family the job trained.
  const family = spec.model?.family ?? 'lr';
  if ((body.family ?? 'lr') !== family) return `family: is ${body.family ?? 'lr'}, job ${job.jobId} trained ${family}`;
  const summaries = JSON.parse(job.summaryJson === '' ? '{}' : job.summaryJson) as Record<
    string,
    { metrics?: Record<string, unknown> } | undefined
  >;
  const reported = summaries[body.party]?.metrics ?? {};
  for (const [name, value] of Object.entries(body.metrics ?? {})) {
    if (canonicalJson(value) !== canonicalJson(reported[name]))
      return `metrics.${name}: is ${canonicalJson(value)}, ${body.party} reported ${canonicalJson(reported[name]) ?? 'none'} for job ${job.jobId}`;
  }
  return undefined;
}
