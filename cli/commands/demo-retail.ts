/**
 * The demo's two retail jobs and what it prints after each: the brand's
 * data alone, the federated model, and — because the demo generated both
 * parties' files — a centralised model on the pooled data, labelled as a
 * demo-only reference. Then the job's HTML report.
 */
import { join } from 'node:path';
import type { JobStatus } from '../../runtime/admin-client.ts';
import { loadPartyConfig } from '../../party/config.ts';
import { compileJobSpec, jobSpecSchema } from '../../protocol/job-spec.ts';
import { table } from '../render.ts';
import { runJobReport } from './report.ts';
import { TandemError } from '../../protocol/errors.ts';
import type { RetailManifest } from '../../examples/retail/generate.ts';

/** The generated data's size and seed. */
export type RetailDemoSize = {
  readonly poolSize: number;
  readonly members: number;
  readonly partnerFeatures: number;
  readonly seed: number;
};

export type RetailJobsOptions = {
  readonly dir: string;
  /** Node config files of the two parties. */
  readonly configs: { readonly brand: string; readonly partner: string };
  readonly manifest: RetailManifest;
  readonly retail: RetailExample;
  /** Writes the spec, submits it, follows it and prints its summary; throws unless it completed. */
  readonly submit: (file: string, spec: Record<string, unknown>) => Promise<JobStatus>;
  readonly print: (text: string) => void;
};

const JOB_SEED = 42;
const POOLED = 'pooled (demo only)';

type LookalikeSummary = {
  seeds: { inPool: number; heldOut: number };
  metrics: { recallAtK: { fraction: number; value: number }[] };
};

/** Runs the lookalike job, then the cold-start job, printing each one's comparison and report. */
export async function runRetailJobs(o: RetailJobsOptions): Promise<void> {
  await lookalike(o);
  await coldStart(o);
}

async function lookalike(o: RetailJobsOptions): Promise<void> {
  const spec = o.retail.federation.lookalikeJob(JOB_SEED);
  const final = await o.submit('lookalike.yaml', spec);
  const summary = guestSummary<LookalikeSummary>(final);
  const partner = await loadPartyConfig(o.configs.partner);
  const brand = await loadPartyConfig(o.configs.brand);
  const part = (dataDir: string): string => join(dataDir, 'jobs', final.jobId, 'model-part.json');
  const fractions = summary.metrics.recallAtK.map((r) => r.fraction);
  const pooled = await o.retail.reference.lookalikeReference({
    guestPart: part(brand.node.dataDir),
    hostPart: part(partner.node.dataDir),
    pool: partner.datasets['pool'] ?? missing('pool'),
    fractions,
    l2: compileJobSpec(jobSpecSchema.parse(spec)).training.optimizer.l2,
  });
  o.print(`\nLookalike — recall of the ${summary.seeds.heldOut} held-out seeds in the top of the partner's pool:`);
  o.print(
    table(
      ['top of pool', 'brand data alone*', 'federated', POOLED],
      summary.metrics.recallAtK.map((r, k) => [
        `${percent(r.fraction)}`,
        r.fraction.toFixed(4),
        r.value.toFixed(4),
        (pooled[k]?.value ?? 0).toFixed(4),
      ]),
    ),
  );
  o.print(
    "* the brand has no data on the partner's users, so without federation its best audience is a random one: recall = share of the pool.",
  );
  await report(o, final.jobId);
}

type MulticlassFigures = { accuracy?: number; macroF1?: number };
type ColdStartSummary = {
  metrics: MulticlassFigures;
  guestOnly?: { metrics?: MulticlassFigures; model?: string };
  classes: string[];
};

