/**
 * The exported model of one party: a directory holding
 *
 * - `model.json` + `weights.bin`: the party's part as a TF.js LayersModel;
 * - `preprocess.json`: the fitted preprocessing (column order, scalers,
 *   encoders, missing-value policy);
 * - `scoring.json`: the float64 weights, intercept and row clip that serving
 *   uses (the LayersModel is float32);
 * - `scoring-key` (mode 0600): the job's pseudonym key, secret to the job's parties;
 * - `manifest.json`: job, role, parties, feature names, metrics, protocol
 *   version, created at, the SHA-256 of every file above, signed (ECDSA
 *   P-256) with the exporting node's certificate.
 *
 * Loading checks the certificate against the federation CA, the signature,
 * every file's digest and that the files agree with each other, so a model
 * that was edited, swapped or mixed with another job's files is refused.
 */
import { createHash } from 'node:crypto';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { AuthError, ConfigError } from '../protocol/errors.ts';
import { sign, verify } from '../protocol/crypto/signing.ts';
import { PROTOCOL_VERSION } from '../protocol/version.ts';
import { verifyPeerCertificate, type NodeIdentity } from '../runtime/certs.ts';
import type { PreprocessSpec } from '../party/data/preprocess.ts';
import { preprocessSchema, type ModelPart } from './model-part.ts';
import { checkLayersWeights, layersArtifacts, WEIGHTS_FILE } from './tfjs-layers.ts';

export const MANIFEST_FORMAT = 'tandem-model-manifest/1';
const FILES = ['model.json', WEIGHTS_FILE, 'preprocess.json', 'scoring.json', 'scoring-key'] as const;

const finite = z.number().refine(Number.isFinite, 'must be a finite number');

const scoringSchema = z.strictObject({
  format: z.literal('tandem-scoring/1'),
  featureNames: z.array(z.string()),
  weights: z.array(finite),
  intercept: finite,
  rowClip: finite.nullable(),
});

const manifestBodySchema = z.strictObject({
  format: z.literal(MANIFEST_FORMAT),
  protocolVersion: z.number().int(),
  jobId: z.string().min(1),
  jobName: z.string(),
  party: z.string().min(1),
  role: z.enum(['guest', 'host']),
  parties: z.array(z.strictObject({ name: z.string(), role: z.enum(['guest', 'host']), dataset: z.string() })),
  featureNames: z.array(z.string()),
  output: z.enum(['logit', 'partial-logit']),
  metrics: z.record(z.string(), z.unknown()).nullable(),
  trainedAt: z.string().nullable(),
  createdAt: z.string(),
  files: z.record(z.string(), z.string().regex(/^[0-9a-f]{64}$/)),
  signer: z.strictObject({ name: z.string(), certificate: z.string() }),
});

const manifestSchema = manifestBodySchema.extend({ signature: z.strictObject({ algorithm: z.literal('ECDSA-P256-SHA256'), value: z.string() }) });

export type ManifestBody = z.infer<typeof manifestBodySchema>;
export type Manifest = z.infer<typeof manifestSchema>;

/** A verified, loaded model part, ready to score. */
export type ServingModel = {
  readonly dir: string;
  readonly manifest: Manifest;
  readonly preprocess: PreprocessSpec;
  readonly weights: Float64Array;
  readonly intercept: number;
  readonly rowClip: number | null;
  /** The job's pseudonym key (32 bytes). */
  readonly scoringKey: Uint8Array;
  readonly guest: string;
  readonly hosts: readonly string[];
};

/** JSON with keys sorted at every level: the bytes that are signed. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) return v;
    return Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  });
}

const sha256 = (bytes: Uint8Array | string): string => createHash('sha256').update(bytes).digest('hex');

/** Aggregate validation metrics only: ROC thresholds and gain points are individual rows' scores. */
function publicMetrics(part: ModelPart): Record<string, unknown> | null {
  const m = part.summary['metrics'] as Record<string, unknown> | undefined;
  if (m === undefined) return null;
  const keep = ['rows', 'positives', 'auc', 'ks', 'logLoss', 'accuracy', 'threshold', 'liftAtK', 'recallAtK'];
  return Object.fromEntries(keep.filter((k) => k in m).map((k) => [k, m[k]]));
}

