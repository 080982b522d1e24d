/**
 * How Tandem evaluates the logistic link under encryption, accurately.
 *
 * The logit of a row is z = a + Σₕ uₕ: `a` is the guest's own partial (plus
 * intercept), known to the guest in plaintext; `uₕ` is host h's partial,
 * known to host h in plaintext. Paillier-based systems approximate σ(z)
 * around 0 (first-order Taylor) and lose accuracy. Tandem instead expands σ
 * per row around the guest's exact `a`, in Chebyshev polynomials of each
 * host's clipped, scaled partial t = clip(u, −c, c)/c:
 *
 *   σ(a + c·t) ≈ Σⱼ βⱼ(a)·Tⱼ(t),   j = 0..m
 *
 * A host encrypts Tⱼ(t) for j = 1..m (it may apply any function to its own
 * plaintext), the guest multiplies each by its plaintext per-row βⱼ(a):
 * only plaintext multiplications, so CKKS needs depth 1 here and no
 * relinearisation keys. With several hosts the guest uses the additive
 * expansion σ(a + Σuₕ) ≈ σ(a) + Σₕ[σ(a + uₕ) − σ(a)], exact when one host's
 * partial dominates. The same machinery gives the log-loss for early stopping.
 *
 * Plaintext simulation (default-credit, 80/20 split, Adam): Newton 0.7163,
 * exact-sigmoid SGD 0.7156, first-order Taylor 0.7073, this link with
 * m = 6, c = 6: 0.7150.
 */

export type LinkOptions = {
  /** Chebyshev degree m = basis ciphertexts per host per chunk of rows. @default 6 */
  readonly degree?: number | undefined;
  /** Host partials are clipped to [−clip, clip] before expansion. @default 6 */
  readonly clip?: number | undefined;
};

export type Link = { readonly degree: number; readonly clip: number };

export function compileLink(options: LinkOptions = {}): Link {
  const degree = options.degree ?? 6;
  const clip = options.clip ?? 6;
  if (!Number.isInteger(degree) || degree < 1 || degree > 16)
    throw new RangeError(`link degree must be an integer in 1..16, got ${degree}`);
  if (!(clip > 0 && clip <= 64)) throw new RangeError(`link clip must be in (0, 64], got ${clip}`);
  return Object.freeze({ degree, clip });
}

export function sigmoid(z: number): number {
  return z >= 0 ? 1 / (1 + Math.exp(-z)) : Math.exp(z) / (1 + Math.exp(z));
}

/** log(1 + e^z), without overflow. */
export function softplus(z: number): number {
  return z > 0 ? z + Math.log1p(Math.exp(-z)) : Math.log1p(Math.exp(z));
}

/** Log-loss of logit z for label y ∈ {0, 1}. */
export function logLossAt(z: number, y: number): number {
  return softplus(z) - y * z;
}

/** Tⱼ(t) for j = 0..m by the recurrence. */
function chebyshevRow(t: number, m: number, out: Float64Array): void {
  out[0] = 1;
  if (m >= 1) out[1] = t;
  for (let j = 2; j <= m; j++) out[j] = 2 * t * (out[j - 1] ?? 0) - (out[j - 2] ?? 0);
}

/** A host's basis values: `basis[j−1][i] = Tⱼ(clip(uᵢ)/c)`, j = 1..m. */
export function hostBasis(link: Link, partials: Float64Array): Float64Array[] {
  const m = link.degree;
  const basis = Array.from({ length: m }, () => new Float64Array(partials.length));
  const row = new Float64Array(m + 1);
  for (let i = 0; i < partials.length; i++) {
    const u = partials[i] ?? 0;
    const t = Math.max(-link.clip, Math.min(link.clip, u)) / link.clip;
    chebyshevRow(t, m, row);
    for (let j = 1; j <= m; j++) (basis[j - 1] as Float64Array)[i] = row[j] ?? 0;
  }
  return basis;
}

/** Chebyshev nodes and Tⱼ at them, cached per degree. */
const tables = new Map<number, { nodes: Float64Array; t: Float64Array }>();

function table(m: number): { nodes: Float64Array; t: Float64Array } {
  let entry = tables.get(m);
  if (entry === undefined) {
    const nodes = Float64Array.from({ length: m + 1 }, (_, k) => Math.cos((Math.PI * (k + 0.5)) / (m + 1)));
    const t = new Float64Array((m + 1) * (m + 1));
    const row = new Float64Array(m + 1);
    for (let k = 0; k <= m; k++) {
      chebyshevRow(nodes[k] ?? 0, m, row);
      t.set(row, k * (m + 1));
    }
    entry = { nodes, t };
    tables.set(m, entry);
  }
  return entry;
}

