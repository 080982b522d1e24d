import { describe, expect, it } from 'vitest';
import { ConfigError } from '../protocol/errors.ts';
import { buildJobReport, parseReportSource, type JobReport } from './job-report.ts';
import { binaryModelPart, COORDINATOR, multiclassModelPart, viaJson } from './test-fixtures.ts';

const build = (part: Record<string, unknown>, options: Partial<Parameters<typeof buildJobReport>[1]> = {}): JobReport =>
  buildJobReport(parseReportSource(viaJson(part), 'model-part.json'), {
    coordinator: COORDINATOR,
    generatedAt: '2026-05-02T09:00:00.000Z',
    ...options,
  });

describe('buildJobReport', () => {
  const part = binaryModelPart();
  const summary = part['summary'] as {
    metrics: { auc: number; ks: number; roc: { fpr: number[] } };
    guestOnly: { metrics: { auc: number } };
  };
  const report = build(part);

  it('names the job, its parties with their roles and feature counts, and the data sizes', () => {
    expect(report.job).toEqual({
      id: 'job-0123456789',
      name: 'spring-campaign',
      createdAt: '2026-05-01T14:03:00.000Z',
      guest: 'brand',
    });
    // The guest's count is its own; the host's comes from the coordinator's public summary.
    expect(report.parties).toEqual([
      { name: 'brand', role: 'guest', dataset: 'members', features: 3 },
      { name: 'partner', role: 'host', dataset: 'pool', features: 12 },
    ]);
    expect(report.data).toEqual({ aligned: 1000, train: 800, validation: 200, validationPositives: 80 });
    expect(report.training).toEqual({ epochs: 4, maxEpochs: 30, losses: [0.6931, 0.52, 0.47, 0.455] });
  });

  it('puts the guest alone and the federated model side by side, with no centralised column unless given', () => {
    const auc = report.comparison.find((r) => r.key === 'auc');
    expect(auc).toMatchObject({
      guestOnly: summary.guestOnly.metrics.auc,
      federated: summary.metrics.auc,
      centralised: null,
      better: 'higher',
    });
    expect(report.comparison.map((r) => r.key)).toEqual(['auc', 'ks', 'logLoss', 'accuracy']);
    expect(report.comparison.find((r) => r.key === 'logLoss')?.better).toBe('lower');
    expect(report.centralised).toBeNull();
    const withCentral = build(part, { centralisedAuc: 0.9 });
    expect(withCentral.centralised).toEqual({ auc: 0.9, accuracy: null });
    expect(withCentral.comparison.find((r) => r.key === 'auc')?.centralised).toBe(0.9);
    expect(withCentral.comparison.find((r) => r.key === 'ks')?.centralised).toBeNull();
  });

  it("keeps the curves but not the ROC thresholds, which are individual rows' scores", () => {
    expect(report.curves.roc?.fpr).toEqual(summary.metrics.roc.fpr);
    expect(report.curves.gain?.population).toHaveLength(101);
    expect(JSON.stringify(report)).not.toContain('thresholds');
    expect(JSON.stringify(report)).not.toMatch(/"(weights|intercept|scoringKey|splitSeed|preprocess)":/);
  });

  it('states what crossed: ids blinded, validation scores shared for the held-out rows, no DP bound', () => {
    expect(report.privacy.map((p) => p.what)).toEqual([
      'Customer ids',
      'Your outcome labels and features',
      "partner's features",
      'Model weights',
      'Gradients',
      'Test scores',
      'What the coordinator saw',
    ]);
    expect(report.privacy.find((p) => p.what === 'Customer ids')?.detail).toContain('(1,000 people)');
    expect(report.privacy.find((p) => p.what === 'Test scores')?.detail).toContain('200 held-out test people');
    expect(report.privacy.find((p) => p.what === 'Gradients')?.detail).toContain('ε = ∞');
    expect(report.dp).toBeNull();
  });

  it('under DP: ε in the report and the privacy summary, no losses, no loss seen by the coordinator', () => {
    const dp = build(
      binaryModelPart({
        summary: { losses: [], dp: { epsilon: 1.9876, delta: 1e-5, budget: 2, noiseMultiplier: 1.1, steps: 40 } },
      }),
    );
    expect(dp.dp).toEqual({ epsilon: 1.9876, delta: 1e-5, budget: 2, noiseMultiplier: 1.1 });
    expect(dp.training.losses).toEqual([]);
    expect(dp.privacy.find((p) => p.what === 'Gradients')?.detail).toContain('ε = 1.99, δ = 1e-5');
    expect(dp.privacy.find((p) => p.what === 'What the coordinator saw')?.detail).not.toContain('loss');
  });

  it("when the hosts kept their validation scores, says the figures are of the guest's part only", () => {
    const kept = build(binaryModelPart({ summary: { validationScoresShared: false } }));
    expect(kept.validationScoresShared).toBe(false);
    expect(kept.privacy.find((p) => p.what === 'Test scores')).toMatchObject({ form: 'not shared' });
  });

  it("without the coordinator: the host's feature count and the epoch limit are unknown, the rest is there", () => {
    const offline = build(part, { coordinator: { reached: false, reason: 'not asked (--offline)' } });
    expect(offline.parties[1]?.features).toBeNull();
    expect(offline.training.maxEpochs).toBeNull();
    expect(offline.federated?.auc).toBe(summary.metrics.auc);
  });

  it('turns NaN metrics (saved as null) into null, never NaN', () => {
    const nan = build(binaryModelPart({ summary: { metrics: { ...summary.metrics, auc: Number.NaN, ks: null } } }));
    expect(nan.federated?.auc).toBeNull();
    expect(nan.federated?.ks).toBeNull();
    expect(JSON.stringify(nan)).not.toContain('NaN');
  });

  it('reads a multi-class summary: confusion matrix with the class names', () => {
    const mc = build(multiclassModelPart());
    expect(mc.multiclass).toEqual({
      classes: ['coffee', 'milk powder', 'candy'],
      confusion: [
        [18, 2, 0],
        [3, 15, 2],
        [1, 7, 12],
      ],
      accuracy: 0.75,
      macroF1: 0.7321,
    });
    expect(mc.curves).toEqual({ roc: null, gain: null });
    expect(mc.data.validationPositives).toBeNull();
    expect(mc.comparison).toEqual([
      expect.objectContaining({
        key: 'accuracy',
        federated: 0.75,
        guestOnly: null,
        meaning: 'The share of people put in their true class.',
      }),
      expect.objectContaining({ key: 'macroF1', federated: 0.7321, guestOnly: null }),
    ]);
    // A pooled multinomial accuracy (tests, benchmarks, the demo) goes in the accuracy row only.
    const withCentral = build(multiclassModelPart(), { centralisedAccuracy: 0.79 });
    expect(withCentral.centralised).toEqual({ auc: null, accuracy: 0.79 });
    expect(withCentral.comparison.map((r) => [r.key, r.centralised])).toEqual([
      ['accuracy', 0.79],
      ['macroF1', null],
    ]);
  });
});

describe('parseReportSource', () => {
  it('names the first bad field', () => {
    const bad = { ...binaryModelPart(), role: 'observer' };
    expect(() => parseReportSource(bad, '/x/model-part.json')).toThrow(ConfigError);
    expect(() => parseReportSource(bad, '/x/model-part.json')).toThrow(/\/x\/model-part\.json: role/);
    expect(() => parseReportSource({ ...binaryModelPart(), summary: { epochs: 'four' } }, 'f')).toThrow(
      /summary\.epochs/,
    );
  });

  it('accepts an old summary with nothing but rows', () => {
    const old = build({
      ...binaryModelPart(),
      summary: { role: 'guest', rows: { aligned: 10, train: 8, validation: 2 } },
    });
    expect(old.federated).toBeNull();
    expect(old.comparison).toEqual([]);
    expect(old.multiclass).toBeNull();
  });
});
