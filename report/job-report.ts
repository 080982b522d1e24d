/**
 * The job report's content, as data: built at the guest from its own model
 * part (`<dataDir>/jobs/<job>/model-part.json`, which holds the evaluation
 * summary) and, when the coordinator answered, its public view of the job.
 * The same object is written as the report's JSON and rendered as its HTML.
 *
 * Nothing here is row-level: the ROC thresholds in the model part are
 * individual rows' scores, so they are left out (as they are from what the
 * coordinator sees), and the model's weights are not copied.
 *
 * The model part is read leniently: every summary field is optional, so a
 * report can be written for older jobs, jobs under differential privacy (no
 * losses) and multi-class jobs (a confusion matrix instead of a ROC curve).
 */
import { z } from 'zod';
import { ConfigError } from '../protocol/errors.ts';
import { privacySummary, type PrivacyItem } from './privacy.ts';

export const JOB_REPORT_FORMAT = 'tandem-job-report/1';

// ——— The model part, as far as the report reads it ———

/** JSON writes NaN as null, so every metric may be null. */
const num = z.number().nullable().optional();
// Lookalike jobs report recall on held-out seeds against pool percentiles, with no row count per fraction.
const topKSchema = z.object({ fraction: z.number(), rows: num, value: z.number().nullable() });
const classNames = z.array(z.union([z.string(), z.number()]));

const metricsSchema = z.object({
  rows: num,
  positives: num,
  auc: num,
  ks: num,
  logLoss: num,
  accuracy: num,
  threshold: num,
  liftAtK: z.array(topKSchema).optional(),
  recallAtK: z.array(topKSchema).optional(),
  gain: z.object({ population: z.array(z.number()), captured: z.array(z.number().nullable()) }).optional(),
  roc: z.object({ fpr: z.array(z.number().nullable()), tpr: z.array(z.number().nullable()) }).optional(),
  // Multi-class jobs.
  macroF1: num,
  confusion: z.array(z.array(z.number())).optional(),
  /** The number of classes (MulticlassReport) or their names. */
  classes: z.union([z.number(), classNames]).optional(),
});

const summarySchema = z.object({
  role: z.string().optional(),
  rows: z.object({ aligned: num, train: num, validation: num }).optional(),
  epochs: num,
  losses: z.array(z.number().nullable()).optional(),
  metrics: metricsSchema.optional(),
  /** The better of the guest's own LR and trees (`model`), on the same rows. */
  guestOnly: z
    .object({ features: num, metrics: metricsSchema.optional(), model: z.enum(['lr', 'trees']).optional() })
    .optional(),
  /** The federated model's family. */
  model: z.string().optional(),
  /** Trees: importance by total gain, own features by name, hosts' in aggregate. */
  importance: z.object({ own: z.record(z.string(), z.number()), hosts: z.record(z.string(), z.number()) }).optional(),
  dp: z.object({ epsilon: num, delta: num, budget: num, noiseMultiplier: num }).optional(),
  validationScoresShared: z.boolean().optional(),
  /** Multi-class jobs: class names in index order. */
  classes: classNames.optional(),
});

const modelPartSchema = z.object({
  jobId: z.string().min(1),
  jobName: z.string().optional(),
  party: z.string().min(1),
  role: z.enum(['guest', 'host']),
  parties: z.array(z.object({ name: z.string(), role: z.enum(['guest', 'host']), dataset: z.string() })).min(1),
  featureNames: z.array(z.string()).optional(),
  summary: summarySchema,
  createdAt: z.string().optional(),
});

/** The fields of a model part the report uses. */
export type ReportSource = z.infer<typeof modelPartSchema>;
type Metrics = z.infer<typeof metricsSchema>;

/**
 * Checks a parsed `model-part.json` (any role; the caller decides what a
 * host's part means).
 * @throws ConfigError CONFIG_INVALID naming the first bad field
 */
