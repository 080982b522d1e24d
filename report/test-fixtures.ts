/**
 * Model parts for the report's unit tests, shaped as jobs/common/model-part.ts and models/lr/supervised.ts
 * writes them, with metrics computed by protocol/evaluation on fixed scores.
 */
import { binaryReport } from '../protocol/evaluation/metrics.ts';
import { Random } from '../protocol/random.ts';
import type { CoordinatorView } from './job-report.ts';

/** 200 validation rows, 40% positive, scores that separate them well but not perfectly. */
export function validationSet(n = 200, seed = 'report-fixture'): { scores: Float64Array; labels: Int32Array } {
  const random = new Random(seed);
  const labels = Int32Array.from({ length: n }, (_, i) => (i % 5 < 2 ? 1 : 0));
  const scores = Float64Array.from(
    labels,
    (y) => 1 / (1 + Math.exp(-(y === 1 ? 1.2 : -1.2) - 1.5 * random.nextGaussian())),
  );
  return { scores, labels };
}

/** A JSON round trip, as the model part is read from disk (NaN and Infinity become null). */
export const viaJson = <T>(x: T): unknown => JSON.parse(JSON.stringify(x));

export function binaryModelPart(overrides: { summary?: Record<string, unknown> } = {}): Record<string, unknown> {
  const { scores, labels } = validationSet();
  const metrics = binaryReport(scores, labels);
  // The guest alone: the same rows, noisier scores.
  const alone = binaryReport(
    Float64Array.from(scores, (s, i) => (s + ((i * 7919) % 100) / 120) / 2),
    labels,
  );
  return {
    format: 'tandem-model-part/1',
    jobId: 'job-0123456789',
    jobName: 'spring-campaign',
    party: 'brand',
    role: 'guest',
    parties: [
      { name: 'brand', role: 'guest', dataset: 'members' },
      { name: 'partner', role: 'host', dataset: 'pool' },
    ],
    featureNames: ['age', 'recency', 'frequency'],
    weights: [0.1, 0.2, 0.3],
    intercept: 0,
    summary: {
      role: 'guest',
      rows: { aligned: 1000, train: 800, validation: 200 },
      epochs: 4,
      losses: [0.6931, 0.52, 0.47, 0.455],
      metrics,
      guestOnly: {
        features: 3,
        metrics: {
          auc: alone.auc,
          ks: alone.ks,
          logLoss: alone.logLoss,
          accuracy: alone.accuracy,
          liftAtK: alone.liftAtK,
          recallAtK: alone.recallAtK,
        },
      },
      validationScoresShared: true,
      ...overrides.summary,
    },
    createdAt: '2026-05-01T14:03:00.000Z',
  };
}

export function multiclassModelPart(): Record<string, unknown> {
  const base = binaryModelPart();
  return {
    ...base,
    jobName: 'cold-start',
    summary: {
      role: 'guest',
      rows: { aligned: 300, train: 240, validation: 60 },
      epochs: 3,
      losses: [1.09, 0.8, 0.7],
      classes: ['coffee', 'milk powder', 'candy'],
      metrics: {
        rows: 60,
        classes: 3,
        accuracy: 0.75,
        macroF1: 0.7321,
        perClass: [],
        confusion: [
          [18, 2, 0],
          [3, 15, 2],
          [1, 7, 12],
        ],
      },
      validationScoresShared: true,
    },
  };
}

export const COORDINATOR: CoordinatorView = {
  reached: true,
  stage: 'completed',
  kind: 'hetero-lr',
  message: 'completed',
  submittedAt: '2026-05-01T14:00:00.000Z',
  endedAt: '2026-05-01T14:03:05.000Z',
  maxEpochs: 30,
  hostFeatures: { partner: 12 },
};

/**
 * Checks that every element opened in an HTML or SVG text is closed in
 * order (void elements and `<x/>` excepted); returns the first problem.
 */
export function unbalancedTag(markup: string): string | undefined {
  const VOID = new Set(['meta', 'br', 'hr', 'img', 'input', 'link']);
  const stack: string[] = [];
  for (const m of markup.replace(/<!doctype[^>]*>/i, '').matchAll(/<(\/?)([a-zA-Z][\w-]*)[^>]*?(\/?)>/g)) {
    const [, closing, tag = '', selfClosing] = m;
    const name = tag.toLowerCase();
    if (selfClosing === '/' || (closing === '' && VOID.has(name))) continue;
    if (closing === '') stack.push(name);
    else if (stack.pop() !== name) return `</${name}> at ${m.index} does not close the open element`;
  }
  return stack.length === 0 ? undefined : `<${stack.join('>, <')}> never closed`;
}
