/**
 * The exported model of one party: a directory holding
 *
 * - `model.json` + `weights.bin`: the party's part as a TF.js LayersModel;
 * - `preprocess.json`: the fitted preprocessing (column order, scalers,
 *   encoders, missing-value policy);
 * - `scoring.json`: the float64 weights, intercept (per class for a
 *   multi-class model) and row clip that serving uses (the LayersModel is float32);
 * - `scoring-key` (mode 0600): the job's pseudonym key, secret to the job's
 *   parties; absent from a lookalike host's model, whose job agreed no key
 *   (its pool is scored at the host alone, `tandem model score-pool`, and
 *   nobody may look its users up by pseudonym), so `tandem serve` refuses it;
 * - `manifest.json`: job, role, parties, feature names, metrics, protocol
 *   version, created at, the SHA-256 of every file above, signed (ECDSA
 *   P-256) with the exporting node's certificate and co-signed by the
 *   coordinator, which first checks the manifest against its job store
 *   (coordinator/export-signing.ts).
 *
 * A trees part's bundle (trees-bundle.ts) replaces the LayersModel and
 * `scoring.json` with `trees.json` and is signed and verified by the same
 * functions here (`writeSignedBundle`, `verifyBundle`).
 *
 * Loading checks both certificates against the federation CA, both
 * signatures, every file's digest and that the files agree with each other,
 * so a model that was edited, swapped, mixed with another job's files or
 * never shown to the coordinator is refused.
 */
import { createHash } from 'node:crypto';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { AuthError, ConfigError, TandemError } from '../protocol/errors.ts';
import { sign, verify } from '../protocol/crypto/signing.ts';
import {
  canonicalJson,
  MANIFEST_FORMAT,
  manifestBody,
  manifestSchema,
  SIGNATURE_ALGORITHM,
  signedBytes,
  type CoordinatorSignature,
  type Manifest,
  type ManifestBody,
} from '../protocol/serving/model-manifest.ts';
import { COORDINATOR, PROTOCOL_VERSION } from '../protocol/version.ts';
import { verifyPeerCertificate, type NodeIdentity } from '../runtime/certs.ts';
import type { PreprocessSpec } from '../data/preprocess.ts';
import { interceptsOf, outputsOf, preprocessSchema, shapeProblem, type ModelPart } from '../models/lr/part.ts';
import { checkLayersWeights, layersArtifacts, WEIGHTS_FILE } from './tfjs-layers.ts';

const FILES = ['model.json', WEIGHTS_FILE, 'preprocess.json', 'scoring.json', 'scoring-key'] as const;
type BundleFile = (typeof FILES)[number];
/** The files every bundle has; `scoring-key` is there when the manifest lists it. */
const REQUIRED_FILES: readonly BundleFile[] = FILES.filter((f) => f !== 'scoring-key');

const finite = z.number().refine(Number.isFinite, 'must be a finite number');

const scoringSchema = z.strictObject({
  format: z.literal('tandem-scoring/1'),
  featureNames: z.array(z.string()),
  weights: z.array(finite),
  intercept: finite.optional(),
  outputs: z.number().int().min(2).optional(),
  intercepts: z.array(finite).optional(),
  classes: z.array(z.string()).optional(),
  rowClip: finite.nullable(),
});

export { canonicalJson, MANIFEST_FORMAT, type CoordinatorSignature, type Manifest, type ManifestBody };

/** A verified, loaded model part, ready to serve online (it has the job's pseudonym key). */
export type ServingModel = {
  readonly dir: string;
  readonly manifest: Manifest;
  readonly preprocess: PreprocessSpec;
  /** Class-major for a multi-class model: `weights[c·columns + j]`. */
  readonly weights: Float64Array;
  /** Binary: the bias (0 at a host). Multi-class: the first class's; use `intercepts`. */
  readonly intercept: number;
  /** Logits per row: 1 (binary) or K (a K-class one-vs-rest model). */
  readonly outputs: number;
  /** One bias per output. */
  readonly intercepts: Float64Array;
  /** Multi-class guest: the class labels, in the order of the logits. */
  readonly classes: readonly string[] | undefined;
  readonly rowClip: number | null;
  /** The job's pseudonym key (32 bytes). */
  readonly scoringKey: Uint8Array;
  readonly guest: string;
  readonly hosts: readonly string[];
};

/** A verified, loaded model part, ready to score a pool: a lookalike host's has no pseudonym key. */
export type VerifiedModel = Omit<ServingModel, 'scoringKey'> & { readonly scoringKey: Uint8Array | undefined };

