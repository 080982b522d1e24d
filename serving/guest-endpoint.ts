/**
 * The guest's scoring routes: federated online scoring of one visitor or a
 * batch, for the guest's own operators. Each host is asked over mTLS, by
 * pseudonym, through one coalescing client per host; the calls sent are
 * stated in the serving audit log (aggregated per window, with the digest
 * of their pseudonyms), as the host states the calls it answers. An LR
 * model adds the hosts' partial logits (online-scoring.ts); a trees model
 * walks its trees with the hosts' split bits (trees-online-scoring.ts).
 */
import { z } from 'zod';
import type { NodeIdentity } from '../runtime/certs.ts';
import { rawValue, type Endpoint } from './endpoint.ts';
import { coalescing } from './host-batcher.ts';
import type { Route } from './http-server.ts';
import type { ServeMetrics } from './metrics.ts';
import { scoreOnline, type HostClient } from './online-scoring.ts';
import { isTrees, type ServableModel } from './trees-bundle.ts';
import { scoreTreesOnline } from './trees-online-scoring.ts';
import { absentHost, peerClient, type PeerClient } from './peer-client.ts';
import type { ServingAudit } from './serving-audit.ts';

const scoreRow = z.strictObject({
  id: z.string().min(1).max(512),
  features: z.record(z.string(), rawValue).optional(),
});
const scoreBatch = z.strictObject({ rows: z.array(scoreRow).min(1).max(1000) });

export type GuestEndpointOptions = {
  readonly model: ServableModel;
  readonly identity: NodeIdentity;
  /** Host name → `https://address:peerPort`; a host without one is always a fallback. */
  readonly hostEndpoints: Readonly<Record<string, string>>;
  readonly hostTimeoutMs: number;
  readonly threshold: number;
  readonly audit: ServingAudit;
  readonly metrics: ServeMetrics;
};

export function guestEndpoint(options: GuestEndpointOptions): Endpoint & { close(): void } {
  const { model, metrics, audit } = options;
  const self = model.manifest.party;
  const clients: PeerClient[] = [];
  const hosts: HostClient[] = model.hosts.map((name) => {
    const url = options.hostEndpoints[name];
    if (url === undefined) return absentHost(name);
    const latency = metrics.hostLatency(name);
    const client = peerClient({
      name,
      url,
      identity: options.identity,
      jobId: model.manifest.jobId,
      timeoutMs: options.hostTimeoutMs,
      observe: (outcome, seconds) => {
        metrics.hostCalls(name, outcome).add();
        latency.observe(seconds);
      },
      onSent: (pseudonyms) => audit.lookups({ caller: self, callee: name, route: 'partial-scores', pseudonyms }),
    });
    clients.push(client);
    return coalescing(client);
  });
  const completeRows = metrics.rowsScored(true);
  const fallbackRows = metrics.rowsScored(false);
  const score = async (rows: readonly z.infer<typeof scoreRow>[], where: (k: number) => string) => {
    const requests = rows.map((r) => ({ id: r.id, features: r.features ?? {} }));
    const segment = { threshold: options.threshold, where };
    const results = isTrees(model)
      ? await scoreTreesOnline(model, hosts, requests, segment)
      : await scoreOnline(model, hosts, requests, segment);
    let complete = 0;
    for (const r of results) if (r.complete) complete++;
    if (complete > 0) completeRows.add(complete);
    if (complete < results.length) fallbackRows.add(results.length - complete);
    return results;
  };
  const scoreOne: Route['handle'] = async (req) => ({ json: (await score([req.body(scoreRow)], () => 'features'))[0] });
  const scoreMany: Route['handle'] = async (req) => ({
    json: { results: await score(req.body(scoreBatch).rows, (k) => `rows[${k}].features`) },
  });
  return {
    routes: [
      { method: 'POST', path: '/v1/score', name: 'score', action: 'score', handle: scoreOne },
      { method: 'POST', path: '/v1/score-batch', name: 'score-batch', action: 'score', handle: scoreMany },
    ],
    peerRoutes: undefined,
    score: scoreOne,
    scoreBatch: scoreMany,
    close: () => {
      for (const c of clients) c.close();
    },
  };
}
