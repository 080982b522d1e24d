import { describe, expect, it } from 'vitest';
import { ConfigError } from '../protocol/errors.ts';
import { compileJobSpec } from '../protocol/job-spec.ts';
import { validateJobSpecText } from './spec.ts';

const spec = (kind: string, alignment: string): string =>
  `name: j\nkind: ${kind}\nparties:\n  - { name: brand, role: guest, dataset: d }\n  - { name: partner, role: host, dataset: d }\nalignment: ${alignment}\n`;

function refusal(text: string): ConfigError {
  try {
    validateJobSpecText(text, 'job.yaml');
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('accepted');
}

describe('alignment.psi: oprf in a job spec', () => {
  it('is accepted for hetero-lr, cold-start and lookalike, with one worker and automatic buckets by default', () => {
    for (const kind of ['hetero-lr', 'cold-start', 'lookalike']) {
      const compiled = compileJobSpec(validateJobSpecText(spec(kind, '{ psi: oprf }'), 'job.yaml'));
      expect(compiled.alignmentPsi).toBe('oprf');
      expect(compiled.alignmentOprf).toEqual({ buckets: undefined, workers: 1 });
    }
    expect(
      compileJobSpec(
        validateJobSpecText(spec('hetero-lr', '{ psi: oprf, oprf: { buckets: 16, workers: 2 } }'), 'job.yaml'),
      ).alignmentOprf,
    ).toEqual({ buckets: 16, workers: 2 });
  });

  it('refuses a reach job, pointing to ecdh or coordinator', () => {
    const error = refusal(spec('reach', '{ psi: oprf }'));
    expect(error.code).toBe('JOB_SPEC_INVALID');
    expect(error.message).toMatch(
      /^job\.yaml: alignment\.psi: is oprf, which cannot count a reach without telling the guest which of its ids matched/,
    );
    expect(error.message).toMatch(/Fix: use psi: ecdh .* or psi: coordinator/);
  });

  it('refuses oprf options without psi: oprf, and counts out of range', () => {
    expect(refusal(spec('hetero-lr', '{ oprf: { workers: 2 } }')).message).toMatch(
      /alignment\.oprf: applies only to psi: oprf, not ecdh/,
    );
    expect(refusal(spec('hetero-lr', '{ psi: oprf, oprf: { buckets: 5000 } }')).message).toContain(
      'alignment.oprf.buckets',
    );
    expect(refusal(spec('hetero-lr', '{ psi: oprf, oprf: { workers: -1 } }')).message).toContain(
      'alignment.oprf.workers',
    );
    expect(refusal(spec('hetero-lr', '{ psi: oprf, oprf: { threads: 2 } }')).message).toContain('threads');
  });
});
