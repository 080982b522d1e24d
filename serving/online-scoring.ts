/**
 * Federated online scoring at the guest (cold start): the guest scores its
 * own part from the request's features, asks every host for its partial
 * logits by pseudonym (never the id), adds them and applies the sigmoid —
 * per class for a multi-class (one-vs-rest) model, whose probabilities are
 * the classes' sigmoids normalised to sum to 1 and whose segment is the most
 * probable class.
 * A host that fails, times out or does not hold the user is data, not an
 * exception: the answer falls back to the parts that did arrive and says so.
 * (A host that does not disclose membership answers every pseudonym, so
 * `not-held` appears only for hosts whose operator opted in to it.)
 * Features are checked first (request-features.ts): a bad value is refused
 * naming its field and row, an unseen category is scored and named in
 * `warnings`. Pure apart from the injected host clients.
 */
import type { RawRow } from '../data/preprocess.ts';
import type { ServingModel } from './model-bundle.ts';
import { pseudonym } from './pseudonym.ts';
import { checkFeatures } from './request-features.ts';
import { argmax, classProbabilities, partialScore, partialScores, sigmoid } from './scorer.ts';

/** Why a host's part is missing from an answer. */
export type HostFailure = 'timeout' | 'unavailable' | 'refused' | 'rate-limited' | 'mismatch';

/**
 * What one call to a host endpoint returned: per pseudonym, the host's partial
 * logit (binary), its K partial logits (a K-class model) or, from a trees
 * host, its packed split bits (split-bits.ts); or null when the host does
 * not hold that user.
 */
export type HostAnswer =
  | { readonly ok: true; readonly scores: readonly (number | readonly number[] | string | null)[] }
  | { readonly ok: false; readonly failure: HostFailure };

/** The narrow boundary to a host's endpoint (serving/peer-client.ts over HTTPS with mTLS; fakes in tests). */
export type HostClient = {
  readonly name: string;
  partials(pseudonyms: readonly string[]): Promise<HostAnswer>;
};

export type ScoreRequest = { readonly id: string; readonly features: RawRow };

/** Per host: `ok`, `not-held` (it has no such user) or why it did not answer. */
export type HostStatus = 'ok' | 'not-held' | HostFailure;

export type ScoreResult = {
  readonly id: string;
  /** Binary: P(positive). Multi-class: the probability of the segment's class. */
  readonly probability: number;
  /** Binary: the full logit. Multi-class: the segment class's. */
  readonly logit: number;
  /** Binary: `positive` or `negative`. Multi-class: the most probable class's label. */
  readonly segment: string;
  /** Multi-class only: every class's probability, `σ(z_c) / Σ_k σ(z_k)`, by label. */
  readonly probabilities?: Readonly<Record<string, number>>;
  /** Multi-class only: every class's logit, by label. */
  readonly logits?: Readonly<Record<string, number>>;
  /** True when every host's part is in the logit; false means a guest-only (or partial) fallback. */
  readonly complete: boolean;
  readonly hosts: Readonly<Record<string, HostStatus>>;
  /** Trees only: which model answered instead of the federated one when a host could not (`own-trees`: the guest's own columns alone). */
  readonly fallback?: 'own-trees';
  /** Present when something was scored in a way the caller may not expect (a category the model was not trained on). */
  readonly warnings?: readonly string[];
};

export type SegmentOptions = {
  /** Probability at or above which a visitor is in the `positive` segment. @default 0.5 */
  readonly threshold?: number | undefined;
  /** How errors and warnings name request k's features. @default `rows[k].features` */
  readonly where?: ((k: number) => string) | undefined;
};

/** Scores a batch of visitors: one call per host for the whole batch, all hosts in parallel. */
export async function scoreOnline(
  model: ServingModel,
  hosts: readonly HostClient[],
  requests: readonly ScoreRequest[],
  options: SegmentOptions = {},
): Promise<ScoreResult[]> {
  // Guest features are checked before anyone else is asked, so a bad request costs the hosts nothing.
  const outputs = model.outputs;
  const where = options.where ?? ((k: number) => `rows[${k}].features`);
  const warnings = requests.map((r, k) => checkFeatures(model.preprocess, r.features, where(k)));
  const own = requests.map((r, k) =>
    outputs === 1
      ? Float64Array.of(partialScore(model, r.features, where(k)))
      : partialScores(model, r.features, where(k)),
  );
  const pseudonyms = requests.map((r) => pseudonym(model.scoringKey, r.id));
  const answers = await Promise.all(
    hosts.map((h) => h.partials(pseudonyms).catch((): HostAnswer => ({ ok: false, failure: 'unavailable' }))),
  );
  const threshold = options.threshold ?? 0.5;
  return requests.map((r, k) => {
    const z = own[k] ?? new Float64Array(outputs);
    let complete = true;
    const status: Record<string, HostStatus> = {};
    hosts.forEach((h, i) => {
      const answer = answers[i];
      if (answer === undefined || !answer.ok) {
        status[h.name] = answer?.failure ?? 'unavailable';
        complete = false;
        return;
      }
      const u = answer.scores[k];
      if (u === null || u === undefined) {
        status[h.name] = 'not-held';
        complete = false;
        return;
      }
      // A host serving another shape of model (binary vs K classes, or trees) is another model.
      const parts = typeof u === 'number' ? [u] : u;
      if (typeof parts === 'string' || parts.length !== outputs) {
        status[h.name] = 'mismatch';
        complete = false;
        return;
      }
      status[h.name] = 'ok';
      for (let c = 0; c < outputs; c++) z[c] = (z[c] ?? 0) + (parts[c] ?? 0);
    });
    const noted = warnings[k] ?? [];
    const extra = noted.length === 0 ? {} : { warnings: noted };
    if (outputs === 1) {
      const logit = z[0] ?? 0;
      const probability = sigmoid(logit);
      return {
        id: r.id,
        probability,
        logit,
        segment: probability >= threshold ? 'positive' : 'negative',
        complete,
        hosts: status,
        ...extra,
      };
    }
    return { ...multiclassResult(r.id, z, model.classes, complete, status), ...extra };
  });
}

function multiclassResult(
  id: string,
  z: Float64Array,
  classes: readonly string[] | undefined,
  complete: boolean,
  hosts: Record<string, HostStatus>,
): ScoreResult {
  const p = classProbabilities(z);
  const labels = Array.from(z, (_, c) => classes?.[c] ?? String(c));
  const best = argmax(p);
  return {
    id,
    probability: p[best] ?? 0,
    logit: z[best] ?? 0,
    segment: labels[best] ?? '',
    complete,
    hosts,
    probabilities: Object.fromEntries(labels.map((l, c) => [l, p[c] ?? 0])),
    logits: Object.fromEntries(labels.map((l, c) => [l, z[c] ?? 0])),
  };
}
