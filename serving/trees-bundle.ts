/**
 * The exported model of one party of a trees job, beside the LR bundle
 * (model-bundle.ts) and signed the same way (this node, then the
 * coordinator, over a manifest that lists every file's SHA-256):
 *
 * - `trees.json`: the part's scoring fields (models/trees/part.ts) — its
 *   split records (feature, threshold, missing side) and, at a guest or a
 *   lookalike host, the trees, base scores and objective. A supervised
 *   host's has records only: its thresholds, no leaf value;
 * - `preprocess.json`: the fitted preprocessing its records' columns come from;
 * - `scoring-key` (mode 0600): the job's pseudonym key, absent from a
 *   lookalike host's (its pool is scored at the host alone).
 *
 * There is no TF.js LayersModel: a tree walk is not a layer. `loadBundle`
 * reads either family's bundle, so `tandem serve` and `model score-pool`
 * take both.
 */
import type { PreprocessSpec } from '../data/preprocess.ts';
import { TandemError } from '../protocol/errors.ts';
import { canonicalJson, type Manifest } from '../protocol/serving/model-manifest.ts';
import type { NodeIdentity } from '../runtime/certs.ts';
import { preprocessSchema } from '../models/lr/part.ts';
import {
  treesScoring,
  treesScoringSchema,
  treesShapeProblem,
  type TreesPart,
  type TreesScoring,
} from '../models/trees/part.ts';
import {
  bundleFamily,
  checkExportable,
  keylessRefusal,
  loadModel,
  loadVerifiedModel,
  verifyBundle,
  writeSignedBundle,
  type CoSigner,
  type LoadOptions,
  type ServingModel,
  type VerifiedModel,
} from './model-bundle.ts';

export const TREES_FORMAT = 'tandem-trees/1';
const TREES_FILES = ['trees.json', 'preprocess.json'] as const;

/** A verified trees part: its scoring fields, preprocessing and (unless a lookalike host's) pseudonym key. */
export type TreesModel = {
  readonly family: 'trees';
  readonly dir: string;
  readonly manifest: Manifest;
  readonly preprocess: PreprocessSpec;
  readonly scoring: TreesScoring;
  readonly scoringKey: Uint8Array | undefined;
  readonly guest: string;
  readonly hosts: readonly string[];
};

/** A trees part with the job's pseudonym key, ready to serve online. */
export type TreesServingModel = TreesModel & { readonly scoringKey: Uint8Array };

/** What `tandem serve` serves: an LR part or a trees part, each with the job's pseudonym key. */
export type ServableModel = ServingModel | TreesServingModel;

/** Is this served model a trees part? */
export function isTrees(model: ServableModel): model is TreesServingModel {
  return 'family' in model && model.family === 'trees';
}

/**
 * Loads and verifies an exported model of either family for online serving: it must hold the job's pseudonym key.
 * @throws TandemError ARGUMENT_INVALID for a lookalike host's model (no pseudonym key: it scores pools, it is not served)
 */
export async function loadServable(dir: string, options: LoadOptions): Promise<ServableModel> {
  const bundle = await loadBundle(dir, options);
  if (bundle.family === 'lr') return loadModel(dir, options);
  const scoringKey = bundle.model.scoringKey;
  if (scoringKey === undefined) throw keylessRefusal(dir, bundle.model.manifest);
  return Object.freeze({ ...bundle.model, scoringKey });
}

/** Either family's verified bundle. */
export type LoadedBundle =
  { readonly family: 'lr'; readonly model: VerifiedModel } | { readonly family: 'trees'; readonly model: TreesModel };

export type TreesExportOptions = {
  readonly part: TreesPart;
  readonly identity: NodeIdentity;
  readonly outDir: string;
  readonly coSign: CoSigner;
  /** @default the current time */
  readonly now?: Date | undefined;
};

/** Does this part walk trees itself (a guest's, a lookalike host's) or only answer its splits (a supervised host's)? */
export function holdsTrees(scoring: Pick<TreesScoring, 'trees'>): boolean {
  return scoring.trees !== undefined;
}

/**
 * Writes the bundle of one party's trees part, signed by this node and co-signed by the coordinator.
 * @throws ConfigError CONFIG_INVALID when the part belongs to another node or has no scoring key (a lookalike host's needs none)
 */
export async function exportTreesModel(
  options: TreesExportOptions,
): Promise<{ readonly dir: string; readonly files: readonly string[]; readonly manifest: Manifest }> {
  const { part, identity, outDir } = options;
  checkExportable(part, identity, outDir);
  const scoring = treesScoring(part);
  const outputs = scoring.outputs ?? 1;
  const contents: Record<string, string> = {
    'trees.json': `${JSON.stringify({ format: TREES_FORMAT, ...scoring })}\n`,
    'preprocess.json': `${JSON.stringify(part.preprocess, null, 2)}\n`,
    ...(part.scoringKey === undefined ? {} : { 'scoring-key': `${part.scoringKey}\n` }),
  };
  return writeSignedBundle({
    part,
    identity,
    outDir,
    coSign: options.coSign,
    now: options.now,
    contents,
    manifest: {
      family: 'trees',
      featureNames: part.featureNames,
      output: holdsTrees(scoring) ? 'logit' : 'split-bits',
      ...(outputs > 1 ? { outputs, ...(part.classes === undefined ? {} : { classes: part.classes }) } : {}),
    },
  });
}