const sha256 = (bytes: Uint8Array | string): string => createHash('sha256').update(bytes).digest('hex');

/** Aggregate validation metrics only: ROC thresholds and gain points are individual rows' scores. */
function publicMetrics(part: Pick<ModelPart, 'summary'>): Record<string, unknown> | null {
  const m = part.summary['metrics'] as Record<string, unknown> | undefined;
  if (m === undefined) return null;
  const keep = [
    'rows',
    'positives',
    'auc',
    'ks',
    'logLoss',
    'accuracy',
    'macroF1',
    'threshold',
    'liftAtK',
    'recallAtK',
  ];
  return Object.fromEntries(keep.filter((k) => k in m).map((k) => [k, m[k]]));
}

/** Has the coordinator co-sign a manifest (over mTLS, `SignExport`; tests call the coordinator's function directly). */
export type CoSigner = (manifest: Manifest) => Promise<CoordinatorSignature>;

export type ExportOptions = {
  readonly part: ModelPart;
  readonly identity: NodeIdentity;
  readonly outDir: string;
  readonly coSign: CoSigner;
  /** @default the current time */
  readonly now?: Date | undefined;
};

/**
 * Writes the model bundle of one party's part, signs its manifest and has the
 * coordinator co-sign it. Nothing is written unless the coordinator signs.
 * @throws ConfigError CONFIG_INVALID when the part belongs to another node or has no scoring key (a lookalike host's needs none)
 * @throws TandemError whatever the coordinator refused with (see coordinator/export-signing.ts)
 */
export async function exportModel(
  options: ExportOptions,
): Promise<{ readonly dir: string; readonly files: readonly string[]; readonly manifest: Manifest }> {
  const { part, identity, outDir } = options;
  checkExportable(part, identity, outDir);
  const files = part.scoringKey === undefined ? REQUIRED_FILES : FILES;
  const outputs = outputsOf(part);
  const intercepts = interceptsOf(part);
  const multiclass =
    outputs > 1
      ? { outputs, intercepts, ...(part.classes === undefined ? {} : { classes: part.classes }) }
      : { intercept: intercepts[0] ?? 0 };
  const { modelJson, weightsBin } = await layersArtifacts(part.weights, intercepts);
  const all: Record<BundleFile, Uint8Array | string> = {
    'model.json': modelJson,
    [WEIGHTS_FILE]: weightsBin,
    'preprocess.json': `${JSON.stringify(part.preprocess, null, 2)}\n`,
    'scoring.json': `${JSON.stringify({ format: 'tandem-scoring/1', featureNames: part.featureNames, weights: part.weights, ...multiclass, rowClip: part.rowClip }, null, 2)}\n`,
    'scoring-key': `${part.scoringKey ?? ''}\n`,
  };
  const contents = Object.fromEntries(files.map((name) => [name, all[name]]));
  return writeSignedBundle({
    part,
    identity,
    outDir,
    coSign: options.coSign,
    now: options.now,
    contents,
    manifest: {
      featureNames: part.featureNames,
      output: part.role === 'guest' ? 'logit' : 'partial-logit',
      ...(outputs > 1 ? { outputs, ...(part.classes === undefined ? {} : { classes: part.classes }) } : {}),
    },
  });
}

/**
 * A part may leave only from the node that trained it, with a pseudonym key unless a lookalike job's.
 * @throws ConfigError CONFIG_INVALID when it may not
 */
export function checkExportable(
  part: PartHeader & Pick<ModelPart, 'kind' | 'scoringKey'>,
  identity: Pick<NodeIdentity, 'name'>,
  outDir: string,
): void {
  if (part.party !== identity.name) {
    throw new ConfigError('CONFIG_INVALID', {
      file: outDir,
      field: 'party',
      problem: `the model part was trained by ${part.party}, but this node is ${identity.name}`,
      fix: 'export with the config of the node that took part in the job',
    });
  }
  // A lookalike job agrees no pseudonym key: its host's model only re-scores the host's own pool.
  if (part.scoringKey === undefined && part.kind !== 'lookalike') {
    throw new ConfigError('CONFIG_INVALID', {
      file: outDir,
      field: 'scoringKey',
      problem: `job ${part.jobId} predates serving and agreed no pseudonym key`,
      fix: 'run the job again with this version of tandem',
    });
  }
}

