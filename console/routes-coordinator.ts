/**
 * The coordinator's view (the platform partner): the registered parties and
 * whether each is connected now, the jobs with their phases, and each
 * failure with the failing node and its error code — all from one read-only
 * call, DescribeFederation, which answers the coordinator's own certificate
 * (coordinator/federation-view.ts).
 *
 * The page gets changes pushed as server-sent events. The coordinator has
 * no stream of party connections yet, so the console asks it once a second
 * over loopback and pushes only what changed; the browser never polls.
 */
import { AuthError } from '../protocol/errors.ts';
import type { FederationView, JobStatus } from '../runtime/admin-client.ts';
import type { tandem } from '../protocol/generated/tandem.js';
import { errorBody, openEventStream, type ConsoleRoute, type RouteContext } from './http.ts';

/** What the coordinator page shows. */
export type FederationPage = {
  readonly coordinator: string;
  readonly parties: readonly { readonly name: string; readonly registered: boolean; readonly connected: boolean }[];
  readonly jobs: readonly {
    readonly jobId: string;
    readonly name: string;
    readonly kind: string;
    readonly stage: string;
    readonly phase: string;
    readonly parties: readonly string[];
    readonly epoch: number;
    readonly maxEpochs: number;
    readonly message: string;
    readonly createdAtMs: number;
    readonly updatedAtMs: number;
    readonly failure: {
      readonly party: string;
      readonly phase: string;
      readonly code: string;
      readonly message: string;
    } | null;
  }[];
};

/** How often the console asks the coordinator while a page is open. @default 1000 */
export const FEDERATION_REFRESH_MS = 1000;

export function federationPage(view: FederationView): FederationPage {
  if (!view.full) {
    throw new AuthError(
      'AUTH_NOT_ALLOWED',
      `the coordinator answered "${view.caller}" without its parties and jobs: the console must run with the coordinator's own config and certificate`,
    );
  }
  // Decoded messages carry every field (protobufjs fills defaults); the generated types just do not say so.
  const failures = new Map(
    (view.failures as tandem.v1.JobFailure[]).map((f) => [
      f.jobId,
      { party: f.party, phase: f.phase, code: f.errorCode, message: f.message },
    ]),
  );
  return {
    coordinator: view.coordinator,
    parties: (view.parties as tandem.v1.PartyPresence[]).map((p) => ({
      name: p.name,
      registered: p.registered,
      connected: p.connected,
    })),
    jobs: (view.jobs as JobStatus[]).map((j) => ({
      jobId: j.jobId,
      name: j.name,
      kind: j.kind,
      stage: j.stage,
      phase: j.phase,
      parties: j.parties,
      epoch: j.epoch,
      maxEpochs: j.maxEpochs,
      message: j.message,
      createdAtMs: Number(j.createdAtMs),
      updatedAtMs: Number(j.updatedAtMs),
      failure: failures.get(j.jobId) ?? null,
    })),
  };
}

export function coordinatorRoutes(ctx: RouteContext, refreshMs = FEDERATION_REFRESH_MS): ConsoleRoute[] {
  const read = async (): Promise<FederationPage> =>
    federationPage(await (await ctx.node.admin()).describeFederation(200));
  return [
    { method: 'GET', url: '/api/federation', handler: read },
    {
      method: 'GET',
      url: '/api/federation/events',
      handler: (request, reply) => {
        const stream = openEventStream(request, reply);
        let last = '';
        let busy = false;
        const push = async (): Promise<void> => {
          if (busy) return;
          busy = true;
          try {
            const page = await read();
            const text = JSON.stringify(page);
            if (text !== last) stream.send('federation', page);
            last = text;
          } catch (error) {
            const body = errorBody(error);
            if (JSON.stringify(body) !== last) stream.send('failure', body);
            last = JSON.stringify(body);
          } finally {
            busy = false;
          }
        };
        void push();
        const timer = setInterval(() => void push(), refreshMs);
        stream.signal.addEventListener('abort', () => clearInterval(timer), { once: true });
      },
    },
  ];
}