export type ExportOptions = {
  readonly part: ModelPart;
  readonly identity: NodeIdentity;
  readonly outDir: string;
  /** @default the current time */
  readonly now?: Date | undefined;
};

/**
 * Writes the model bundle of one party's part and signs its manifest.
 * @throws ConfigError CONFIG_INVALID when the part belongs to another node or has no scoring key
 */
export async function exportModel(options: ExportOptions): Promise<{ readonly dir: string; readonly files: readonly string[]; readonly manifest: Manifest }> {
  const { part, identity, outDir } = options;
  if (part.party !== identity.name) {
    throw new ConfigError('CONFIG_INVALID', { file: outDir, field: 'party', problem: `the model part was trained by ${part.party}, but this node is ${identity.name}`, fix: 'export with the config of the node that took part in the job' });
  }
  if (part.scoringKey === undefined) {
    throw new ConfigError('CONFIG_INVALID', { file: outDir, field: 'scoringKey', problem: `job ${part.jobId} predates serving and agreed no pseudonym key`, fix: 'run the job again with this version of tandem' });
  }
  const { modelJson, weightsBin } = await layersArtifacts(part.weights, part.intercept);
  const contents: Record<(typeof FILES)[number], Uint8Array | string> = {
    'model.json': modelJson,
    [WEIGHTS_FILE]: weightsBin,
    'preprocess.json': `${JSON.stringify(part.preprocess, null, 2)}\n`,
    'scoring.json': `${JSON.stringify({ format: 'tandem-scoring/1', featureNames: part.featureNames, weights: part.weights, intercept: part.intercept, rowClip: part.rowClip }, null, 2)}\n`,
    'scoring-key': `${part.scoringKey}\n`,
  };
  await mkdir(outDir, { recursive: true });
  for (const name of FILES) {
    await writeFile(join(outDir, name), contents[name], name === 'scoring-key' ? { mode: 0o600 } : {});
  }
  await chmod(join(outDir, 'scoring-key'), 0o600);
  const body: ManifestBody = {
    format: MANIFEST_FORMAT, protocolVersion: PROTOCOL_VERSION, jobId: part.jobId, jobName: part.jobName, party: part.party, role: part.role,
    parties: part.parties.map((p) => ({ name: p.name, role: p.role, dataset: p.dataset })), featureNames: part.featureNames,
    output: part.role === 'guest' ? 'logit' : 'partial-logit', metrics: publicMetrics(part), trainedAt: part.createdAt ?? null,
    createdAt: (options.now ?? new Date()).toISOString(),
    files: Object.fromEntries(FILES.map((name) => [name, sha256(contents[name])])),
    signer: { name: identity.name, certificate: identity.certPem },
  };
  const signature = sign(identity.privateKey, new TextEncoder().encode(canonicalJson(body)));
  const manifest: Manifest = { ...body, signature: { algorithm: 'ECDSA-P256-SHA256', value: Buffer.from(signature).toString('base64') } };
  await writeFile(join(outDir, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  return { dir: outDir, files: [...FILES, 'manifest.json'], manifest };
}

export type LoadOptions = {
  /** The federation CA (PEM) the signer's certificate must chain to. */
  readonly caPem: string;
  /** Refuse a model that is not this party's. */
  readonly party?: string | undefined;
  /** @default the current time */
  readonly now?: Date | undefined;
};

/**
 * Loads and verifies an exported model.
 * @throws ConfigError CONFIG_NOT_FOUND for a missing file, CONFIG_INVALID for a tampered or inconsistent model
 * @throws AuthError AUTH_CERTIFICATE_REJECTED when the signer's certificate is not from the federation CA
 */
export async function loadModel(dir: string, options: LoadOptions): Promise<ServingModel> {
  const manifestFile = join(dir, 'manifest.json');
  const tampered = (field: string, problem: string, fix = 'export the model again with `tandem model export`; do not edit its files'): ConfigError =>
    new ConfigError('CONFIG_INVALID', { file: manifestFile, field, problem, fix });
  const raw = await readBytes(manifestFile);
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder().decode(raw));
  } catch {
    throw tampered('', 'is not valid JSON');
  }
  const result = manifestSchema.safeParse(parsed);
  if (!result.success) {
    const issue = result.error.issues[0];
    throw tampered(issue?.path.join('.') ?? '', `${issue?.message ?? 'is not a model manifest'} (expected a ${MANIFEST_FORMAT} manifest)`);
  }
  const manifest = result.data;
  const signerName = verifyPeerCertificate(manifest.signer.certificate, options.caPem, options.now ?? new Date());
  if (signerName !== manifest.party || manifest.signer.name !== manifest.party) {
    throw new AuthError('AUTH_CERTIFICATE_REJECTED', `${manifestFile}: the manifest is signed by ${signerName} but describes ${manifest.party}'s part of the model. Fix: serve the model that node exported`);
  }
  const { signature, ...body } = manifest;
  if (!verify(manifest.signer.certificate, new TextEncoder().encode(canonicalJson(body)), Buffer.from(signature.value, 'base64'))) {
    throw tampered('signature', `does not verify with ${signerName}'s certificate: the manifest was changed after export`);
  }
  if (manifest.protocolVersion !== PROTOCOL_VERSION) {
    throw tampered('protocolVersion', `is ${manifest.protocolVersion}, this tandem speaks ${PROTOCOL_VERSION}`, 'serve it with the tandem version that exported it, or export it again');
  }
  if (options.party !== undefined && manifest.party !== options.party) {
    throw tampered('party', `the model is ${manifest.party}'s part, but this node is ${options.party}`, `serve ${manifest.party}'s model on ${manifest.party}'s node`);
  }
  const files = new Map<string, Uint8Array>();
  for (const name of FILES) {
    const bytes = await readBytes(join(dir, name));
    if (manifest.files[name] !== sha256(bytes)) throw tampered(`files.${name}`, `${join(dir, name)} does not match the digest the manifest signs: it was changed after export`);
    files.set(name, bytes);
  }
  const text = (name: string): unknown => JSON.parse(new TextDecoder().decode(files.get(name)));
  const scoring = scoringSchema.parse(text('scoring.json'));
  const preprocess = preprocessSchema.parse(text('preprocess.json')) as PreprocessSpec;
  if (scoring.weights.length !== preprocess.outputColumns.length || scoring.featureNames.join('\n') !== preprocess.outputColumns.join('\n') || manifest.featureNames.join('\n') !== scoring.featureNames.join('\n')) {
    throw tampered('featureNames', 'the weights, the preprocessing and the manifest name different columns');
  }
  const problem = checkLayersWeights(new TextDecoder().decode(files.get('model.json')), files.get(WEIGHTS_FILE) ?? new Uint8Array(), scoring.weights, scoring.intercept);
  if (problem !== undefined) throw tampered(`files.${WEIGHTS_FILE}`, problem);
  const keyHex = new TextDecoder().decode(files.get('scoring-key')).trim();
  if (!/^[0-9a-f]{64}$/.test(keyHex)) throw tampered('files.scoring-key', 'the scoring key is not 32 bytes of hex');
  const guest = manifest.parties.find((p) => p.role === 'guest')?.name ?? '';
  return Object.freeze({
    dir, manifest, preprocess,
    weights: Float64Array.from(scoring.weights), intercept: scoring.intercept, rowClip: scoring.rowClip,
    scoringKey: new Uint8Array(Buffer.from(keyHex, 'hex')),
    guest, hosts: manifest.parties.filter((p) => p.role === 'host').map((p) => p.name),
  });
}

async function readBytes(file: string): Promise<Uint8Array> {
  try {
    return new Uint8Array(await readFile(file));
  } catch (error) {
    throw new ConfigError('CONFIG_NOT_FOUND', { file, field: '', problem: 'does not exist or cannot be read', fix: 'point --model at a directory written by `tandem model export`' }, { cause: error });
  }
}