export function parseReportSource(raw: unknown, file: string): ReportSource {
  const parsed = modelPartSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ConfigError('CONFIG_INVALID', {
      file,
      field: issue?.path.join('.') ?? '',
      problem: issue?.message ?? 'is not a model part',
      fix: 'the job writes this file; run the job again with this version of tandem',
    });
  }
  return parsed.data;
}

// ——— The coordinator's view ———

/** What the coordinator told us about the job, or why we do not know. */
export type CoordinatorView =
  | {
      readonly reached: true;
      readonly stage: string;
      readonly kind: string;
      readonly message: string;
      readonly submittedAt: string | null;
      /** The last status change: for a finished job, when it ended. */
      readonly endedAt: string | null;
      readonly maxEpochs: number | null;
      /** Feature count per host, from the hosts' public summaries. */
      readonly hostFeatures: Readonly<Record<string, number>>;
    }
  | { readonly reached: false; readonly reason: string };

// ——— The report ———

export type TopK = { readonly fraction: number; readonly rows: number | null; readonly value: number | null };

export type ModelFigures = {
  readonly auc: number | null;
  readonly ks: number | null;
  readonly logLoss: number | null;
  readonly accuracy: number | null;
  /** Multi-class jobs. */
  readonly macroF1: number | null;
  readonly liftAtK: readonly TopK[];
  readonly recallAtK: readonly TopK[];
};

export type ComparisonRow = {
  readonly metric: string;
  readonly key: 'auc' | 'ks' | 'logLoss' | 'accuracy' | 'macroF1';
  readonly better: 'higher' | 'lower';
  /** One sentence for a reader who does not know the metric. */
  readonly meaning: string;
  readonly guestOnly: number | null;
  readonly federated: number | null;
  /** Tests and benchmarks only: given on the command line, never computed by the product. */
  readonly centralised: number | null;
};

export type JobReport = {
  readonly format: typeof JOB_REPORT_FORMAT;
  readonly generatedAt: string;
  readonly job: {
    readonly id: string;
    readonly name: string;
    readonly createdAt: string | null;
    readonly guest: string;
  };
  readonly parties: readonly {
    readonly name: string;
    readonly role: 'guest' | 'host';
    readonly dataset: string;
    readonly features: number | null;
  }[];
  readonly data: {
    readonly aligned: number | null;
    readonly train: number | null;
    readonly validation: number | null;
    readonly validationPositives: number | null;
  };
  readonly training: {
    readonly epochs: number | null;
    readonly maxEpochs: number | null;
    readonly losses: readonly number[];
  };
  readonly federated: ModelFigures | null;
  readonly guestOnly:
    (ModelFigures & { readonly features: number | null; readonly model: 'lr' | 'trees' | null }) | null;
  /** Which family the federated model is: trees, or LR (logistic / one-vs-rest / regression). */
  readonly federatedModel: 'lr' | 'trees';
  /** Trees: importance by total gain, as a share of all gain, largest first (own features by name; each host in aggregate). */
  readonly importance: readonly { readonly name: string; readonly host: boolean; readonly share: number }[] | null;
  /** Pooled-data references given on the command line (tests and benchmarks only). */
  readonly centralised: { readonly auc: number | null; readonly accuracy: number | null } | null;
  readonly comparison: readonly ComparisonRow[];
  readonly curves: {
    readonly roc: { readonly fpr: readonly number[]; readonly tpr: readonly number[] } | null;
    readonly gain: { readonly population: readonly number[]; readonly captured: readonly number[] } | null;
  };
  readonly multiclass: {
    readonly classes: readonly string[];
    readonly confusion: readonly (readonly number[])[];
    readonly accuracy: number | null;
    readonly macroF1: number | null;
  } | null;
  readonly dp: {
    readonly epsilon: number | null;
    readonly delta: number | null;
    readonly budget: number | null;
    readonly noiseMultiplier: number | null;
  } | null;
  /** False: the hosts kept their validation scores, so the "federated" figures are of the guest's part of the model only. */
  readonly validationScoresShared: boolean;
  readonly privacy: readonly PrivacyItem[];
  readonly coordinator: CoordinatorView;
};

