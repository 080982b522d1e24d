import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuthError } from '../protocol/errors.ts';
import { createCertificateAuthority, initCertificates, issueCertificate } from '../runtime/certificate-authority.ts';
import { ConsoleAuth, crossSiteProblem, readCookie, SESSION_COOKIE, sessionCookie, type RequestFacts } from './auth.ts';

let dir: string;
let caPem: string;
const der = async (name: string): Promise<Uint8Array> =>
  new Uint8Array(
    Buffer.from((await readFile(join(dir, `${name}.crt`), 'utf8')).replace(/-----[^-]+-----|\s/g, ''), 'base64'),
  );

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tandem-console-auth-'));
  await initCertificates({ outDir: dir, parties: ['brand', 'partner'] });
  caPem = await readFile(join(dir, 'ca.crt'), 'utf8');
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const refused = (run: () => unknown): AuthError => {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(AuthError);
    return error as AuthError;
  }
  throw new Error('expected a refusal');
};

describe('ConsoleAuth', () => {
  it('exchanges a login token for a session exactly once', () => {
    const auth = new ConsoleAuth({ caPem });
    const token = auth.issueLoginToken();

    const session = auth.login(token);

    expect(auth.authenticate(`${SESSION_COOKIE}=${session}`, undefined)).toEqual({ via: 'session' });
    const again = refused(() => auth.login(token));
    expect(again.code).toBe('AUTH_SESSION_REQUIRED');
    expect(again.message).toMatch(/each link works once/);
    expect(refused(() => auth.login('made-up')).code).toBe('AUTH_SESSION_REQUIRED');
  });

  it('refuses a session after its lifetime and after logout', () => {
    let now = 1_000_000;
    const auth = new ConsoleAuth({ caPem, sessionTtlMs: 60_000, now: () => now });
    const first = auth.login(auth.issueLoginToken());
    const second = auth.login(auth.issueLoginToken());

    now += 59_000;
    expect(auth.authenticate(`a=b; ${SESSION_COOKIE}=${first}`, undefined).via).toBe('session');
    auth.logout(`${SESSION_COOKIE}=${second}`);
    expect(refused(() => auth.authenticate(`${SESSION_COOKIE}=${second}`, undefined)).code).toBe(
      'AUTH_SESSION_REQUIRED',
    );
    now += 2_000;
    expect(refused(() => auth.authenticate(`${SESSION_COOKIE}=${first}`, undefined)).code).toBe(
      'AUTH_SESSION_REQUIRED',
    );
  });

  it('lets in a client certificate of an allowed name from the federation CA, and no other', async () => {
    const auth = new ConsoleAuth({ caPem, clientNames: ['brand'] });
    const other = await createCertificateAuthority({
      commonName: 'another CA',
      notBefore: new Date(Date.now() - 3600_000),
      notAfter: new Date(Date.now() + 3600_000),
    });
    const forged = await issueCertificate({
      caCertPem: other.certPem,
      caKeyPem: other.keyPem,
      name: 'brand',
      notBefore: new Date(Date.now() - 3600_000),
      notAfter: new Date(Date.now() + 3600_000),
    });

    expect(auth.authenticate(undefined, await der('brand'))).toEqual({ via: 'certificate', name: 'brand' });
    expect(refused(() => auth.authenticate(undefined, undefined)).code).toBe('AUTH_SESSION_REQUIRED');
    expect(refused(() => auth.authenticate(undefined, new Uint8Array())).code).toBe('AUTH_SESSION_REQUIRED');
    expect(
      refused(() =>
        auth.authenticate(
          undefined,
          new Uint8Array(Buffer.from(forged.certPem.replace(/-----[^-]+-----|\s/g, ''), 'base64')),
        ),
      ).code,
    ).toBe('AUTH_SESSION_REQUIRED');
  });

  it('refuses a partner certificate, which the federation CA signed but is not allowed here', async () => {
    const auth = new ConsoleAuth({ caPem, clientNames: ['brand'] });
    const partner = await der('partner');
    expect(refused(() => auth.authenticate(undefined, partner)).code).toBe('AUTH_SESSION_REQUIRED');
  });
});

describe('cookies', () => {
  it('are HttpOnly, Secure, SameSite=Strict and host-only', () => {
    expect(sessionCookie('abc', 3_600_000)).toBe(
      '__Host-tandem-console=abc; Path=/; Secure; HttpOnly; SameSite=Strict; Max-Age=3600',
    );
    expect(readCookie('x=1; __Host-tandem-console=abc; y=2', SESSION_COOKIE)).toBe('abc');
    expect(readCookie('x=1', SESSION_COOKIE)).toBeUndefined();
    expect(readCookie(undefined, SESSION_COOKIE)).toBeUndefined();
  });
});

describe('crossSiteProblem', () => {
  const same: RequestFacts = {
    method: 'POST',
    host: 'brand:8443',
    origin: 'https://brand:8443',
    fetchSite: 'same-origin',
    csrfHeader: '1',
  };

  it("accepts the console's own POSTs and GETs, and requests from outside a browser", () => {
    expect(crossSiteProblem(same)).toBeUndefined();
    expect(crossSiteProblem({ ...same, method: 'GET', origin: undefined, csrfHeader: undefined })).toBeUndefined();
    expect(
      crossSiteProblem({ ...same, method: 'GET', origin: undefined, fetchSite: undefined, csrfHeader: undefined }),
    ).toBeUndefined();
  });

  it('refuses what another origin sends, even on the same host', () => {
    expect(crossSiteProblem({ ...same, origin: 'https://evil.example' })).toMatch(
      /Origin \(https:\/\/evil.example\) is not this console/,
    );
    expect(crossSiteProblem({ ...same, origin: 'https://brand:9000', fetchSite: undefined })).toMatch(
      /is not this console/,
    );
    expect(crossSiteProblem({ ...same, origin: undefined, fetchSite: undefined })).toMatch(/Origin \(none\)/);
    expect(crossSiteProblem({ ...same, csrfHeader: undefined })).toMatch(/x-tandem-console/);
    expect(crossSiteProblem({ ...same, method: 'GET', fetchSite: 'same-site' })).toMatch(/same-site page/);
    expect(crossSiteProblem({ ...same, method: 'GET', fetchSite: 'cross-site' })).toMatch(/cross-site page/);
  });
});
