import { describe, expect, it } from 'vitest';
import {
  compileLink,
  evaluateTerms,
  hostBasis,
  logLossAt,
  lossTerms,
  residualTerms,
  rowCoefficients,
  sigmoid,
} from './chebyshev-link.ts';

describe('Chebyshev link', () => {
  it('approximates σ(a + u) within 0.04 at the default (m = 6, c = 6) and within 0.003 at m = 12', () => {
    // Chebyshev interpolation error falls like ρ^-m with ρ = π/c + √(1 + (π/c)²) ≈ 1.65 for c = 6.
    const worstError = (degree: number): number => {
      const link = compileLink({ degree, clip: 6 });
      const a = Float64Array.from({ length: 200 }, (_, i) => -8 + (16 * i) / 199);
      let worst = 0;
      for (const u of [-6, -3.3, -1, 0, 0.5, 2.7, 6]) {
        const basis = hostBasis(link, new Float64Array(a.length).fill(u));
        const approx = evaluateTerms(residualTerms(link, a, new Float64Array(a.length), 1), [basis]);
        for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(approx[i]! - sigmoid(a[i]! + u)));
      }
      return worst;
    };
    expect(worstError(6)).toBeLessThan(0.04);
    expect(worstError(12)).toBeLessThan(0.003);
  });

  it('is exact for the guest part: error does not grow with the guest logit', () => {
    // First-order Taylor around 0 (what Paillier systems use) is off by 0.49 at a = 8; this expansion is not.
    const link = compileLink({ degree: 6, clip: 2 });
    const a = Float64Array.of(-30, -8, 8, 30);
    const approx = evaluateTerms(residualTerms(link, a, new Float64Array(4), 1), [
      hostBasis(link, new Float64Array(4).fill(0.3)),
    ]);
    a.forEach((ai, i) => expect(Math.abs(approx[i]! - sigmoid(ai + 0.3))).toBeLessThan(1e-6));
  });

  it('clips host partials beyond the range instead of diverging', () => {
    const link = compileLink({ degree: 12, clip: 6 });
    const approx = evaluateTerms(residualTerms(link, Float64Array.of(0, 0), new Float64Array(2), 1), [
      hostBasis(link, Float64Array.of(50, -50)),
    ]);
    expect(Math.abs(approx[0]! - sigmoid(6))).toBeLessThan(3e-3);
    expect(Math.abs(approx[1]! - sigmoid(-6))).toBeLessThan(3e-3);
  });

  it('subtracts the labels in the residual and evaluates the log-loss with the same basis', () => {
    const link = compileLink({ degree: 12, clip: 4 });
    const a = Float64Array.of(-1, 0.5, 2);
    const y = Float64Array.of(0, 1, 1);
    const u = Float64Array.of(0.4, -2, 1);
    const basis = hostBasis(link, u);
    const d = evaluateTerms(residualTerms(link, a, y, 1), [basis]);
    const loss = evaluateTerms(lossTerms(link, a, y, 1), [basis]);
    for (let i = 0; i < 3; i++) {
      expect(d[i]!).toBeCloseTo(sigmoid(a[i]! + u[i]!) - y[i]!, 3);
      expect(loss[i]!).toBeCloseTo(logLossAt(a[i]! + u[i]!, y[i]!), 3);
    }
  });

  it('with two hosts is exact when one host contributes nothing', () => {
    const link = compileLink({ degree: 12, clip: 4 });
    const a = Float64Array.of(0.2, -1.5);
    const d = evaluateTerms(residualTerms(link, a, new Float64Array(2), 2), [
      hostBasis(link, Float64Array.of(1.7, -0.4)),
      hostBasis(link, new Float64Array(2)),
    ]);
    expect(d[0]!).toBeCloseTo(sigmoid(1.9), 3);
    expect(d[1]!).toBeCloseTo(sigmoid(-1.9), 3);
  });

  it('interpolates a polynomial of the same degree exactly', () => {
    const link = compileLink({ degree: 3, clip: 2 });
    const [b0, b1, b2, b3] = rowCoefficients(link, Float64Array.of(0), (z) => z * z * z);
    // z³ on z = 2t: 8t³ = 6·T1(t) + 2·T3(t)
    expect(b0![0]!).toBeCloseTo(0, 10);
    expect(b1![0]!).toBeCloseTo(6, 10);
    expect(b2![0]!).toBeCloseTo(0, 10);
    expect(b3![0]!).toBeCloseTo(2, 10);
  });

  it('rejects a degree or clip outside the supported range', () => {
    expect(() => compileLink({ degree: 0 })).toThrow(/degree must be an integer in 1..16/);
    expect(() => compileLink({ clip: -1 })).toThrow(/clip must be in/);
  });

  it('evaluates the squared loss and its residual exactly for partials inside the clip, with one host or two', () => {
    const link = compileLink({ degree: 6, clip: 6 });
    const a = Float64Array.of(0.3, -1.2, 2.5);
    const y = Float64Array.of(1, -0.5, 0.7);
    const u1 = Float64Array.of(1.7, -0.4, 4.9);
    const u2 = Float64Array.of(-2.2, 0.9, 0.1);
    const one = [hostBasis(link, u1)];
    const two = [hostBasis(link, u1), hostBasis(link, u2)];
    const d1 = evaluateTerms(residualTerms(link, a, y, 1, 'squared'), one);
    const l1 = evaluateTerms(lossTerms(link, a, y, 1, 'squared'), one);
    const d2 = evaluateTerms(residualTerms(link, a, y, 2, 'squared'), two);
    for (let i = 0; i < 3; i++) {
      const z1 = a[i]! + u1[i]!;
      expect(d1[i]!).toBeCloseTo(z1 - y[i]!, 10);
      expect(l1[i]!).toBeCloseTo((z1 - y[i]!) ** 2 / 2, 10);
      // Linear in each host's partial: the additive expansion is exact too.
      expect(d2[i]!).toBeCloseTo(z1 + u2[i]! - y[i]!, 10);
    }
  });
});
