/**
 * Who may call what on a scoring endpoint: one authorisation function that
 * the HTTP adapter and the gRPC adapter both call, so the two APIs cannot
 * drift apart.
 *
 * The rule, from the threat model: a party's model answers chosen inputs
 * only to that party's own operators. Anyone who can score arbitrary
 * feature vectors can solve for the weights (a linear model needs one call
 * per weight), and anyone who can score a raw id learns that user's
 * partial; so
 *
 * - scoring, model info, metrics and audience lookups answer operators
 *   only: a bearer token from the endpoint's token file, or a federation
 *   certificate named by this node (its own name and `--allow-caller`
 *   names, never another party of the job);
 * - a host's peer route answers the job's guest only, by pseudonym, and
 *   nothing else is served on the peer port;
 * - health is open, and says only whether the endpoint is up.
 *
 * Pure: no I/O.
 */
import { TandemError } from '../protocol/errors.ts';

/** Where a request came in. */
export type Edge = 'public' | 'peer' | 'grpc';

/** Who is calling, as the edge authenticated them. */
export type Caller =
  | { readonly kind: 'anonymous' }
  /** A bearer token from the endpoint's token file; `name` identifies the token without revealing it. */
  | { readonly kind: 'token'; readonly name: string }
  /** A client certificate verified against the federation CA; `name` is its CN. */
  | { readonly kind: 'certificate'; readonly name: string };

/** What a route does, for authorisation. */
export type Action = 'health' | 'model-info' | 'metrics' | 'score' | 'audience' | 'partial-scores';

export type AccessPolicy = {
  /** This node's name (its certificate's CN). */
  readonly self: string;
  readonly jobId: string;
  /** The job's guest: the only caller of a host's peer route. */
  readonly guest: string;
  /** Every party of the job, with its role. */
  readonly parties: readonly { readonly name: string; readonly role: string }[];
  /** Certificate names that are this node's operators: `self` and the `--allow-caller` names. */
  readonly operators: ReadonlySet<string>;
};

/** A caller's name for logs, metrics, rate limits and the audit log. */
export function callerName(caller: Caller): string {
  return caller.kind === 'anonymous' ? 'anonymous' : caller.name;
}

/**
 * The operators of an endpoint: this node and the names allowed with `--allow-caller`.
 * @throws TandemError ARGUMENT_INVALID naming an allowed name that is another party of the job
 */
export function accessPolicy(
  model: {
    readonly self: string;
    readonly jobId: string;
    readonly guest: string;
    readonly parties: AccessPolicy['parties'];
  },
  allowCallers: readonly string[],
): AccessPolicy {
  for (const name of allowCallers) {
    const party = model.parties.find((p) => p.name === name);
    if (party !== undefined && name !== model.self) {
      throw new TandemError(
        'ARGUMENT_INVALID',
        `--allow-caller ${name}: ${name} is the ${party.role} of job ${model.jobId}; another party of the job may not score on this endpoint, because with chosen inputs it could extract ${model.self}'s part of the model (see docs/threat-model.md, "Serving"). Fix: remove --allow-caller ${name}; ${party.role === 'guest' ? `the guest reaches a host through its peer port, which needs no --allow-caller` : `a host is never a caller of the guest's endpoint`}`,
      );
    }
  }
  return Object.freeze({ ...model, operators: new Set([model.self, ...allowCallers]) });
}

/**
 * Lets a call through, or refuses it with the catalogued error.
 * `what` names the call in the refusal (a route or an RPC name).
 * @throws TandemError AUTH_REQUIRED (no credentials), AUTH_NOT_ALLOWED (credentials, but not for this)
 */
export function authorize(policy: AccessPolicy, edge: Edge, caller: Caller, action: Action, what: string): void {
  if (action === 'health') return;
  if (action === 'partial-scores' || edge === 'peer') {
    if (
      edge === 'peer' &&
      action === 'partial-scores' &&
      caller.kind === 'certificate' &&
      caller.name === policy.guest &&
      policy.guest !== policy.self
    )
      return;
    const who = callerName(caller);
    throw new TandemError('AUTH_NOT_ALLOWED', `${who} called ${what} on the ${edge} edge`, {
      publicMessage:
        action === 'partial-scores'
          ? `only ${policy.guest}, the guest of job ${policy.jobId}, may ask for partial scores, on the peer port`
          : `the peer port serves only partial scores to ${policy.guest}`,
    });
  }
  if (caller.kind === 'token') return;
  if (caller.kind === 'anonymous') {
    throw new TandemError('AUTH_REQUIRED', `unauthenticated ${what}`, {
      publicMessage:
        edge === 'grpc'
          ? 'a client certificate is required'
          : `${what} needs authentication: send "Authorization: Bearer <token>" with a token from this endpoint's token file`,
    });
  }
  if (policy.operators.has(caller.name)) return;
  const party = policy.parties.find((p) => p.name === caller.name);
  throw new TandemError(
    'AUTH_NOT_ALLOWED',
    `${caller.name} called ${what}, operators: ${[...policy.operators].join(', ')}`,
    {
      publicMessage:
        party === undefined
          ? `${caller.name} may not call ${what} on this endpoint; its operator can allow it with --allow-caller ${caller.name}`
          : `${caller.name} may not call ${what} on this endpoint: it is the ${party.role} of job ${policy.jobId}, and a party's model answers chosen inputs only to that party's own operators`,
    },
  );
}
