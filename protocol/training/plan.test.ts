import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CkksEncryptor, CkksKeyHolder, CkksSuite } from '../he/ckks.ts';
import { DEFAULT_CKKS_PARAMS } from '../he/params.ts';
import { compileLink, hostBasis, residualBound, residualTerms } from './chebyshev-link.ts';
import { columnShifts, shiftedColumnSlice } from './plan.ts';

describe('column shifts for the encrypted gradient step', () => {
  let suite: CkksSuite;
  let keys: CkksKeyHolder;
  let enc: CkksEncryptor;
  beforeAll(async () => {
    suite = await CkksSuite.create(DEFAULT_CKKS_PARAMS);
    keys = new CkksKeyHolder(suite);
    enc = new CkksEncryptor(suite, keys.publicKey);
  });
  afterAll(() => {
    enc.dispose();
    keys.dispose();
    suite.dispose();
  });

  it('bounds every residual the Chebyshev link can give', () => {
    // Guest partials and hosts' partials anywhere (clipped or not), labels 0 or 1: |d| stays within the bound.
    for (const [degree, hosts] of [[1, 1], [6, 1], [6, 3], [16, 2]] as const) {
      const link = compileLink({ degree, clip: 6 });
      const n = 2000;
      const a = Float64Array.from({ length: n }, (_, i) => ((i * 37) % 401) / 10 - 20);
      const y = Float64Array.from({ length: n }, (_, i) => i % 2);
      const terms = residualTerms(link, a, y, hosts);
      let worst = 0;
      for (let h = 0; h < 50; h++) {
        const partials = Float64Array.from({ length: n }, (_, i) => ((i * 13 + h * 71) % 301) / 10 - 15);
        const basis = hostBasis(link, partials);
        for (let i = 0; i < n; i++) {
          let d = terms.constant[i]!;
          for (let j = 0; j < degree; j++) d += hosts * terms.coefficients[j]![i]! * basis[j]![i]!; // the same partial at every host: the extreme case
          worst = Math.max(worst, Math.abs(d));
        }
      }
      expect(worst).toBeLessThanOrEqual(residualBound(link, hosts));
    }
  });

  it('shrinks a large column so its sum cannot overflow q₀, grows a small one for precision, and both come back exact', () => {
    const slots = suite.slots;
    const limit = suite.columnSumLimit(residualBound(compileLink({}), 1));
    // Three columns, row-major: raw amounts in the tens of thousands, standardised values, a rare one-hot level.
    const X = new Float64Array(slots * 3);
    let state = 12345;
    const random = (): number => {
      state = (Math.imul(state, 1103515245) + 12345) >>> 0;
      return state / 2 ** 32;
    };
    for (let r = 0; r < slots; r++) {
      X[r * 3] = 20_000 + 30_000 * random();
      X[r * 3 + 1] = random() * 2 - 1;
      X[r * 3 + 2] = r % 50 === 0 ? 1 : 0;
    }
    const rows = Uint32Array.from({ length: slots }, (_, r) => r);
    const shifts = columnShifts(X, 3, rows, slots, limit);
    expect(shifts[0]).toBeGreaterThan(10);
    expect(shifts[2]).toBeLessThan(shifts[1]!);
    expect(shifts[2]).toBeLessThan(0);

    const d = Float64Array.from({ length: slots }, () => 0.2 + 0.8 * random()); // one sign, as when the model is far off: the sum cannot cancel
    const residual = suite.combine([enc.encrypt(d)], [new Float64Array(slots).fill(1)], new Float64Array(slots), enc);
    const decrypt = (values: Float64Array): number => {
      const [masked] = suite.maskedWeightedSums([residual], 1, () => values, enc);
      return suite.unmask(keys.maskedConstant(masked!.ciphertext), masked!);
    };
    for (let j = 0; j < 3; j++) {
      const exact = d.reduce((s, v, r) => s + v * X[r * 3 + j]!, 0);
      const scale = 2 ** shifts[j]!;
      const got = decrypt(shiftedColumnSlice(X, 3, rows, j, 0, slots, shifts[j]!)) * scale;
      // Relative to the column's own magnitude, every column keeps the same precision: the error on a sum of 4,096
      // products is a few hundredths of one row's |x| (measured 0.034, 0.023, 0.038).
      const magnitude = rows.reduce((s, r) => s + Math.abs(X[r * 3 + j]!), 0) / slots;
      expect(Math.abs(got - exact) / magnitude).toBeLessThan(0.1);
    }
    // Unshifted, the column of amounts wraps around q₀: the sum is garbage, which is what the shift prevents.
    const amounts = shiftedColumnSlice(X, 3, rows, 0, 0, slots, 0);
    const exactAmounts = d.reduce((s, v, r) => s + v * X[r * 3]!, 0);
    expect(Math.abs(decrypt(amounts) - exactAmounts)).toBeGreaterThan(Math.abs(exactAmounts) / 2);
  });
});