async function coldStart(o: RetailJobsOptions): Promise<void> {
  const spec = o.retail.federation.coldStartJob(JOB_SEED);
  const final = await o.submit('cold-start.yaml', spec);
  const summary = guestSummary<ColdStartSummary>(final);
  const files = new Map([
    ['brand', o.configs.brand],
    ['partner', o.configs.partner],
  ]);
  const splitSeed = await o.retail.pooled.guestSplitSeed(o.configs.brand, final.jobId);
  const pooled = await o.retail.pooled.pooledColdStartReference(
    join(o.dir, 'cold-start.yaml'),
    files,
    splitSeed,
    summary.classes.length,
  );
  await report(o, final.jobId);

  // The same job with trees, and trees on the pooled data (the plaintext twin: what the federated trees must equal).
  const treesSpec = { ...spec, name: 'retail-cold-start-trees', model: { family: 'trees' } };
  const treesFinal = await o.submit('cold-start-trees.yaml', treesSpec);
  const trees = guestSummary<ColdStartSummary>(treesFinal);
  const treesFile = join(o.dir, 'cold-start-trees.yaml');
  const data = await o.retail.pooled.pooledData(
    treesFile,
    files,
    await o.retail.pooled.guestSplitSeed(o.configs.brand, treesFinal.jobId),
  );
  const K = trees.classes.length;
  const twin = await o.retail.trees.trainTwin({
    parties: [data.guest, ...data.hosts],
    train: data.train,
    labels: data.labels,
    objective: 'softmax',
    outputs: K,
    params: o.retail.treesSpec.treesOptions(data.spec.model),
    seed: String(data.spec.seed),
  });
  const pooledTrees = o.retail.ownBest.validationMetrics(
    'softmax',
    twin.scores,
    K,
    data.labels,
    data.test,
    trees.classes,
  ) as MulticlassFigures;

  const f = (x: number | undefined): string => (x === undefined ? '' : x.toFixed(4));
  const alone = summary.guestOnly?.metrics;
  o.print(
    `\nCold start — which category (${summary.classes.join(' / ')}) a member buys, on ${pooled.validationRows} held-out members:`,
  );
  o.print(
    table(
      ['metric', 'brand data alone', 'federated LR', 'federated trees', `${POOLED} LR`, `${POOLED} trees`],
      [
        [
          'accuracy',
          f(alone?.accuracy),
          f(summary.metrics.accuracy),
          f(trees.metrics.accuracy),
          f(pooled.centralised.accuracy),
          f(pooledTrees.accuracy),
        ],
        [
          'macro-F1',
          f(alone?.macroF1),
          f(summary.metrics.macroF1),
          f(trees.metrics.macroF1),
          f(pooled.centralised.macroF1),
          f(pooledTrees.macroF1),
        ],
      ],
    ),
  );
  const own = summary.guestOnly?.model === 'trees' ? 'trees' : 'multinomial LR';
  o.print(
    `brand data alone: the better of exact multinomial LR and trees on its CRM columns (here ${own}); pooled: the same models on both parties' columns.`,
  );
  await report(o, treesFinal.jobId);
}

/** The guest's public summary of a finished job. */
function guestSummary<T>(final: JobStatus): T {
  const all = JSON.parse(final.summaryJson) as Record<string, { role?: string }>;
  return Object.values(all).find((s) => s.role === 'guest') as T;
}

async function report(o: RetailJobsOptions, jobId: string): Promise<void> {
  const written = await runJobReport({ config: o.configs.brand, jobId });
  o.print(`report: ${written.html}`);
}

const percent = (fraction: number): string => `${(fraction * 100).toFixed(0)} %`;

function missing(name: string): never {
  throw new RangeError(`the demo's node config has no dataset ${name}`);
}

/**
 * The retail example lives in examples/, which a source checkout has and a
 * deployment image need not: loaded on demand so every other command works
 * without it.
 */
export async function loadRetailExample() {
  try {
    const [generate, federation, reference, pooled, trees, treesSpec, ownBest] = await Promise.all([
      import('../../examples/retail/generate.ts'),
      import('../../examples/retail/federation.ts'),
      import('../../examples/retail/reference.ts'),
      import('../../examples/pooled-reference.ts'),
      import('../../models/trees/core/twin.ts'),
      import('../../models/trees/spec.ts'),
      import('../../models/own-best.ts'),
    ]);
    return { generate, federation, reference, pooled, trees, treesSpec, ownBest };
  } catch (error) {
    throw new TandemError(
      'ARGUMENT_INVALID',
      `tandem demo needs the examples/ folder of a source checkout (${(error as Error).message}). Fix: run it from a clone of the repository`,
      { cause: error },
    );
  }
}

export type RetailExample = Awaited<ReturnType<typeof loadRetailExample>>;
