/**
 * The console's promises to its node's operator, tested over real HTTPS:
 * it shows the node's own certificate, answers nothing without a session
 * (every route), a login link works once, requests from another origin are
 * refused, and only an allowed client certificate replaces the session.
 * The coordinator is not running: pages that need it say so, the rest work.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { initCertificates } from '../runtime/certificate-authority.ts';
import { silentLogger } from '../runtime/logger.ts';
import { startConsole, type ConsoleServer } from './server.ts';
import { consoleRequest, sessionCookieOf, type ConsoleRequest, type ConsoleResponse } from '../test/support/console.ts';

let dir: string;
let server: ConsoleServer;
let cookie: string;
const certs = (n: string): { ca: string; cert: string; key: string } => ({
  ca: join(dir, 'certs', 'ca.crt'),
  cert: join(dir, 'certs', `${n}.crt`),
  key: join(dir, 'certs', `${n}.key`),
});
const get = (path: string, r: ConsoleRequest = {}): Promise<ConsoleResponse> =>
  consoleRequest(server.port, 'brand', certs('brand').ca, path, r);
const own = (): Record<string, string> => ({
  cookie,
  origin: `https://brand:${server.port}`,
  'x-tandem-console': '1',
  'sec-fetch-site': 'same-origin',
});

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tandem-console-'));
  await initCertificates({ outDir: join(dir, 'certs'), parties: ['brand', 'partner'] });
  await writeFile(join(dir, 'members.csv'), 'id,y,age\nu1,1,30\nu2,0,41\nu3,1,\n');
  await writeFile(join(dir, 'broken.csv'), 'id,y,age\nu1,1,30\nu2,0,old\n');
  const config = join(dir, 'brand.yaml');
  await writeFile(
    config,
    stringify({
      node: {
        name: 'brand',
        coordinator: '127.0.0.1:1',
        coordinatorName: 'coordinator',
        dataDir: join(dir, 'brand'),
        certs: certs('brand'),
      },
      datasets: {
        members: { file: 'members.csv', id: 'id', label: { column: 'y' }, features: 'all' },
        broken: { file: 'broken.csv', id: 'id', label: { column: 'y' }, features: 'all' },
      },
    }),
  );
  server = await startConsole({ config, log: silentLogger() });
  cookie = sessionCookieOf(await get(new URL(server.loginLink()).pathname + new URL(server.loginLink()).search));
}, 30_000);

afterAll(async () => {
  await server?.close();
  await rm(dir, { recursive: true, force: true });
});

/** Every route with its parameters filled in. */
const concrete = (url: string): string =>
  url
    .replace(':id', 'job-0123456789')
    .replace(':job', 'job-0123456789')
    .replace(':name', 'members')
    .replace(':file', 'app.js') + (url.endsWith('/records') ? '?step=psi-guest-set' : '');

