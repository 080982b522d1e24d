import { describe, expect, it } from 'vitest';
import { TandemError } from '../protocol/errors.ts';
import { accessPolicy, authorize, type Action, type Caller, type Edge } from './access.ts';

const parties = [
  { name: 'brand', role: 'guest' },
  { name: 'partner', role: 'host' },
];
const atHost = accessPolicy({ self: 'partner', jobId: 'job-1', guest: 'brand', parties }, ['dashboard']);
const atGuest = accessPolicy({ self: 'brand', jobId: 'job-1', guest: 'brand', parties }, []);

const token: Caller = { kind: 'token', name: 'token-abc' };
const anonymous: Caller = { kind: 'anonymous' };
const cert = (name: string): Caller => ({ kind: 'certificate', name });

/** The error code of a refusal, or 'allowed'. */
function outcome(policy: ReturnType<typeof accessPolicy>, edge: Edge, caller: Caller, action: Action): string {
  try {
    authorize(policy, edge, caller, action, action);
    return 'allowed';
  } catch (error) {
    return (error as TandemError).code;
  }
}

describe('who may call a scoring endpoint', () => {
  it('lets operators (a token, this node, an allowed name) score, read model info and metrics, and look users up', () => {
    for (const action of ['score', 'model-info', 'metrics', 'audience'] as const) {
      expect(outcome(atHost, 'public', token, action)).toBe('allowed');
      expect(outcome(atHost, 'grpc', cert('partner'), action)).toBe('allowed');
      expect(outcome(atHost, 'grpc', cert('dashboard'), action)).toBe('allowed');
    }
  });

  it('refuses the other parties of the job, other certificates and anonymous callers everything but health', () => {
    for (const action of ['score', 'model-info', 'metrics', 'audience'] as const) {
      expect(outcome(atHost, 'grpc', cert('brand'), action)).toBe('AUTH_NOT_ALLOWED');
      expect(outcome(atGuest, 'grpc', cert('partner'), action)).toBe('AUTH_NOT_ALLOWED');
      expect(outcome(atHost, 'grpc', cert('auditor'), action)).toBe('AUTH_NOT_ALLOWED');
      expect(outcome(atHost, 'public', anonymous, action)).toBe('AUTH_REQUIRED');
    }
    for (const caller of [anonymous, token, cert('brand'), cert('auditor')])
      expect(outcome(atHost, 'public', caller, 'health')).toBe('allowed');
  });

  it("answers partial scores only to the job's guest, only on the peer edge, and serves nothing else there", () => {
    expect(outcome(atHost, 'peer', cert('brand'), 'partial-scores')).toBe('allowed');
    expect(outcome(atHost, 'peer', cert('partner'), 'partial-scores')).toBe('AUTH_NOT_ALLOWED');
    expect(outcome(atHost, 'peer', cert('dashboard'), 'partial-scores')).toBe('AUTH_NOT_ALLOWED');
    expect(outcome(atHost, 'public', token, 'partial-scores')).toBe('AUTH_NOT_ALLOWED');
    expect(outcome(atHost, 'grpc', cert('brand'), 'partial-scores')).toBe('AUTH_NOT_ALLOWED');
    expect(outcome(atHost, 'peer', cert('brand'), 'score')).toBe('AUTH_NOT_ALLOWED');
    // A guest has no peer route: even its own name cannot ask itself.
    expect(outcome(atGuest, 'peer', cert('brand'), 'partial-scores')).toBe('AUTH_NOT_ALLOWED');
  });

  it('tells a refused party why it can never be allowed, and another certificate how it could be', () => {
    expect(() => authorize(atGuest, 'grpc', cert('partner'), 'score', 'Score')).toThrow(
      expect.objectContaining({
        publicMessage:
          "partner may not call Score on this endpoint: it is the host of job job-1, and a party's model answers chosen inputs only to that party's own operators",
      }) as unknown,
    );
    expect(() => authorize(atGuest, 'grpc', cert('auditor'), 'score', 'Score')).toThrow(
      expect.objectContaining({
        publicMessage:
          'auditor may not call Score on this endpoint; its operator can allow it with --allow-caller auditor',
      }) as unknown,
    );
  });

  it("refuses another party of the job as an allowed caller, naming it and why, and accepts this node's own name", () => {
    expect(() => accessPolicy({ self: 'brand', jobId: 'job-1', guest: 'brand', parties }, ['partner'])).toThrow(
      TandemError,
    );
    expect(() => accessPolicy({ self: 'brand', jobId: 'job-1', guest: 'brand', parties }, ['partner'])).toThrow(
      /^--allow-caller partner: partner is the host of job job-1; another party of the job may not score on this endpoint, because with chosen inputs it could extract brand's part of the model/,
    );
    expect(() => accessPolicy({ self: 'partner', jobId: 'job-1', guest: 'brand', parties }, ['brand'])).toThrow(
      /brand is the guest of job job-1.*the guest reaches a host through its peer port, which needs no --allow-caller/,
    );
    expect([
      ...accessPolicy({ self: 'brand', jobId: 'job-1', guest: 'brand', parties }, ['brand', 'admin']).operators,
    ]).toEqual(['brand', 'admin']);
  });
});