export type BuildOptions = {
  readonly coordinator: CoordinatorView;
  /** A centralised (pooled-data) AUC to show beside the others: tests and benchmarks only. */
  readonly centralisedAuc?: number | undefined;
  /** A centralised (pooled-data) accuracy, e.g. multinomial LR for a cold-start job: tests and benchmarks only. */
  readonly centralisedAccuracy?: number | undefined;
  /** @default now */
  readonly generatedAt?: string;
};

const orNull = (x: number | null | undefined): number | null =>
  typeof x === 'number' && Number.isFinite(x) ? x : null;

function figures(m: Metrics | undefined): ModelFigures | null {
  if (m === undefined) return null;
  const topK = (list: Metrics['liftAtK']): TopK[] =>
    (list ?? []).map((t) => ({ fraction: t.fraction, rows: orNull(t.rows), value: orNull(t.value) }));
  return {
    auc: orNull(m.auc),
    ks: orNull(m.ks),
    logLoss: orNull(m.logLoss),
    accuracy: orNull(m.accuracy),
    macroF1: orNull(m.macroF1),
    liftAtK: topK(m.liftAtK),
    recallAtK: topK(m.recallAtK),
  };
}

const METRICS: readonly Omit<ComparisonRow, 'guestOnly' | 'federated' | 'centralised'>[] = [
  {
    metric: 'AUC',
    key: 'auc',
    better: 'higher',
    meaning:
      'The chance that the model ranks a randomly chosen positive above a randomly chosen negative: 0.5 is guessing, 1 is perfect.',
  },
  {
    metric: 'KS',
    key: 'ks',
    better: 'higher',
    meaning:
      'How far apart the scores of positives and negatives are at the best cut-off: 0 is no separation, 1 is complete.',
  },
  {
    metric: 'Log-loss',
    key: 'logLoss',
    better: 'lower',
    meaning: 'How confident and right the predicted probabilities are: lower is better.',
  },
  {
    metric: 'Accuracy',
    key: 'accuracy',
    better: 'higher',
    meaning: 'The share of people classified correctly when a probability of 50% or more counts as positive.',
  },
  {
    metric: 'Macro-F1',
    key: 'macroF1',
    better: 'higher',
    meaning:
      'The F1 score (balance of precision and recall) of each class, averaged so small classes count as much as large ones.',
  },
];

/** Class names for a confusion matrix: the summary's names, the metrics' names, or 0…k−1. */
function classLabels(summary: ReportSource['summary'], k: number): string[] {
  const named = summary.classes ?? (Array.isArray(summary.metrics?.classes) ? summary.metrics.classes : undefined);
  return Array.from({ length: k }, (_, i) => String(named?.[i] ?? i));
}