describe('tandem console over HTTPS', () => {
  it("serves the node's own certificate, issued by the federation CA, valid for the node's name", async () => {
    const r = await get('/api/whoami', { headers: own() });
    expect(r.status).toBe(200);
    expect(r.peer.subject.CN).toBe('brand');
    expect(r.peer.issuer.CN).toMatch(/^Tandem dev CA/);
    expect(r.json).toMatchObject({ node: 'brand', kind: 'party' });
    expect(server.origin).toBe(`https://brand:${server.port}`);
  });

  it('answers 401 on every route without a session, the login page included only with a valid token', async () => {
    expect(server.routes.length).toBeGreaterThan(15);
    for (const route of server.routes) {
      const r = await get(concrete(route.url), {
        method: route.method,
        ...(route.method === 'POST'
          ? {
              body: { specYaml: 'name: x' },
              headers: { origin: `https://brand:${server.port}`, 'x-tandem-console': '1' },
            }
          : {}),
      });
      expect(r.status, `${route.method} ${route.url}`).toBe(401);
      expect(r.headers['set-cookie'], route.url).toBeUndefined();
      if (route.url !== '/' && route.url !== '/login')
        expect((r.json as { error: { code: string } }).error.code, route.url).toBe('AUTH_SESSION_REQUIRED');
    }
    const unknown = await get('/api/no-such-route');
    expect(unknown.status).toBe(401);
  });

  it('shows a browser without a session a page that says how to sign in', async () => {
    const r = await get('/', { headers: { accept: 'text/html' } });
    expect(r.status).toBe(401);
    expect(r.headers['content-type']).toMatch(/text\/html/);
    expect(r.text).toContain('Open the login link');
  });

  it('exchanges a login link for a strict, secure, HttpOnly session cookie once; the same link is then refused', async () => {
    const link = new URL(server.loginLink());
    const first = await get(link.pathname + link.search);
    expect(first.status).toBe(303);
    expect(first.headers.location).toBe('/');
    const set = String(first.headers['set-cookie']);
    expect(set).toMatch(/^__Host-tandem-console=[\w-]{43}; Path=\/; Secure; HttpOnly; SameSite=Strict; Max-Age=43200/);
    expect((await get('/api/whoami', { headers: { cookie: sessionCookieOf(first) } })).status).toBe(200);

    const again = await get(link.pathname + link.search);
    expect(again.status).toBe(401);
    expect(again.headers['set-cookie']).toBeUndefined();
    expect((again.json as { error: { code: string; message: string } }).error).toMatchObject({
      code: 'AUTH_SESSION_REQUIRED',
      message: expect.stringMatching(/each link works once/) as unknown,
    });
    expect((await get('/login?token=guessed-token')).status).toBe(401);
  });

  it('refuses requests from another origin, or without the console header, even with a valid session', async () => {
    const body = { specYaml: 'name: x' };
    const evil = await get('/api/jobs/check', {
      method: 'POST',
      body,
      headers: { ...own(), origin: 'https://evil.example', 'sec-fetch-site': 'cross-site' },
    });
    expect(evil.status).toBe(403);
    expect((evil.json as { error: { code: string } }).error.code).toBe('AUTH_NOT_ALLOWED');
    const sibling = await get('/api/jobs/check', {
      method: 'POST',
      body,
      headers: { ...own(), origin: `https://brand:${server.port + 1}`, 'sec-fetch-site': 'same-site' },
    });
    expect(sibling.status).toBe(403);
    const noHeader = await get('/api/jobs/check', {
      method: 'POST',
      body,
      headers: { cookie, origin: `https://brand:${server.port}` },
    });
    expect(noHeader.status).toBe(403);
    const read = await get('/api/datasets', { headers: { cookie, 'sec-fetch-site': 'cross-site' } });
    expect(read.status).toBe(403);
    // The same request from the console's own page goes through (and the spec is checked: it is incomplete).
    const mine = await get('/api/jobs/check', { method: 'POST', body, headers: own() });
    expect(mine.status).toBe(400);
    expect((mine.json as { error: { code: string } }).error.code).toBe('JOB_SPEC_INVALID');
  });

  it("lets in the node's own client certificate without a session, and not a partner's", async () => {
    expect((await get('/api/whoami', certs('brand'))).status).toBe(200);
    const partner = await get('/api/whoami', certs('partner'));
    expect(partner.status).toBe(401);
    expect((partner.json as { error: { code: string } }).error.code).toBe('AUTH_SESSION_REQUIRED');
  });

  it('ends the session on logout', async () => {
    const link = new URL(server.loginLink());
    const session = sessionCookieOf(await get(link.pathname + link.search));
    const headers = { ...own(), cookie: session };
    expect((await get('/api/logout', { method: 'POST', body: {}, headers })).status).toBe(200);
    expect((await get('/api/whoami', { headers })).status).toBe(401);
  });

  it('sends a policy that loads nothing from elsewhere, and no referrer, on every answer', async () => {
    for (const path of ['/', '/assets/app.js', '/api/datasets']) {
      const r = await get(path, { headers: own() });
      expect(r.status, path).toBe(200);
      expect(r.headers['content-security-policy'], path).toBe(
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
      );
      expect(r.headers['x-content-type-options']).toBe('nosniff');
      expect(r.headers['referrer-policy']).toBe('no-referrer');
      expect(r.headers['cache-control']).toBe('no-store');
    }
  });

  it('loads a dataset as a job would, and shows a bad one with the error a job would get', async () => {
    const good = await get('/api/datasets/members', { headers: own() });
    expect(good.status).toBe(200);
    expect(good.json).toMatchObject({
      name: 'members',
      rows: 3,
      columns: [
        { name: 'id', role: 'id' },
        { name: 'y', role: 'label' },
        { name: 'age', role: 'feature', missing: 1, min: 30, max: 41 },
      ],
    });
    const bad = await get('/api/datasets/broken', { headers: own() });
    expect(bad.status).toBe(400);
    expect((bad.json as { error: { code: string; message: string } }).error).toMatchObject({
      code: 'DATA_VALUE_INVALID',
      message: expect.stringMatching(/line 3, column "age"/) as unknown,
    });
  });

  it('says so when the coordinator cannot be reached, and offers no job form', async () => {
    const jobs = await get('/api/jobs', { headers: own() });
    expect(jobs.status).toBe(503);
    expect((jobs.json as { error: { code: string } }).error.code).toBe('PEER_UNAVAILABLE');
    const submit = await get('/api/submit', { headers: own() });
    expect(submit.json).toMatchObject({
      allowed: false,
      reason: expect.stringMatching(/^the coordinator cannot be asked/) as unknown,
    });
  }, 40_000);

  it("checks a job spec as `job submit` does, naming the field and the fix, and this node's dataset", async () => {
    const spec = (dataset: string): string =>
      `name: x\nkind: hetero-lr\nparties:\n  - { name: brand, role: guest, dataset: ${dataset} }\n  - { name: partner, role: host, dataset: d }\n`;
    const ok = await get('/api/jobs/check', { method: 'POST', body: { specYaml: spec('members') }, headers: own() });
    expect(ok.json).toEqual({
      ok: true,
      spec: {
        name: 'x',
        kind: 'hetero-lr',
        parties: [
          { name: 'brand', role: 'guest', dataset: 'members' },
          { name: 'partner', role: 'host', dataset: 'd' },
        ],
      },
    });
    const missing = await get('/api/jobs/check', { method: 'POST', body: { specYaml: spec('nope') }, headers: own() });
    expect(missing.json).toMatchObject({
      error: { code: 'JOB_SPEC_INVALID', field: 'parties[0].dataset', fix: "name one of brand's datasets" },
    });
    const family = await get('/api/jobs/check', {
      method: 'POST',
      body: { specYaml: `${spec('members')}model: { family: forest }\n` },
      headers: own(),
    });
    expect(family.json).toMatchObject({ error: { code: 'JOB_SPEC_INVALID', field: 'model.family' } });
    const typo = await get('/api/jobs/check', {
      method: 'POST',
      body: { specYaml: `${spec('members')}trainning: {}\n` },
      headers: own(),
    });
    expect(typo.json).toMatchObject({
      error: {
        code: 'JOB_SPEC_INVALID',
        field: 'trainning',
        message: expect.stringMatching(/\(line 6\)\. Fix: remove it \(or rename it to "training"/) as unknown,
      },
    });
  });
});
