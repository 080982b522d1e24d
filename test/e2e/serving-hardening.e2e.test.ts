/**
 * A scoring endpoint as a hostile but fair tester meets it (issue #16,
 * points 3 and 6), through the real `tandem serve` in its own process:
 * authentication on every route but health, the bearer token file, 413 for
 * big bodies, 404 for unknown paths, requests refused naming their field
 * and row (and logged without the value), unknown features, unseen
 * categories, absurd numbers, a connection cap, a stalled body, a client
 * that goes away, and public and peer ports bound separately.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { initCertificates } from '../../runtime/certificate-authority.ts';
import {
  bearerToken,
  http,
  ROOT,
  serve,
  syntheticServing,
  writeServingFixture,
  type Served,
} from '../support/serving.ts';

const BIN = join(ROOT, 'bin', 'tandem.mjs');

/** Writes `text` on a raw connection; resolves with what came back once the server closes it (or after `giveUpMs`). */
function raw(
  port: number,
  text: string,
  giveUpMs: number,
  host = '127.0.0.1',
): Promise<{ response: string; closedAfterMs: number; error?: string }> {
  return new Promise((resolve) => {
    const started = Date.now();
    const socket: Socket = connect(port, host, () => socket.write(text));
    let response = '';
    let error: string | undefined;
    socket.on('data', (c: Buffer) => (response += c.toString()));
    socket.on('error', (e: NodeJS.ErrnoException) => (error = e.code ?? e.message));
    socket.on('close', () =>
      resolve({ response, closedAfterMs: Date.now() - started, ...(error === undefined ? {} : { error }) }),
    );
    setTimeout(() => socket.destroy(), giveUpMs).unref();
  });
}