/** The report's content from the guest's model part and the coordinator's view. */
export function buildJobReport(source: ReportSource, options: BuildOptions): JobReport {
  const s = source.summary;
  const coordinator = options.coordinator;
  const hostFeatures = coordinator.reached ? coordinator.hostFeatures : {};
  const guestFeatures = orNull(s.guestOnly?.features) ?? source.featureNames?.length ?? null;
  const federated = figures(s.metrics);
  const alone =
    s.guestOnly?.metrics === undefined
      ? null
      : {
          ...(figures(s.guestOnly.metrics) as ModelFigures),
          features: orNull(s.guestOnly.features),
          model: s.guestOnly.model ?? null,
        };
  const given = { auc: orNull(options.centralisedAuc), accuracy: orNull(options.centralisedAccuracy) };
  const centralised = given.auc === null && given.accuracy === null ? null : given;
  const m = s.metrics;
  const isMulticlass = m?.confusion !== undefined && m.confusion.length > 0;
  const comparison = METRICS.map((row) => ({
    ...row,
    ...(isMulticlass && row.key === 'accuracy' ? { meaning: 'The share of people put in their true class.' } : {}),
    guestOnly: alone?.[row.key] ?? null,
    federated: federated?.[row.key] ?? null,
    centralised:
      row.key === 'auc' ? (centralised?.auc ?? null) : row.key === 'accuracy' ? (centralised?.accuracy ?? null) : null,
  })).filter((r) => r.guestOnly !== null || r.federated !== null || r.centralised !== null);
  const roc =
    m?.roc === undefined
      ? null
      : { fpr: m.roc.fpr.map((v) => v ?? Number.NaN), tpr: m.roc.tpr.map((v) => v ?? Number.NaN) };
  const gain =
    m?.gain === undefined
      ? null
      : { population: m.gain.population, captured: m.gain.captured.map((v) => v ?? Number.NaN) };
  const confusion = m?.confusion;
  const multiclass =
    confusion === undefined || confusion.length === 0
      ? null
      : {
          classes: classLabels(s, confusion.length),
          confusion,
          accuracy: orNull(m?.accuracy),
          macroF1: orNull(m?.macroF1),
        };
  const dp =
    s.dp === undefined
      ? null
      : {
          epsilon: orNull(s.dp.epsilon),
          delta: orNull(s.dp.delta),
          budget: orNull(s.dp.budget),
          noiseMultiplier: orNull(s.dp.noiseMultiplier),
        };
  const hosts = source.parties.filter((p) => p.role === 'host').map((p) => p.name);
  const validationScoresShared = s.validationScoresShared ?? true;
  const data = {
    aligned: orNull(s.rows?.aligned),
    train: orNull(s.rows?.train),
    validation: orNull(s.rows?.validation),
    validationPositives: multiclass === null ? orNull(m?.positives) : null,
  };
  return {
    format: JOB_REPORT_FORMAT,
    generatedAt: options.generatedAt ?? new Date().toISOString(),
    job: {
      id: source.jobId,
      name: source.jobName ?? source.jobId,
      createdAt: source.createdAt ?? null,
      guest: source.party,
    },
    parties: source.parties.map((p) => ({
      name: p.name,
      role: p.role,
      dataset: p.dataset,
      features: p.name === source.party ? guestFeatures : (hostFeatures[p.name] ?? null),
    })),
    data,
    training: {
      epochs: orNull(s.epochs),
      maxEpochs: coordinator.reached ? coordinator.maxEpochs : null,
      losses: (s.losses ?? []).map((v) => v ?? Number.NaN).filter(Number.isFinite),
    },
    federated,
    federatedModel: s.model === 'trees' ? 'trees' : 'lr',
    importance: importanceOf(s.importance),
    guestOnly: alone,
    centralised,
    comparison,
    curves: { roc, gain },
    multiclass,
    dp,
    validationScoresShared,
    privacy: privacySummary({
      jobId: source.jobId,
      guest: source.party,
      hosts,
      aligned: data.aligned,
      validation: data.validation,
      validationScoresShared,
      epsilon: dp?.epsilon ?? null,
      delta: dp?.delta ?? null,
    }),
    coordinator,
  };
}

function importanceOf(
  i: { own: Record<string, number>; hosts: Record<string, number> } | undefined,
): JobReport['importance'] {
  if (i === undefined) return null;
  const rows = [
    ...Object.entries(i.own).map(([name, gain]) => ({ name, host: false, gain })),
    ...Object.entries(i.hosts).map(([name, gain]) => ({ name, host: true, gain })),
  ];
  const total = rows.reduce((t, r) => t + r.gain, 0);
  return rows
    .sort((a, b) => b.gain - a.gain)
    .map((r) => ({ name: r.name, host: r.host, share: total > 0 ? r.gain / total : 0 }));
}
