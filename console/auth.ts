/**
 * Who may use a console, decided per request: a session from a one-time
 * login link (as Jupyter does), or a client certificate from the federation
 * CA whose name is allowed. And what a request must look like to count as
 * coming from the console's own pages (CSRF): the session cookie is
 * SameSite=Strict, POSTs must carry the console's origin and its header, and
 * API requests a browser labels as from another site are refused.
 *
 * Login tokens and session ids are 32 random bytes; only their SHA-256 is
 * kept, so a memory dump of the table cannot be replayed, and a token is
 * deleted the moment it is exchanged.
 */
import { createHash, randomBytes } from 'node:crypto';
import { AuthError } from '../protocol/errors.ts';
import { verifyPeerCertificate } from '../runtime/certs.ts';

/** `__Host-`: the browser only accepts it Secure, for path /, without a Domain, so no sibling host can set it. */
export const SESSION_COOKIE = '__Host-tandem-console';
/** The header the console's scripts send with every POST; another origin cannot send it without a CORS preflight, which is never granted. */
export const CSRF_HEADER = 'x-tandem-console';

export type ConsoleAuthOptions = {
  /** The federation CA (PEM) a client certificate must chain to. */
  readonly caPem: string;
  /** Certificate names allowed in without a session. @default [] */
  readonly clientNames?: readonly string[] | undefined;
  /** How long a session lasts after login. @default 43200000 (12 h) */
  readonly sessionTtlMs?: number | undefined;
  /** @default Date.now */
  readonly now?: (() => number) | undefined;
};

/** Who a request is: a session, or a client certificate's node name. */
export type Principal = { readonly via: 'session' } | { readonly via: 'certificate'; readonly name: string };

const hash = (secret: string): string => createHash('sha256').update(secret).digest('hex');
const secret = (): string => randomBytes(32).toString('base64url');

export class ConsoleAuth {
  readonly #tokens = new Set<string>();
  readonly #sessions = new Map<string, number>();
  readonly #o: {
    readonly caPem: string;
    readonly clientNames: readonly string[];
    readonly sessionTtlMs: number;
    readonly now: () => number;
  };

  constructor(options: ConsoleAuthOptions) {
    this.#o = {
      clientNames: options.clientNames ?? [],
      sessionTtlMs: options.sessionTtlMs ?? 12 * 3600_000,
      now: options.now ?? Date.now,
      caPem: options.caPem,
    };
  }

  get sessionTtlMs(): number {
    return this.#o.sessionTtlMs;
  }

  /** A fresh one-time login token (for the link printed at start, or after SIGHUP). */
  issueLoginToken(): string {
    const token = secret();
    this.#tokens.add(hash(token));
    return token;
  }

  /**
   * Exchanges a login token for a new session id; the token is spent.
   * @throws AuthError AUTH_SESSION_REQUIRED for an unknown or already used token
   */
  login(token: string): string {
    const key = hash(token);
    if (!this.#tokens.delete(key)) {
      throw new AuthError(
        'AUTH_SESSION_REQUIRED',
        'this login link is not valid: each link works once. Fix: send the console SIGHUP for a new link, or start it again',
        { publicMessage: 'this login link was already used or is not valid; ask the console for a new one' },
      );
    }
    const session = secret();
    this.#prune();
    this.#sessions.set(hash(session), this.#o.now() + this.#o.sessionTtlMs);
    return session;
  }

  logout(cookieHeader: string | undefined): void {
    const id = readCookie(cookieHeader, SESSION_COOKIE);
    if (id !== undefined) this.#sessions.delete(hash(id));
  }

  /**
   * The principal of a request: its session cookie, else its TLS client certificate.
   * @param peerCertificateDer - the DER of the client certificate TLS verified against the CA, if any
   * @throws AuthError AUTH_SESSION_REQUIRED when neither is valid
   */
  authenticate(cookieHeader: string | undefined, peerCertificateDer: Uint8Array | undefined): Principal {
    const id = readCookie(cookieHeader, SESSION_COOKIE);
    const expires = id === undefined ? undefined : this.#sessions.get(hash(id));
    if (expires !== undefined && expires > this.#o.now()) return { via: 'session' };
    if (peerCertificateDer !== undefined && peerCertificateDer.byteLength > 0) {
      let name: string | undefined;
      try {
        name = verifyPeerCertificate(peerCertificateDer, this.#o.caPem, new Date(this.#o.now()));
      } catch {
        name = undefined;
      }
      if (name !== undefined && this.#o.clientNames.includes(name)) return { via: 'certificate', name };
    }
    throw new AuthError('AUTH_SESSION_REQUIRED', 'no console session: open the login link the console printed');
  }

  #prune(): void {
    const now = this.#o.now();
    for (const [key, expires] of this.#sessions) if (expires <= now) this.#sessions.delete(key);
  }
}

/** The Set-Cookie value of a new session. */
export function sessionCookie(id: string, maxAgeMs: number): string {
  return `${SESSION_COOKIE}=${id}; Path=/; Secure; HttpOnly; SameSite=Strict; Max-Age=${Math.floor(maxAgeMs / 1000)}`;
}

/** The Set-Cookie value that removes the session cookie. */
export const CLEAR_SESSION_COOKIE = `${SESSION_COOKIE}=; Path=/; Secure; HttpOnly; SameSite=Strict; Max-Age=0`;

/** One cookie's value from a Cookie header. */
export function readCookie(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const at = part.indexOf('=');
    if (at > 0 && part.slice(0, at).trim() === name) return part.slice(at + 1).trim();
  }
  return undefined;
}

/** The request headers the cross-site checks read. */
export type RequestFacts = {
  readonly method: string;
  readonly host: string | undefined;
  readonly origin: string | undefined;
  readonly fetchSite: string | undefined;
  readonly csrfHeader: string | undefined;
};

/**
 * Why a request is refused as cross-site, or undefined. API calls a browser
 * labels as from another origin are refused whatever their method; a POST
 * must also name this console as its Origin and carry {@link CSRF_HEADER}.
 */
export function crossSiteProblem(r: RequestFacts): string | undefined {
  if (r.fetchSite !== undefined && r.fetchSite !== 'same-origin' && r.fetchSite !== 'none')
    return `the browser says this request came from a ${r.fetchSite} page`;
  if (r.method === 'GET' || r.method === 'HEAD') return undefined;
  if (r.host === undefined || r.origin !== `https://${r.host}`)
    return `its Origin (${r.origin ?? 'none'}) is not this console (https://${r.host ?? '?'})`;
  if (r.csrfHeader !== '1') return `it lacks the ${CSRF_HEADER} header the console's pages send`;
  return undefined;
}