/** The header fields of a model part a manifest repeats. */
export type PartHeader = Pick<ModelPart, 'jobId' | 'jobName' | 'party' | 'role' | 'parties' | 'summary' | 'createdAt'>;

export type SignedBundle = {
  readonly part: PartHeader;
  readonly identity: NodeIdentity;
  readonly outDir: string;
  readonly coSign: CoSigner;
  readonly now?: Date | undefined;
  /** File name → contents; `scoring-key` is written 0600 like every file. */
  readonly contents: Readonly<Record<string, Uint8Array | string>>;
  /** The family's own manifest fields. */
  readonly manifest: Pick<ManifestBody, 'featureNames' | 'output' | 'outputs' | 'classes' | 'family'>;
};

/** Signs a bundle's manifest (this node, then the coordinator) and writes its files: nothing is written unless the coordinator signs. */
export async function writeSignedBundle(
  bundle: SignedBundle,
): Promise<{ readonly dir: string; readonly files: readonly string[]; readonly manifest: Manifest }> {
  const { part, identity, outDir, contents } = bundle;
  const files = Object.keys(contents);
  const body: ManifestBody = {
    format: MANIFEST_FORMAT,
    protocolVersion: PROTOCOL_VERSION,
    jobId: part.jobId,
    jobName: part.jobName,
    party: part.party,
    role: part.role,
    parties: part.parties.map((p) => ({ name: p.name, role: p.role, dataset: p.dataset })),
    ...bundle.manifest,
    metrics: publicMetrics(part),
    trainedAt: part.createdAt ?? null,
    createdAt: (bundle.now ?? new Date()).toISOString(),
    files: Object.fromEntries(files.map((name) => [name, sha256(contents[name] ?? '')])),
    signer: { name: identity.name, certificate: identity.certPem },
  };
  const signature = sign(identity.privateKey, signedBytes(body));
  const signed: Manifest = {
    ...body,
    signature: { algorithm: SIGNATURE_ALGORITHM, value: Buffer.from(signature).toString('base64') },
  };
  const manifest: Manifest = { ...signed, coordinatorSignature: await bundle.coSign(signed) };
  await mkdir(outDir, { recursive: true, mode: 0o700 });
  for (const name of files) {
    await writeFile(join(outDir, name), contents[name] ?? '', { mode: 0o600 });
    // writeFile keeps the mode of a file that already existed.
    await chmod(join(outDir, name), 0o600);
  }
  await writeFile(join(outDir, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`, { mode: 0o600 });
  return { dir: outDir, files: [...files, 'manifest.json'], manifest };
}

/** The coordinator's node name a model's co-signature must carry: the party config's `coordinatorName`, else the default. */
export function coordinatorName(config: { readonly node: { readonly coordinatorName: string | undefined } }): string {
  return config.node.coordinatorName ?? COORDINATOR;
}

export type LoadOptions = {
  /** The federation CA (PEM) the signer's certificate must chain to. */
  readonly caPem: string;
  /** Refuse a model that is not this party's. */
  readonly party?: string | undefined;
  /** The coordinator's node name: the CN its co-signing certificate must carry. @default 'coordinator' */
  readonly coordinator?: string | undefined;
  /** @default the current time */
  readonly now?: Date | undefined;
};

/**
 * Loads and verifies an exported model for online serving: as
 * {@link loadVerifiedModel}, and it must hold the job's pseudonym key.
 * @throws TandemError ARGUMENT_INVALID for a lookalike host's model (no pseudonym key: it scores pools, it is not served)
 */
export async function loadModel(dir: string, options: LoadOptions): Promise<ServingModel> {
  const model = await loadVerifiedModel(dir, options);
  const scoringKey = model.scoringKey;
  if (scoringKey === undefined) throw keylessRefusal(dir, model.manifest);
  return Object.freeze({ ...model, scoringKey });
}

/** Why a model without a pseudonym key (a lookalike host's) is not served online. */
export function keylessRefusal(dir: string, manifest: Pick<Manifest, 'party' | 'jobId'>): TandemError {
  return new TandemError(
    'ARGUMENT_INVALID',
    `${dir}: is ${manifest.party}'s part of job ${manifest.jobId}, a lookalike model without a pseudonym key: its users cannot be looked up online, by design. Fix: rank the pool at ${manifest.party} with \`tandem model score-pool --model ${dir}\``,
  );
}

/** A bundle whose signatures and file digests verified: its manifest and files, not yet read as a model. */
export type VerifiedBundle = {
  readonly manifest: Manifest;
  readonly files: ReadonlyMap<string, Uint8Array>;
  /** A refusal of this bundle's manifest (field, problem and, by default, "export it again"). */
  readonly tampered: (field: string, problem: string, fix?: string) => ConfigError;
};

/**
 * Both signatures, the protocol version, the party and every file's digest
 * of a bundle; `names` lists the files its manifest must cover.
 * @throws ConfigError CONFIG_NOT_FOUND for a missing file, CONFIG_INVALID for a tampered model
 * @throws AuthError AUTH_CERTIFICATE_REJECTED when a signer's certificate is not from the federation CA or names the wrong node
 */
export async function verifyBundle(
  dir: string,
  options: LoadOptions,
  names: (manifest: Manifest) => readonly string[],
): Promise<VerifiedBundle> {
  const manifestFile = join(dir, 'manifest.json');
  const tampered = (
    field: string,
    problem: string,
    fix = 'export the model again with `tandem model export`; do not edit its files',
  ): ConfigError => new ConfigError('CONFIG_INVALID', { file: manifestFile, field, problem, fix });
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
    throw tampered(
      issue?.path.join('.') ?? '',
      `${issue?.message ?? 'is not a model manifest'} (expected a ${MANIFEST_FORMAT} manifest)`,
    );
  }
  const manifest = result.data;
  const signerName = verifyPeerCertificate(manifest.signer.certificate, options.caPem, options.now ?? new Date());
  if (signerName !== manifest.party || manifest.signer.name !== manifest.party) {
    throw new AuthError(
      'AUTH_CERTIFICATE_REJECTED',
      `${manifestFile}: the manifest is signed by ${signerName} but describes ${manifest.party}'s part of the model. Fix: serve the model that node exported`,
    );
  }
  const bytes = signedBytes(manifestBody(manifest));
  if (!verify(manifest.signer.certificate, bytes, Buffer.from(manifest.signature.value, 'base64'))) {
    throw tampered(
      'signature',
      `does not verify with ${signerName}'s certificate: the manifest was changed after export`,
    );
  }
  verifyCoSignature(manifestFile, manifest, bytes, options, tampered);
  if (manifest.protocolVersion !== PROTOCOL_VERSION) {
    throw tampered(
      'protocolVersion',
      `is ${manifest.protocolVersion}, this tandem speaks ${PROTOCOL_VERSION}`,
      'serve it with the tandem version that exported it, or export it again',
    );
  }
  if (options.party !== undefined && manifest.party !== options.party) {
    throw tampered(
      'party',
      `the model is ${manifest.party}'s part, but this node is ${options.party}`,
      `serve ${manifest.party}'s model on ${manifest.party}'s node`,
    );
  }
  const files = new Map<string, Uint8Array>();
  // The manifest (signed) says whether the bundle has a scoring key; every file it names must be there unchanged.
  for (const name of names(manifest)) {
    const bytes = await readBytes(join(dir, name));
    if (manifest.files[name] !== sha256(bytes))
      throw tampered(
        `files.${name}`,
        `${join(dir, name)} does not match the digest the manifest signs: it was changed after export`,
      );
    files.set(name, bytes);
  }
  return { manifest, files, tampered };
}