describe('a scoring endpoint, hardened', () => {
  let dir: string;
  let host: Served;
  let guest: Served;
  let token = '';
  const served: Served[] = [];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tandem-serving-hardening-'));
    await initCertificates({ outDir: join(dir, 'certs'), parties: ['brand', 'partner'] });
    const fixture = syntheticServing({ hosts: 200, shared: 100, guestOnly: 100 });
    await writeServingFixture(dir, fixture.parts, fixture.data, '{ column: y, positive: 1, negative: 0 }');
    host = await serve(BIN, [
      '--model',
      join(dir, 'partner-model'),
      '--config',
      join(dir, 'partner.yaml'),
      '--listen',
      '127.0.0.1',
      '--peer-listen',
      '127.0.0.2',
    ]);
    served.push(host);
    guest = await serve(
      BIN,
      [
        '--model',
        join(dir, 'brand-model'),
        '--config',
        join(dir, 'brand.yaml'),
        '--host-endpoint',
        `partner=https://127.0.0.2:${host.peerPort ?? 0}`,
        '--host-timeout-ms',
        '5000',
        '--max-connections',
        '8',
        '--request-timeout-ms',
        '1000',
      ],
      'info',
    );
    served.push(guest);
    token = await bearerToken(guest.tokenFile ?? '');
  }, 60_000);

  afterAll(async () => {
    for (const s of served) if (s.child.exitCode === null) s.child.kill('SIGKILL');
    await rm(dir, { recursive: true, force: true });
  });

  const metric = async (pattern: RegExp): Promise<number> =>
    Number(pattern.exec((await http(guest.port, 'GET', '/metrics', undefined, token)).text)?.[1] ?? 0);

  it('answers only health without a token; the token file is created 0600 in a 0700 directory, and the token is never printed', async () => {
    expect(await http(guest.port, 'GET', '/healthz')).toMatchObject({ status: 200, json: { status: 'ok' } });
    expect(Object.keys((await http(guest.port, 'GET', '/healthz')).json)).toEqual(['status']);
    for (const [method, path] of [
      ['GET', '/v1/model'],
      ['GET', '/metrics'],
      ['POST', '/v1/score'],
      ['POST', '/v1/score-batch'],
    ] as const) {
      const res = await http(guest.port, method, path, method === 'POST' ? { id: 'g1' } : undefined);
      expect(res.status, `${method} ${path}`).toBe(401);
      expect(res.json).toMatchObject({ error: { code: 'AUTH_REQUIRED' } });
    }
    expect((await http(guest.port, 'GET', '/v1/model', undefined, 'x'.repeat(43))).json).toEqual({
      error: { code: 'AUTH_REQUIRED', message: "the bearer token is not one of this endpoint's tokens" },
    });
    expect((await http(guest.port, 'GET', '/v1/model', undefined, token)).json).toMatchObject({
      role: 'guest',
      party: 'brand',
    });
    expect(guest.tokenFile).toBe(join(dir, 'brand-data', 'serving', 'tokens'));
    expect((await stat(guest.tokenFile ?? '')).mode & 0o777).toBe(0o600);
    expect((await stat(dirname(guest.tokenFile ?? ''))).mode & 0o777).toBe(0o700);
    expect(guest.stderr()).toContain(guest.tokenFile);
    expect(guest.stderr()).not.toContain(token);
  });

  it('answers a body over 1 MiB with 413 and a JSON error, counted once, and an unknown path with 404', async () => {
    // The server answers 413 from the declared length and closes without
    // reading the body, so the client sends the headers and only the start
    // of the body: a client writing all 2 MiB would race that close (EPIPE).
    const declared = 2 * 1_048_576;
    const big = await raw(
      guest.port,
      `POST /v1/score HTTP/1.1\r\nhost: 127.0.0.1\r\nauthorization: Bearer ${token}\r\n` +
        `content-type: application/json\r\ncontent-length: ${declared}\r\n\r\n{"id":"g1","features":{"x0":"yyyy`,
      5_000,
    );
    expect(big.response).toMatch(/^HTTP\/1\.1 413 /);
    expect(JSON.parse(big.response.slice(big.response.indexOf('\r\n\r\n') + 4))).toEqual({
      error: { code: 'MESSAGE_TOO_LARGE', message: 'the request body exceeds 1048576 bytes' },
    });
    expect(big.closedAfterMs).toBeLessThan(5_000);
    expect(await metric(/tandem_serve_requests_total\{route="score",status="413"\} (\d+)/)).toBe(1);
    expect(await metric(/tandem_serve_errors_total\{code="MESSAGE_TOO_LARGE",route="score"\} (\d+)/)).toBe(1);
    expect(await http(guest.port, 'GET', '/v1/nothing-here', undefined, token)).toMatchObject({
      status: 404,
      json: { error: { code: 'ROUTE_NOT_FOUND', message: 'no such endpoint: GET /v1/nothing-here' } },
    });
    expect((await http(guest.port, 'GET', '/v1/score', undefined, token)).status).toBe(404);
  });

  it('refuses a bad value naming its field and row, logs the detail without the value, and refuses unknown features and absurd numbers', async () => {
    const rows = Array.from({ length: 5 }, (_, k) => ({
      id: `g${k}`,
      features: { x0: k === 3 ? 'abc-secret' : '1.5' },
    }));
    const bad = await http(guest.port, 'POST', '/v1/score-batch', { rows }, token);
    expect(bad).toMatchObject({
      status: 400,
      json: { error: { code: 'DATA_VALUE_INVALID', message: 'rows[3].features.x0: "abc-secret" is not a number' } },
    });
    await new Promise((r) => setTimeout(r, 100));
    const logged = guest
      .stderr()
      .split('\n')
      .filter((l) => l.includes('DATA_VALUE_INVALID'));
    expect(logged.some((l) => l.includes('rows[3].features.x0: is not a number'))).toBe(true);
    expect(guest.stderr()).not.toContain('abc-secret');

    const unknown = await http(
      guest.port,
      'POST',
      '/v1/score',
      { id: 'g1', features: { x0: 1, x99: 2, chanel: 'web' } },
      token,
    );
    expect(unknown.status).toBe(400);
    expect(unknown.json).toMatchObject({
      error: {
        code: 'DATA_SCHEMA_MISMATCH',
        message: expect.stringMatching(
          /^features: unknown features "x99", "chanel"; this model's input columns are x0, x1, .*, channel$/,
        ) as unknown,
      },
    });
    for (const value of [1e308, '1e308', 'Infinity', '1e999']) {
      const absurd = await http(guest.port, 'POST', '/v1/score', { id: 'g1', features: { x0: value } }, token);
      expect(absurd.status, String(value)).toBe(400);
      expect((absurd.json['error'] as { message: string }).message).toMatch(
        /^features\.x0: .* (is more than 1,000,000 standard deviations from the mean the model was trained on|is not a finite number)/,
      );
    }
  });

  it('scores a category the model was not trained on as training does, and says so in warnings', async () => {
    const res = await http(
      guest.port,
      'POST',
      '/v1/score',
      { id: 'g1', features: { x0: 1, channel: 'television' } },
      token,
    );
    expect(res.status).toBe(200);
    expect(res.json['warnings']).toEqual([
      'features.channel: "television" is not a category the model was trained on; scored as none of its categories',
    ]);
    const known = await http(guest.port, 'POST', '/v1/score', { id: 'g1', features: { x0: 1, channel: 'web' } }, token);
    expect(known.json['warnings']).toBeUndefined();
  });

  it(
    'caps open connections, closes a body that stalls midway within the request timeout, and counts a client that goes away as 499, not 500',
    { timeout: 30_000 },
    async () => {
      const sockets = await Promise.all(
        Array.from(
          { length: 20 },
          () =>
            new Promise<Socket>((resolve) => {
              const s = connect(guest.port, '127.0.0.1', () => resolve(s));
              s.on('error', () => undefined);
            }),
        ),
      );
      await new Promise((r) => setTimeout(r, 300));
      // At most 8 in all (this process's keep-alive connections from the tests above count too).
      const open = sockets.filter((s) => !s.destroyed && s.readyState === 'open').length;
      expect(open).toBeGreaterThan(0);
      expect(open).toBeLessThanOrEqual(8);
      for (const s of sockets) s.destroy();
      await new Promise((r) => setTimeout(r, 300));

      const stalled = await raw(
        guest.port,
        `POST /v1/score HTTP/1.1\r\nhost: x\r\nauthorization: Bearer ${token}\r\ncontent-length: 200\r\n\r\n{"id":"g1",`,
        20_000,
      );
      expect(stalled.response).toMatch(/^HTTP\/1\.1 408/);
      expect(stalled.closedAfterMs).toBeLessThan(3_500);

      await raw(
        guest.port,
        `POST /v1/score HTTP/1.1\r\nhost: x\r\nauthorization: Bearer ${token}\r\ncontent-length: 200\r\n\r\n{"id":"g1",`,
        150,
      );
      await new Promise((r) => setTimeout(r, 300));
      expect(await metric(/tandem_serve_requests_total\{route="score",status="499"\} (\d+)/)).toBeGreaterThanOrEqual(1);
      expect(await metric(/tandem_serve_requests_total\{route="score",status="500"\} (\d+)/)).toBe(0);
      expect(guest.stderr()).not.toMatch(/INTERNAL|"level":(50|60)/);
    },
  );

  it('binds the public and the peer port separately (--listen, --peer-listen)', async () => {
    expect(
      (await raw(host.port, 'GET /healthz HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n', 2_000, '127.0.0.1'))
        .response,
    ).toMatch(/^HTTP\/1\.1 200/);
    expect((await raw(host.port, 'GET /healthz HTTP/1.1\r\nhost: x\r\n\r\n', 2_000, '127.0.0.2')).error).toBe(
      'ECONNREFUSED',
    );
    expect((await raw(host.peerPort ?? 0, '', 2_000, '127.0.0.1')).error).toBe('ECONNREFUSED');
    // The guest reaches the host through its peer address.
    const scored = await http(guest.port, 'POST', '/v1/score', { id: 'h1', features: { x0: 1 } }, token);
    expect(scored.json).toMatchObject({ complete: true, hosts: { partner: 'ok' } });
    expect(await readFile(host.tokenFile ?? '', 'utf8')).not.toBe(await readFile(guest.tokenFile ?? '', 'utf8'));
  });
});