/**
 * Per-row coefficients βⱼ, j = 0..m, of the Chebyshev interpolant of
 * t ↦ f(aᵢ + c·t, i) on [−1, 1]. `coefficients[j][i]`.
 */
export function rowCoefficients(link: Link, a: Float64Array, f: (z: number, row: number) => number): Float64Array[] {
  const m = link.degree;
  const { nodes, t } = table(m);
  const out = Array.from({ length: m + 1 }, () => new Float64Array(a.length));
  const values = new Float64Array(m + 1);
  const scale = 2 / (m + 1);
  for (let i = 0; i < a.length; i++) {
    const ai = a[i] ?? 0;
    for (let k = 0; k <= m; k++) values[k] = f(ai + link.clip * (nodes[k] ?? 0), i);
    for (let j = 0; j <= m; j++) {
      let s = 0;
      for (let k = 0; k <= m; k++) s += (values[k] ?? 0) * (t[k * (m + 1) + j] ?? 0);
      (out[j] as Float64Array)[i] = j === 0 ? s / (m + 1) : s * scale;
    }
  }
  return out;
}

/** What the guest multiplies each host's basis by, and the plaintext it adds. */
export type LinkTerms = {
  /** Added to Σ coefficients ⊙ basis: H·β₀ + (1−H)·f(a) (minus labels, for the residual). */
  readonly constant: Float64Array;
  /** `coefficients[j−1]` multiplies every host's Tⱼ. */
  readonly coefficients: readonly Float64Array[];
};

function terms(
  link: Link,
  a: Float64Array,
  hosts: number,
  f: (z: number, row: number) => number,
  subtract?: Float64Array,
): LinkTerms {
  const beta = rowCoefficients(link, a, f);
  const constant = new Float64Array(a.length);
  const b0 = beta[0] as Float64Array;
  for (let i = 0; i < a.length; i++) {
    constant[i] = hosts * (b0[i] ?? 0) + (1 - hosts) * f(a[i] ?? 0, i) - (subtract?.[i] ?? 0);
  }
  return { constant, coefficients: beta.slice(1) };
}

/**
 * What the model fits: `logistic` (a binary label, log-loss) or `squared`
 * (a continuous label, standardised by the guest: linear regression). The
 * squared loss is a polynomial of degree 2 in the host's partial, so the
 * Chebyshev expansion is exact for it (within the clip): hosts encrypt the
 * same basis either way and never learn which one the guest fits.
 */
export type Objective = 'logistic' | 'squared';

const identity = (z: number): number => z;

/** Residual d = σ̂(z) − y (logistic) or z − y (squared), as terms over the hosts' basis. */
export function residualTerms(
  link: Link,
  a: Float64Array,
  labels: Float64Array,
  hosts: number,
  objective: Objective = 'logistic',
): LinkTerms {
  return terms(link, a, hosts, objective === 'logistic' ? sigmoid : identity, labels);
}

/** Per-row loss, log-loss or ½(z − y)², as terms over the hosts' basis. */
export function lossTerms(
  link: Link,
  a: Float64Array,
  labels: Float64Array,
  hosts: number,
  objective: Objective = 'logistic',
): LinkTerms {
  return terms(
    link,
    a,
    hosts,
    objective === 'logistic' ? (z, i) => logLossAt(z, labels[i] ?? 0) : (z, i) => (z - (labels[i] ?? 0)) ** 2 / 2,
  );
}

/** Evaluates terms in plaintext: constant + Σₕ Σⱼ coefficientⱼ ⊙ basisₕⱼ (the reference for the encrypted path). */
export function evaluateTerms(t: LinkTerms, hostBases: readonly (readonly Float64Array[])[]): Float64Array {
  const out = Float64Array.from(t.constant);
  for (const basis of hostBases) {
    for (let j = 0; j < t.coefficients.length; j++) {
      const c = t.coefficients[j] as Float64Array;
      const b = basis[j] as Float64Array;
      for (let i = 0; i < out.length; i++) out[i] = (out[i] ?? 0) + (c[i] ?? 0) * (b[i] ?? 0);
    }
  }
  return out;
}
