/**
 * The models a party node has exported (`tandem model export`): every
 * directory under its data dir that holds a `manifest.json`, with the
 * manifest's fields and whether the bundle verifies as `tandem serve` would
 * load it (both signatures, every file's digest; LR or trees), so the
 * console shows a tampered or half-copied export as such rather than as a
 * model.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { asTandemError } from '../protocol/errors.ts';
import { MANIFEST_FORMAT } from '../serving/model-bundle.ts';
import { loadBundle } from '../serving/trees-bundle.ts';

export type ExportedModel = {
  /** The bundle's directory, relative to the data dir. */
  readonly dir: string;
  readonly jobId: string;
  readonly jobName: string;
  readonly role: string;
  readonly parties: readonly { readonly name: string; readonly role: string; readonly dataset: string }[];
  readonly features: number;
  readonly output: string;
  /** Logits per row: 1 (binary) or K (one-vs-rest). */
  readonly outputs: number;
  readonly classes: readonly string[] | null;
  /** Aggregate validation metrics the manifest carries (the guest's). */
  readonly metrics: Readonly<Record<string, number>>;
  readonly trainedAt: string | null;
  readonly createdAt: string;
  readonly signer: string;
  readonly coSigner: string | null;
  /** As `tandem serve` would load it. */
  readonly verified: { readonly ok: true } | { readonly ok: false; readonly code: string; readonly message: string };
};

export type ModelSearch = {
  readonly dataDir: string;
  readonly caPem: string;
  readonly party: string;
  readonly coordinator: string;
  /** How deep under the data dir to look. @default 4 */
  readonly maxDepth?: number | undefined;
};

/** Every exported model under the data dir, newest first. Unreadable directories are skipped. */
export async function findExportedModels(search: ModelSearch): Promise<ExportedModel[]> {
  const dirs: string[] = [];
  const walk = async (dir: string, depth: number): Promise<void> => {
    const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
    if (entries.some((e) => e.isFile() && e.name === 'manifest.json')) dirs.push(dir);
    if (depth >= (search.maxDepth ?? 4)) return;
    for (const e of entries) if (e.isDirectory() && e.name !== 'audit') await walk(join(dir, e.name), depth + 1);
  };
  await walk(search.dataDir, 0);
  const models = (await Promise.all(dirs.map((dir) => describeModel(dir, search)))).filter(
    (m): m is ExportedModel => m !== undefined,
  );
  return models.sort((a, b) => (a.createdAt < b.createdAt ? 1 : a.createdAt > b.createdAt ? -1 : 0));
}

type RawManifest = {
  format?: unknown;
  jobId?: unknown;
  jobName?: unknown;
  role?: unknown;
  parties?: unknown;
  featureNames?: unknown;
  output?: unknown;
  outputs?: unknown;
  classes?: unknown;
  metrics?: unknown;
  trainedAt?: unknown;
  createdAt?: unknown;
  signer?: { name?: unknown };
  coordinatorSignature?: { name?: unknown };
};

const text = (v: unknown): string => (typeof v === 'string' ? v : '');

async function describeModel(dir: string, search: ModelSearch): Promise<ExportedModel | undefined> {
  let raw: RawManifest;
  try {
    raw = JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8')) as RawManifest;
  } catch {
    return undefined;
  }
  if (raw.format !== MANIFEST_FORMAT) return undefined;
  let verified: ExportedModel['verified'] = { ok: true };
  try {
    await loadBundle(dir, { caPem: search.caPem, party: search.party, coordinator: search.coordinator });
  } catch (error) {
    const e = asTandemError(error);
    verified = { ok: false, code: e.code, message: e.message };
  }
  return {
    dir: relative(search.dataDir, dir) || '.',
    jobId: text(raw.jobId),
    jobName: text(raw.jobName),
    role: text(raw.role),
    parties: Array.isArray(raw.parties)
      ? (raw.parties as { name?: unknown; role?: unknown; dataset?: unknown }[]).map((p) => ({
          name: text(p.name),
          role: text(p.role),
          dataset: text(p.dataset),
        }))
      : [],
    features: Array.isArray(raw.featureNames) ? raw.featureNames.length : 0,
    output: text(raw.output),
    outputs: typeof raw.outputs === 'number' ? raw.outputs : 1,
    classes: Array.isArray(raw.classes) ? raw.classes.map(String) : null,
    metrics: headlineMetrics(raw.metrics),
    trainedAt: typeof raw.trainedAt === 'string' ? raw.trainedAt : null,
    createdAt: text(raw.createdAt),
    signer: text(raw.signer?.name),
    coSigner: typeof raw.coordinatorSignature?.name === 'string' ? raw.coordinatorSignature.name : null,
    verified,
  };
}

const HEADLINE = ['auc', 'accuracy', 'macroF1', 'ks', 'logLoss'];

/** The metrics that are single numbers, the quality measures first; curves and tables stay in the report. */
function headlineMetrics(metrics: unknown): Record<string, number> {
  if (typeof metrics !== 'object' || metrics === null) return {};
  const numbers = Object.entries(metrics).filter(
    (e): e is [string, number] => typeof e[1] === 'number' && Number.isFinite(e[1]),
  );
  const rank = (k: string): number => (HEADLINE.includes(k) ? HEADLINE.indexOf(k) : HEADLINE.length);
  return Object.fromEntries(numbers.sort(([a], [b]) => rank(a) - rank(b)));
}