/** The family a bundle's manifest names (`lr` when it names none). */
export function bundleFamily(manifest: Pick<Manifest, 'family'>): string {
  return manifest.family ?? 'lr';
}

/**
 * Loads and verifies an exported LR model (for `tandem model score-pool`, and
 * listing): both signatures, every file's digest, and that they agree.
 * @throws ConfigError CONFIG_NOT_FOUND for a missing file, CONFIG_INVALID for a tampered or inconsistent model
 * @throws AuthError AUTH_CERTIFICATE_REJECTED when a signer's certificate is not from the federation CA or names the wrong node
 * @throws TandemError ARGUMENT_INVALID for a bundle of another family (serving/trees-bundle.ts loads trees)
 */
export async function loadVerifiedModel(dir: string, options: LoadOptions): Promise<VerifiedModel> {
  const { manifest, files, tampered } = await verifyBundle(dir, options, (m) =>
    bundleFamily(m) !== 'lr' ? [] : 'scoring-key' in m.files ? FILES : REQUIRED_FILES,
  );
  if (bundleFamily(manifest) !== 'lr') {
    throw new TandemError(
      'ARGUMENT_INVALID',
      `${dir}: is a ${bundleFamily(manifest)} model (job ${manifest.jobId}), and this path reads LR models only. Fix: load it with loadBundle (serving/trees-bundle.ts), as \`tandem serve\` and \`tandem model score-pool\` do`,
    );
  }
  const text = (name: string): unknown => JSON.parse(new TextDecoder().decode(files.get(name)));
  const scoring = scoringSchema.parse(text('scoring.json'));
  const preprocess = preprocessSchema.parse(text('preprocess.json')) as PreprocessSpec;
  if (
    scoring.featureNames.join('\n') !== preprocess.outputColumns.join('\n') ||
    manifest.featureNames.join('\n') !== scoring.featureNames.join('\n')
  ) {
    throw tampered('featureNames', 'the weights, the preprocessing and the manifest name different columns');
  }
  const shape = shapeProblem({ ...scoring, role: manifest.role, preprocess });
  if (shape !== undefined) throw tampered(`files.scoring.json.${shape[0]}`, shape[1]);
  if (
    outputsOf(scoring) !== outputsOf(manifest) ||
    canonicalJson(scoring.classes) !== canonicalJson(manifest.classes)
  ) {
    throw tampered(
      'outputs',
      `scoring.json has ${outputsOf(scoring)} output(s) and classes ${canonicalJson(scoring.classes) ?? 'none'}, the manifest ${outputsOf(manifest)} and ${canonicalJson(manifest.classes) ?? 'none'}`,
    );
  }
  const intercepts = interceptsOf(scoring);
  const problem = checkLayersWeights(
    new TextDecoder().decode(files.get('model.json')),
    files.get(WEIGHTS_FILE) ?? new Uint8Array(),
    scoring.weights,
    intercepts,
  );
  if (problem !== undefined) throw tampered(`files.${WEIGHTS_FILE}`, problem);
  const key = files.get('scoring-key');
  const keyHex = key === undefined ? undefined : new TextDecoder().decode(key).trim();
  if (keyHex !== undefined && !/^[0-9a-f]{64}$/.test(keyHex))
    throw tampered('files.scoring-key', 'the scoring key is not 32 bytes of hex');
  const guest = manifest.parties.find((p) => p.role === 'guest')?.name ?? '';
  return Object.freeze({
    dir,
    manifest,
    preprocess,
    weights: Float64Array.from(scoring.weights),
    intercept: intercepts[0] ?? 0,
    outputs: intercepts.length,
    intercepts: Float64Array.from(intercepts),
    classes: scoring.classes,
    rowClip: scoring.rowClip,
    scoringKey: keyHex === undefined ? undefined : new Uint8Array(Buffer.from(keyHex, 'hex')),
    guest,
    hosts: manifest.parties.filter((p) => p.role === 'host').map((p) => p.name),
  });
}

