/**
 * What a role's scoring endpoint contributes to `tandem serve` (the guest's
 * in guest-endpoint.ts, a host's in host-endpoint.ts), and the request
 * schemas both edges validate with: the HTTP routes and gRPC call the same
 * handlers with the same zod schemas, so they refuse the same requests
 * with the same text.
 */
import { z } from 'zod';
import type { Route } from './http-server.ts';

/** A raw feature value as JSON carries it (null: missing). */
export const rawValue = z.union([z.string(), z.number(), z.boolean(), z.null()]);

export type Endpoint = {
  /** Role-specific routes of the public port (scoring, audience). */
  readonly routes: readonly Route[];
  /** Host only: the routes of the mTLS peer port. */
  readonly peerRoutes: readonly Route[] | undefined;
  /** The handler behind gRPC Score (the public `POST /v1/score`). */
  readonly score: Route['handle'];
  /** The handler behind gRPC ScoreBatch; undefined where there is no batch route (hosts). */
  readonly scoreBatch: Route['handle'] | undefined;
};
