import { describe, expect, it } from 'vitest';
import { tandem } from '../protocol/generated/tandem.js';
import { jobSummary } from './render.ts';

describe('jobSummary', () => {
  it('shows a cold-start result as accuracy and macro-F1 next to the guest alone, with the confusion matrix', () => {
    const summary = {
      brand: {
        role: 'guest',
        rows: { aligned: 846, train: 677, validation: 169 },
        epochs: 150,
        metrics: {
          accuracy: 0.7692,
          macroF1: 0.75,
          logLoss: 0.6,
          confusion: [
            [40, 2],
            [5, 30],
          ],
          classes: ['coffee', 'candy'],
        },
        guestOnly: { features: 9, metrics: { accuracy: 0.7278, macroF1: 0.7, logLoss: 0.7 } },
      },
    };
    const text = jobSummary(
      tandem.v1.JobStatus.create({
        jobId: 'job-0123456789',
        name: 'segments',
        stage: 'completed',
        summaryJson: JSON.stringify(summary),
      }),
    );
    expect(text).toContain("Federation moved accuracy from 0.7278 (the guest's own features) to 0.7692 (+0.0414)");
    expect(text).toMatch(/macro-F1\s+0\.7000\s+0\.7500/);
    expect(text).toMatch(/coffee\s+40\s+2/);
    expect(text).toMatch(/candy\s+5\s+30/);
    expect(text).not.toContain('AUC');
  });

  it('prints a metric that is undefined for the data (null in JSON, e.g. AUC with one class) as n/a with the reason, instead of crashing', () => {
    const summary = {
      brand: {
        role: 'guest',
        rows: { aligned: 10, train: 8, validation: 2 },
        epochs: 1,
        metrics: { auc: null, ks: null, logLoss: 0.1, accuracy: 1 },
        guestOnly: { features: 2, metrics: { auc: null, ks: null, logLoss: 0.2, accuracy: 1 } },
      },
    };
    const text = jobSummary(
      tandem.v1.JobStatus.create({
        jobId: 'job-0123456789',
        name: 'flat',
        stage: 'completed',
        summaryJson: JSON.stringify(summary),
      }),
    );
    expect(text).toMatch(/AUC\s+n\/a\s+n\/a/);
    expect(text).not.toContain('Federation moved AUC');
    expect(text).toContain(
      'n/a: AUC and KS compare the two label values, and the validation rows hold only one of them.',
    );
  });

  it('prints a lookalike result whose recall is undefined (null in JSON) as n/a instead of crashing', () => {
    const summary = {
      brand: {
        role: 'guest',
        kind: 'lookalike',
        seeds: { listed: 3, inPool: 0, heldOut: 0 },
        pool: 100,
        metrics: { recallAtK: [{ fraction: 0.1, value: null }], liftAtK: [{ fraction: 0.1, value: null }] },
      },
    };
    const text = jobSummary(
      tandem.v1.JobStatus.create({
        jobId: 'job-0123456789',
        name: 'few seeds',
        stage: 'completed',
        summaryJson: JSON.stringify(summary),
      }),
    );
    expect(text).toMatch(/10 %\s+n\/a\s+n\/a/);
  });
});