/**
 * Loads and verifies an exported model of either family.
 * @throws ConfigError CONFIG_NOT_FOUND for a missing file, CONFIG_INVALID for a tampered or inconsistent model
 * @throws AuthError AUTH_CERTIFICATE_REJECTED when a signer's certificate is not from the federation CA or names the wrong node
 */
export async function loadBundle(dir: string, options: LoadOptions): Promise<LoadedBundle> {
  const names = (m: Manifest): readonly string[] =>
    'scoring-key' in m.files ? [...TREES_FILES, 'scoring-key'] : TREES_FILES;
  const { manifest, files, tampered } = await verifyBundle(dir, options, (m) =>
    bundleFamily(m) === 'trees' ? names(m) : [],
  );
  const family = bundleFamily(manifest);
  if (family === 'lr') return { family: 'lr', model: await loadVerifiedModel(dir, options) };
  if (family !== 'trees')
    throw tampered(
      'family',
      `is "${family}", a model family this tandem cannot score`,
      'serve it with the tandem version that exported it',
    );
  const text = (name: string): unknown => JSON.parse(new TextDecoder().decode(files.get(name)));
  const raw = text('trees.json') as Record<string, unknown>;
  const { format, ...rest } = raw;
  const parsed = treesScoringSchema.safeParse(rest);
  if (format !== TREES_FORMAT || !parsed.success)
    throw tampered(
      'files.trees.json',
      `is not a ${TREES_FORMAT} file${parsed.error === undefined ? '' : ` (${parsed.error.issues[0]?.path.join('.') ?? ''}: ${parsed.error.issues[0]?.message ?? ''})`}`,
    );
  const scoring = parsed.data as TreesScoring;
  const preprocess = preprocessSchema.parse(text('preprocess.json')) as PreprocessSpec;
  if (manifest.featureNames.join('\n') !== scoring.featureNames.join('\n'))
    throw tampered('featureNames', 'trees.json and the manifest name different columns');
  const shape = treesShapeProblem(scoring, preprocess.outputColumns, manifest.output !== 'split-bits');
  if (shape !== undefined) throw tampered(`files.trees.json.${shape[0]}`, shape[1]);
  if (
    (scoring.outputs ?? 1) !== (manifest.outputs ?? 1) ||
    ((scoring.outputs ?? 1) > 1 && canonicalJson(scoring.classes) !== canonicalJson(manifest.classes))
  ) {
    throw tampered(
      'outputs',
      `trees.json has ${scoring.outputs ?? 1} output(s), the manifest ${manifest.outputs ?? 1}`,
    );
  }
  const key = files.get('scoring-key');
  const keyHex = key === undefined ? undefined : new TextDecoder().decode(key).trim();
  if (keyHex !== undefined && !/^[0-9a-f]{64}$/.test(keyHex))
    throw tampered('files.scoring-key', 'the scoring key is not 32 bytes of hex');
  return {
    family: 'trees',
    model: Object.freeze({
      family: 'trees',
      dir,
      manifest,
      preprocess,
      scoring,
      scoringKey: keyHex === undefined ? undefined : new Uint8Array(Buffer.from(keyHex, 'hex')),
      guest: manifest.parties.find((p) => p.role === 'guest')?.name ?? '',
      hosts: manifest.parties.filter((p) => p.role === 'host').map((p) => p.name),
    }),
  };
}

/** This part's party number in its trees: 0 at the guest, 1 at a lookalike host (its job's only host). */
export function ownParty(model: Pick<TreesModel, 'manifest'>): number {
  return model.manifest.role === 'guest' ? 0 : 1;
}

/**
 * A trees part for `tandem model score-pool`: one that walks the trees itself, with one score per row.
 * @throws TandemError ARGUMENT_INVALID for a supervised host's part (its splits only) or a multi-output model
 */
export function poolTreesModel(model: TreesModel): TreesModel {
  const { party, jobId } = model.manifest;
  if (!holdsTrees(model.scoring)) {
    throw new TandemError(
      'ARGUMENT_INVALID',
      `${model.dir}: is ${party}'s (host) part of job ${jobId}, a trees model: a host of a supervised trees job keeps only its split thresholds (the guest keeps the trees and leaf values), so it cannot score rows alone. Fix: score at the guest, \`tandem serve\` there with --host-endpoint ${party}=https://…, and \`tandem serve\` this part as the host endpoint`,
    );
  }
  const own = ownParty(model);
  if (
    model.scoring.trees?.some((round) => round.some((tree) => tree.some((n) => 'party' in n && n.party !== own))) ===
    true
  ) {
    throw new TandemError(
      'ARGUMENT_INVALID',
      `${model.dir}: is ${party}'s (guest) part of job ${jobId}, a supervised trees model whose trees also split on the hosts' columns, which only the hosts can answer. Fix: score online with \`tandem serve\` (the guest, with --host-endpoint for each host); score-pool ranks a pool with a lookalike host's part`,
    );
  }
  if ((model.scoring.outputs ?? 1) > 1 || model.scoring.objective === 'squared') {
    throw new TandemError(
      'ARGUMENT_INVALID',
      `${model.dir}: job ${jobId}'s trees predict ${model.scoring.objective === 'squared' ? 'a value' : `${model.scoring.outputs ?? 1} classes`}: score-pool ranks a lookalike audience by one binary score. Fix: score a lookalike (or other binary) job's model; serve this one with \`tandem serve\``,
    );
  }
  return model;
}