/** The coordinator's co-signature: present, by the coordinator's certificate from the federation CA, over the same bytes. */
function verifyCoSignature(
  file: string,
  manifest: Manifest,
  bytes: Uint8Array,
  options: LoadOptions,
  tampered: (field: string, problem: string, fix?: string) => ConfigError,
): void {
  const co = manifest.coordinatorSignature;
  const expected = options.coordinator ?? COORDINATOR;
  if (co === undefined) {
    throw tampered(
      'coordinatorSignature',
      'is missing: the coordinator never co-signed this model',
      'export it again with `tandem model export` (this version), which has the coordinator check and co-sign it',
    );
  }
  const name = verifyPeerCertificate(co.certificate, options.caPem, options.now ?? new Date());
  if (name !== expected || co.name !== expected) {
    throw new AuthError(
      'AUTH_CERTIFICATE_REJECTED',
      `${file}: coordinatorSignature: is by ${name}${co.name === name ? '' : ` (claiming to be ${co.name})`}, not by the coordinator ${expected}. Fix: export the model again; set node.coordinatorName if the coordinator's certificate names another node`,
    );
  }
  if (!verify(co.certificate, bytes, Buffer.from(co.value, 'base64'))) {
    throw tampered(
      'coordinatorSignature',
      `does not verify with ${expected}'s certificate: the manifest was changed after the coordinator signed it`,
    );
  }
}

async function readBytes(file: string): Promise<Uint8Array> {
  try {
    return new Uint8Array(await readFile(file));
  } catch (error) {
    throw new ConfigError(
      'CONFIG_NOT_FOUND',
      {
        file,
        field: '',
        problem: 'does not exist or cannot be read',
        fix: 'point --model at a directory written by `tandem model export`',
      },
      { cause: error },
    );
  }
}
