/**
 * Federated online scoring at the guest (cold start): the guest scores its
 * own part from the request's features, asks every host for its partial
 * logits by pseudonym (never the id), adds them and applies the sigmoid.
 * A host that fails, times out or does not hold the user is data, not an
 * exception: the answer falls back to the parts that did arrive and says so.
 * Pure apart from the injected host clients.
 */
import type { RawRow } from '../party/data/preprocess.ts';
import type { ServingModel } from './model-bundle.ts';
import { pseudonym } from './pseudonym.ts';
import { partialScore, sigmoid } from './scorer.ts';

/** Why a host's part is missing from an answer. */
export type HostFailure = 'timeout' | 'unavailable' | 'refused' | 'mismatch';

/** What one call to a host endpoint returned: a partial logit per pseudonym (null: the host does not hold that user). */
export type HostAnswer = { readonly ok: true; readonly scores: readonly (number | null)[] } | { readonly ok: false; readonly failure: HostFailure };

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
  readonly probability: number;
  readonly logit: number;
  readonly segment: string;
  /** True when every host's part is in the logit; false means a guest-only (or partial) fallback. */
  readonly complete: boolean;
  readonly hosts: Readonly<Record<string, HostStatus>>;
};

export type SegmentOptions = {
  /** Probability at or above which a visitor is in the `positive` segment. @default 0.5 */
  readonly threshold?: number | undefined;
};

/** Scores a batch of visitors: one call per host for the whole batch, all hosts in parallel. */
export async function scoreOnline(model: ServingModel, hosts: readonly HostClient[], requests: readonly ScoreRequest[], options: SegmentOptions = {}): Promise<ScoreResult[]> {
  // Guest features are checked before anyone else is asked, so a bad request costs the hosts nothing.
  const own = requests.map((r, k) => partialScore(model, r.features, `rows[${k}].features`));
  const pseudonyms = requests.map((r) => pseudonym(model.scoringKey, r.id));
  const answers = await Promise.all(hosts.map((h) => h.partials(pseudonyms).catch((): HostAnswer => ({ ok: false, failure: 'unavailable' }))));
  const threshold = options.threshold ?? 0.5;
  return requests.map((r, k) => {
    let logit = own[k] ?? 0;
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
      status[h.name] = 'ok';
      logit += u;
    });
    const probability = sigmoid(logit);
    return { id: r.id, probability, logit, segment: probability >= threshold ? 'positive' : 'negative', complete, hosts: status };
  });
}
