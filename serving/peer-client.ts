/**
 * The guest endpoint's client for a host endpoint: HTTPS with mutual TLS
 * under the federation CA, keep-alive connections, a per-call timeout. The
 * server must present the certificate of the host it is configured as (its
 * CN), whatever address it is reached at. Failures come back as values.
 */
import { Agent, request } from 'node:https';
import { createSecureContext, type PeerCertificate } from 'node:tls';
import type { NodeIdentity } from '../runtime/certs.ts';
import type { HostAnswer, HostClient } from './online-scoring.ts';

export type PeerClientOptions = {
  /** The host's node name (the CN its certificate must carry). */
  readonly name: string;
  /** `https://host:port` of its peer endpoint. */
  readonly url: string;
  readonly identity: NodeIdentity;
  readonly jobId: string;
  /** Give up on a call after this long. @default 250 */
  readonly timeoutMs?: number | undefined;
  /** Called with each call's outcome and duration, for metrics. */
  readonly observe?: ((outcome: string, seconds: number) => void) | undefined;
  /** Called with the pseudonyms of each call as it is sent, for the audit log. */
  readonly onSent?: ((pseudonyms: readonly string[]) => void) | undefined;
};

export type PeerClient = HostClient & { close(): void };

export const PARTIAL_SCORES_PATH = '/v1/partial-scores';

export function peerClient(options: PeerClientOptions): PeerClient {
  const url = new URL(PARTIAL_SCORES_PATH, options.url);
  const timeoutMs = options.timeoutMs ?? 250;
  const agent = new Agent({
    keepAlive: true,
    maxSockets: 64,
    // One TLS context for every connection, built once: given ca/cert/key instead, each new connection parses
    // them again, and every request hashes the three PEMs into the agent's pool key.
    secureContext: createSecureContext({
      ca: options.identity.caPem,
      cert: options.identity.certPem,
      key: options.identity.keyPem,
    }),
    // Peers are named by certificate CN, not by the address they are dialled at.
    checkServerIdentity: (_host: string, cert: PeerCertificate) =>
      cert.subject.CN === options.name
        ? undefined
        : new Error(`expected ${options.name}'s certificate, got CN=${String(cert.subject.CN)}`),
  });
  // The URL is parsed once, not on every request.
  const target = {
    protocol: url.protocol,
    hostname: url.hostname.replace(/^\[|\]$/g, ''),
    port: url.port === '' ? 443 : Number(url.port),
    path: url.pathname,
    method: 'POST',
    agent,
  } as const;
  const call = (pseudonyms: readonly string[]): Promise<HostAnswer> =>
    new Promise((resolve) => {
      const started = performance.now();
      let settled = false;
      const done = (answer: HostAnswer, outcome: string): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        options.observe?.(outcome, (performance.now() - started) / 1000);
        resolve(answer);
      };
      const body = JSON.stringify({ jobId: options.jobId, pseudonyms });
      const req = request(
        { ...target, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('error', () => done({ ok: false, failure: 'unavailable' }, 'unavailable'));
          res.on('end', () => {
            if (res.statusCode !== 200) {
              const failure = res.statusCode === 409 ? 'mismatch' : res.statusCode === 429 ? 'rate-limited' : 'refused';
              done({ ok: false, failure }, failure);
              return;
            }
            try {
              const parsed = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
                jobId?: unknown;
                scores?: unknown;
              };
              const scores = parsed.scores;
              if (parsed.jobId !== options.jobId) return done({ ok: false, failure: 'mismatch' }, 'mismatch');
              if (!Array.isArray(scores) || scores.length !== pseudonyms.length || !scores.every(isPartial))
                return done({ ok: false, failure: 'refused' }, 'refused');
              done({ ok: true, scores: scores as (number | number[] | string | null)[] }, 'ok');
            } catch {
              done({ ok: false, failure: 'refused' }, 'refused');
            }
          });
        },
      );
      // A late answer is still read and dropped, so its keep-alive connection (and TLS session) survives.
      const timer = setTimeout(() => done({ ok: false, failure: 'timeout' }, 'timeout'), timeoutMs);
      req.on('error', () => done({ ok: false, failure: 'unavailable' }, 'unavailable'));
      req.end(body);
      options.onSent?.(pseudonyms);
    });
  return { name: options.name, partials: call, close: () => agent.destroy() };
}

/** A partial logit, K of them (multi-class), a trees host's packed split bits, or null (not held). */
function isPartial(s: unknown): boolean {
  return (
    s === null ||
    typeof s === 'number' ||
    typeof s === 'string' ||
    (Array.isArray(s) && s.every((v) => typeof v === 'number'))
  );
}

/** A host with no endpoint configured: every call falls back at once. */
export function absentHost(name: string): HostClient {
  return { name, partials: () => Promise.resolve({ ok: false, failure: 'unavailable' }) };
}
