import { describe, expect, it } from 'vitest';
import { ConfigError } from '../protocol/errors.ts';
import { validateJobSpecText } from './spec.ts';

const HEAD =
  'name: j\nkind: hetero-lr\nparties:\n  - { name: brand, role: guest, dataset: d }\n  - { name: partner, role: host, dataset: d }\n';

function refusal(text: string): ConfigError {
  try {
    validateJobSpecText(text, 'job.yaml');
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('accepted');
}

describe('a job spec, checked in full', () => {
  it('accepts the model block of the family it names (lr by default)', () => {
    expect(validateJobSpecText(`${HEAD}model: { link: { degree: 4 }, decorrelate: true }\n`, 'job.yaml').model).toEqual(
      { link: { degree: 4 }, decorrelate: true },
    );
    expect(validateJobSpecText(`${HEAD}model: { family: lr }\n`, 'job.yaml').model?.family).toBe('lr');
  });

  it('refuses a model family this version does not have, naming the field and the known ones', () => {
    const error = refusal(`${HEAD}model: { family: forest }\n`);
    expect(error.code).toBe('JOB_SPEC_INVALID');
    expect(error.message).toMatch(
      /^job\.yaml: model\.family: is "forest", which is not a model family of this version of tandem\. Fix: use one of: lr/,
    );
  });

  it('accepts trees with their options, and refuses what a tree job cannot do', () => {
    expect(
      validateJobSpecText(`${HEAD}model: { family: trees, rounds: 50, maxDepth: 5, learningRate: 0.05 }\n`, 'job.yaml')
        .model,
    ).toMatchObject({ family: 'trees', rounds: 50 });
    expect(refusal(`${HEAD}model: { family: trees, link: { degree: 4 } }\n`).message).toMatch(
      /model\.link: is not a known key/,
    );
    expect(refusal(`${HEAD}model: { family: trees, maxDepth: 40 }\n`).message).toMatch(/model\.maxDepth/);
    expect(refusal(`${HEAD}model: { family: trees }\nprivacy: { dp: { epsilon: 1 } }\n`).message).toMatch(
      /privacy\.dp: is set, but trees are not trained under differential privacy/,
    );
  });

  it("checks the model block against the family's own schema, with the line of the unknown key", () => {
    const error = refusal(`${HEAD}model:\n  family: lr\n  maxDepth: 5\n`);
    expect(error.code).toBe('JOB_SPEC_INVALID');
    expect(error.message).toContain('job.yaml: model');
    expect(error.message).toContain('maxDepth');
    expect(error.message).toMatch(/line 8/);
  });
});
