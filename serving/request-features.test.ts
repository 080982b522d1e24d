import { describe, expect, it } from 'vitest';
import type { PreprocessSpec } from '../data/preprocess.ts';
import type { TandemError } from '../protocol/errors.ts';
import { checkFeatures } from './request-features.ts';

const spec: PreprocessSpec = {
  format: 'tandem-preprocess/1',
  missingPolicy: 'mean',
  missingTokens: ['', 'NA'],
  fittedRows: 10,
  columns: [
    { name: 'x', kind: 'numeric', mean: 100, std: 10, indicator: false },
    { name: 'c', kind: 'categorical', categories: ['a', 'b'], indicator: false },
  ],
  outputColumns: ['x', 'c=a', 'c=b'],
};

/** The refusal's code and public message. */
function refusal(
  features: Record<string, string | number | boolean | null>,
  where = 'rows[2].features',
  s: PreprocessSpec = spec,
): { code: string; message: string; local: string } {
  try {
    checkFeatures(s, features, where);
  } catch (error) {
    const e = error as TandemError;
    return { code: e.code, message: e.publicMessage, local: e.message };
  }
  throw new Error('accepted');
}

describe("checking a scoring request's features", () => {
  it('accepts numbers, numeric strings, missing values and known categories, with no warnings', () => {
    expect(checkFeatures(spec, { x: 101.5, c: 'a' }, 'features')).toEqual([]);
    expect(checkFeatures(spec, { x: '99', c: ' b ' }, 'features')).toEqual([]);
    expect(checkFeatures(spec, { x: null, c: 'NA' }, 'features')).toEqual([]);
    expect(checkFeatures(spec, {}, 'features')).toEqual([]);
  });

  it('names the field and the row of a value that is not a number, and keeps the value out of the local message', () => {
    expect(refusal({ x: 'abc' })).toEqual({
      code: 'DATA_VALUE_INVALID',
      message: 'rows[2].features.x: "abc" is not a number',
      local: 'rows[2].features.x: is not a number',
    });
    expect(refusal({ x: true }).message).toBe('rows[2].features.x: true is not a number');
  });

  it('refuses non-finite numbers and numbers over a million standard deviations from the training mean', () => {
    expect(refusal({ x: 'Infinity' }).message).toBe('rows[2].features.x: "Infinity" is not a finite number');
    expect(refusal({ x: '1e999' }).message).toBe('rows[2].features.x: "1e999" is not a finite number');
    expect(refusal({ x: Number.NaN }).message).toMatch(
      /is not a finite number; send null, or leave the feature out, for a missing value$/,
    );
    expect(refusal({ x: 1e308 })).toMatchObject({
      code: 'DATA_VALUE_INVALID',
      message:
        'rows[2].features.x: 1e+308 is more than 1,000,000 standard deviations from the mean the model was trained on; so far out, it is refused',
    });
    // 10^6 standard deviations is the bound: just inside is scored.
    expect(checkFeatures(spec, { x: 100 + 10 * 999_999 }, 'f')).toEqual([]);
    expect(refusal({ x: 100 + 10 * 1_000_001 }).code).toBe('DATA_VALUE_INVALID');
  });

  it('refuses feature names the model has no column for, naming them and the columns it has', () => {
    expect(refusal({ x: 1, y: 2, 'c ': 'a' }, 'features')).toEqual({
      code: 'DATA_SCHEMA_MISMATCH',
      message: 'features: unknown features "y", "c "; this model\'s input columns are x, c',
      local: 'features: 2 unknown feature name(s)',
    });
  });

  it('warns about a category the model was not trained on, which is scored as none of its categories', () => {
    expect(checkFeatures(spec, { x: 1, c: 'z' }, 'rows[0].features')).toEqual([
      'rows[0].features.c: "z" is not a category the model was trained on; scored as none of its categories',
    ]);
  });

  it("refuses a missing value when the model's missing-value policy is error", () => {
    const strict = { ...spec, missingPolicy: 'error' as const };
    expect(refusal({ c: 'a' }, 'features', strict).message).toBe(
      "features.x: is missing, and the model's missing-value policy is error",
    );
    expect(refusal({ x: 1 }, 'features', strict).message).toBe(
      "features.c: is missing, and the model's missing-value policy is error",
    );
  });
});
