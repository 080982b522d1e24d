/**
 * The manifest of an exported model part (serving/model-bundle.ts), shared by
 * the party that writes it and the coordinator that co-signs it
 * (coordinator/export-signing.ts): its schema and the canonical bytes both
 * signatures cover. Pure: no I/O.
 *
 * Two signatures cover the same bytes, the body's canonical JSON: the
 * exporting party's (`signature`, with the certificate in `signer`) and the
 * coordinator's (`coordinatorSignature`, with its certificate), given only
 * after the coordinator checked the body against its job store. A loader
 * requires both.
 */
import { z } from 'zod';

export const MANIFEST_FORMAT = 'tandem-model-manifest/1';
export const SIGNATURE_ALGORITHM = 'ECDSA-P256-SHA256';

const role = z.enum(['guest', 'host']);

export const manifestBodySchema = z.strictObject({
  format: z.literal(MANIFEST_FORMAT),
  protocolVersion: z.number().int(),
  jobId: z.string().min(1),
  jobName: z.string(),
  party: z.string().min(1),
  role,
  parties: z.array(z.strictObject({ name: z.string(), role, dataset: z.string() })),
  /** The model family (models/registry.ts); absent: `lr`, as every bundle before trees. */
  family: z.string().optional(),
  featureNames: z.array(z.string()),
  /** What the part computes: a (partial) logit (LR, a trees guest or lookalike host), or a trees host's split answers. */
  output: z.enum(['logit', 'partial-logit', 'split-bits']),
  /** Multi-class (one-vs-rest) models: the number of logits per row; absent means 1 (binary). */
  outputs: z.number().int().min(2).optional(),
  /** Multi-class models, guest only: the class labels, in the order of the logits. */
  classes: z.array(z.string()).optional(),
  metrics: z.record(z.string(), z.unknown()).nullable(),
  trainedAt: z.string().nullable(),
  createdAt: z.string(),
  files: z.record(z.string(), z.string().regex(/^[0-9a-f]{64}$/)),
  signer: z.strictObject({ name: z.string(), certificate: z.string() }),
});

const signatureSchema = z.strictObject({ algorithm: z.literal(SIGNATURE_ALGORITHM), value: z.string() });

/** The coordinator's co-signature: who signed, with which certificate (PEM), and the signature (base64 DER). */
export const coordinatorSignatureSchema = signatureSchema.extend({ name: z.string().min(1), certificate: z.string() });

/** `coordinatorSignature` is optional here so that a loader can say exactly what is missing. */
export const manifestSchema = manifestBodySchema.extend({
  signature: signatureSchema,
  coordinatorSignature: coordinatorSignatureSchema.optional(),
});

export type ManifestBody = z.infer<typeof manifestBodySchema>;
export type Manifest = z.infer<typeof manifestSchema>;
export type CoordinatorSignature = z.infer<typeof coordinatorSignatureSchema>;

/** JSON with keys sorted at every level. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) return v;
    return Object.fromEntries(
      Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
    );
  });
}

/** The manifest without its signatures. */
export function manifestBody(manifest: Manifest): ManifestBody {
  const { signature: _signature, coordinatorSignature: _coordinator, ...body } = manifest;
  return body;
}

/** The bytes both signatures cover: the body's canonical JSON. */
export function signedBytes(body: ManifestBody): Uint8Array {
  return new TextEncoder().encode(canonicalJson(body));
}
