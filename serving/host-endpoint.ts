/**
 * A host's scoring routes. Its own operators (public port, gRPC) may ask
 * for the partial logit of one of its users by id, or of a feature vector,
 * and test membership in a ranked audience. The job's guest (peer port,
 * mTLS) may ask only for partial logits by pseudonym, and gets an answer
 * for every pseudonym, held or not (decoys: host-store.ts), unless this
 * host's operator chose to disclose membership. Every lookup of a user is
 * rate-limited per caller and stated in the serving audit log.
 */
import { z } from 'zod';
import type { DatasetConfig } from '../party/config.ts';
import { TandemError } from '../protocol/errors.ts';
import { callerName } from './access.ts';
import { rawValue, type Endpoint } from './endpoint.ts';
import { loadAudience, type AudienceEntry } from './batch-scoring.ts';
import { loadHostStore, type AnswerStore, type PartialLogits } from './host-store.ts';
import type { Route } from './http-server.ts';
import { lookupLimit, type LookupLimitOptions } from './lookup-limit.ts';
import type { ServeMetrics } from './metrics.ts';
import { packSplitBits } from './split-bits.ts';
import { isTrees, type ServableModel } from './trees-bundle.ts';
import { loadTreesHostStore } from './trees-host-store.ts';
import { splitBitsOf } from './trees-scoring.ts';
import { PARTIAL_SCORES_PATH } from './peer-client.ts';
import { pseudonym } from './pseudonym.ts';
import { checkFeatures } from './request-features.ts';
import { partialScore, partialScores } from './scorer.ts';
import type { ServingAudit } from './serving-audit.ts';

const hostScore = z.strictObject({
  id: z.string().min(1).max(512).optional(),
  features: z.record(z.string(), rawValue).optional(),
});
const partialRequest = z.strictObject({ jobId: z.string(), pseudonyms: z.array(z.string().max(64)).max(10_000) });

/** A host's answer for one user: `partialLogit` (binary), `partialLogits` (one per class), or a trees host's `splitBits`. */
const partialJson = (
  u: PartialLogits | string,
): { partialLogit: number } | { partialLogits: readonly number[] } | { splitBits: string } =>
  typeof u === 'string' ? { splitBits: u } : typeof u === 'number' ? { partialLogit: u } : { partialLogits: u };

export type HostEndpointOptions = {
  readonly model: ServableModel;
  readonly dataset: DatasetConfig;
  readonly audit: ServingAudit;
  readonly metrics: ServeMetrics;
  /** Key of the decoy PRF; undefined: disclose membership (null for a pseudonym this host does not hold). */
  readonly decoyKey: Uint8Array | undefined;
  readonly audienceFile: string | undefined;
  readonly lookups: LookupLimitOptions;
};

export async function hostEndpoint(options: HostEndpointOptions): Promise<Endpoint & { readonly rows: number }> {
  const { model, audit, metrics } = options;
  const self = model.manifest.party;
  const jobId = model.manifest.jobId;
  const store: AnswerStore<PartialLogits | string> = isTrees(model)
    ? await loadTreesHostStore(model, options.dataset, { decoyKey: options.decoyKey })
    : await loadHostStore(model, options.dataset, { decoyKey: options.decoyKey });
  const audience: ReadonlyMap<string, AudienceEntry> | undefined =
    options.audienceFile === undefined ? undefined : await loadAudience(options.audienceFile);
  const limit = lookupLimit(options.lookups);
  /** Admits `count` lookups by `caller` (or refuses them all) and states them in the audit log. */
  const lookup = (caller: string, route: string, pseudonyms: readonly string[]): void => {
    try {
      limit.take(caller, pseudonyms.length);
    } catch (error) {
      metrics.lookups(caller, 'rate-limited').add(pseudonyms.length);
      throw error;
    }
    metrics.lookups(caller, 'answered').add(pseudonyms.length);
    audit.lookups({ caller, callee: self, route, pseudonyms });
  };
  const score: Route['handle'] = (req) => {
    const body = req.body(hostScore);
    if (body.features !== undefined) {
      const warnings = checkFeatures(model.preprocess, body.features, 'features');
      const u = isTrees(model)
        ? packSplitBits(splitBitsOf(model)(body.features, 'features'))
        : model.outputs === 1
          ? partialScore(model, body.features, 'features')
          : Array.from(partialScores(model, body.features, 'features'));
      return { json: { ...partialJson(u), ...(warnings.length === 0 ? {} : { warnings }) } };
    }
    if (body.id === undefined)
      throw new TandemError('ARGUMENT_INVALID', 'neither id nor features', { publicMessage: 'send an id or features' });
    lookup(callerName(req.caller), 'score', [pseudonym(model.scoringKey, body.id)]);
    const u = store.byId(body.id);
    if (u === undefined)
      throw new TandemError('ARGUMENT_INVALID', 'unknown id', { publicMessage: "no such user in this party's data" });
    return { json: { id: body.id, ...partialJson(u) } };
  };
  const routes: Route[] = [
    { method: 'POST', path: '/v1/score', name: 'score', action: 'score', handle: score },
    {
      method: 'GET',
      path: '/v1/audience/:id',
      name: 'audience',
      action: 'audience',
      handle: (req) => {
        if (audience === undefined)
          throw new TandemError('ARGUMENT_INVALID', 'no audience', {
            publicMessage: 'this endpoint was started without --audience',
          });
        const id = req.params['id'] ?? '';
        lookup(callerName(req.caller), 'audience', [pseudonym(model.scoringKey, id)]);
        const entry = audience.get(id);
        return {
          json:
            entry === undefined ? { id, member: false } : { id, member: true, rank: entry.rank, score: entry.score },
        };
      },
    },
  ];
  const peerRoutes: Route[] = [
    {
      method: 'POST',
      path: PARTIAL_SCORES_PATH,
      name: 'partial-scores',
      action: 'partial-scores',
      handle: (req) => {
        const body = req.body(partialRequest);
        if (body.jobId !== jobId)
          throw new TandemError('JOB_STATE_CONFLICT', `partial scores asked for job ${body.jobId}`, {
            publicMessage: `this endpoint serves job ${jobId}, not ${body.jobId}`,
          });
        lookup(callerName(req.caller), 'partial-scores', body.pseudonyms);
        return { json: { jobId, scores: body.pseudonyms.map((p) => store.answer(p)) } };
      },
    },
  ];
  return { routes, peerRoutes, score, scoreBatch: undefined, rows: store.rows };
}
