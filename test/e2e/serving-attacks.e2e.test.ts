/**
 * The serving attacks of issue #16, run against real `tandem serve`
 * processes (HTTP/JSON, gRPC and the mTLS peer port, real certificates):
 *
 * - model extraction: the partner, with its own federation certificate,
 *   scores ~27 chosen feature vectors at the guest's gRPC `Score` and solves
 *   the linear system for the guest's weights. The same attack by the
 *   guest's own operator recovers them (so the attack works); by the
 *   partner, or anyone without a token, it gets nothing;
 * - raw-id lookups: the guest asks the host's `Score` for a user by raw id,
 *   bypassing pseudonyms: refused on every edge;
 * - membership oracle: the guest's operator scores ids only the host holds
 *   and ids nobody holds; the answers must be indistinguishable (same
 *   fields, same distribution of logits by a two-sample Kolmogorov–Smirnov
 *   test), while a host that opts in to disclosing membership is told apart
 *   by the same test (so the test can fail);
 * - the host rate-limits lookups per caller and states every call, with a
 *   digest and no pseudonym, in a signed serving audit log that verifies.
 */
import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { tandem } from '../../protocol/generated/tandem.js';
import { readAuditLog } from '../../audit/log.ts';
import { verifyAuditLogs } from '../../audit/verify.ts';
import { loadNodeIdentity, type NodeIdentity } from '../../runtime/certs.ts';
import { initCertificates } from '../../runtime/certificate-authority.ts';
import { ScoringClient } from '../../runtime/grpc-service.ts';
import { channelCredentials } from '../../runtime/grpc-tls.ts';
import { pseudonym } from '../../serving/pseudonym.ts';
import { lookupDigest } from '../../serving/serving-audit.ts';
import { Random } from '../../protocol/random.ts';
import {
  bearerToken,
  http,
  ROOT,
  runCli,
  serve,
  SYNTHETIC_GUEST_COLUMNS,
  syntheticServing,
  writeServingFixture,
  type Served,
} from '../support/serving.ts';

const BIN = join(ROOT, 'bin', 'tandem.mjs');
const fixture = syntheticServing({ hosts: 3000, shared: 500, guestOnly: 500 });
const guestPart = fixture.parts.guest;
const numericColumns = guestPart.preprocess.columns.filter((c) => c.kind === 'numeric');

/** The guest's model as a function of raw numeric features (what an extraction recovers): logit = c + Σ a_j x_j. */
const truth = {
  slopes: numericColumns.map((c, j) => (guestPart.weights[j] ?? 0) / c.std),
  intercept:
    (guestPart.intercept ?? 0) -
    numericColumns.reduce((s, c, j) => s + ((guestPart.weights[j] ?? 0) * c.mean) / c.std, 0),
};

/** Least squares by the normal equations, solved with Gaussian elimination (partial pivoting). */
function leastSquares(rows: readonly number[][], y: readonly number[]): number[] {
  const p = rows[0]?.length ?? 0;
  const a = Array.from({ length: p }, (_, i) => [
    ...Array.from({ length: p }, (_, j) => rows.reduce((s, r) => s + (r[i] ?? 0) * (r[j] ?? 0), 0)),
    rows.reduce((s, r, k) => s + (r[i] ?? 0) * (y[k] ?? 0), 0),
  ]);
  for (let c = 0; c < p; c++) {
    const pivot = a
      .slice(c)
      .reduce((best, r, k) => (Math.abs(r[c] ?? 0) > Math.abs(a[best]?.[c] ?? 0) ? c + k : best), c);
    [a[c], a[pivot]] = [a[pivot] ?? [], a[c] ?? []];
    for (let r = 0; r < p; r++) {
      if (r === c) continue;
      const f = (a[r]?.[c] ?? 0) / (a[c]?.[c] ?? 1);
      a[r] = (a[r] ?? []).map((v, k) => v - f * (a[c]?.[k] ?? 0));
    }
  }
  return a.map((r, c) => (r[p] ?? 0) / (r[c] ?? 1));
}

/**
 * The extraction attack: `queries` chosen feature vectors through `score`
 * (the logit, minus the host's partial the attacker knows), then least
 * squares for the intercept and the 13 raw-space slopes. Undefined when the
 * endpoint refuses.
 */
async function extract(
  score: (features: Record<string, number>) => Promise<number | undefined>,
  queries = 27,
): Promise<{ intercept: number; slopes: number[] } | undefined> {
  const rows: number[][] = [];
  const y: number[] = [];
  const chosen = new Random('chosen inputs');
  for (let k = 0; k < queries; k++) {
    const x = numericColumns.map((c) => c.mean + c.std * chosen.nextGaussian());
    const logit = await score(Object.fromEntries(SYNTHETIC_GUEST_COLUMNS.map((n, j) => [n, x[j] ?? 0])));
    if (logit === undefined) return undefined;
    rows.push([1, ...x]);
    y.push(logit);
  }
  const [intercept = NaN, ...slopes] = leastSquares(rows, y);
  return { intercept, slopes };
}

type Unary = (
  request: unknown,
  metadata: grpc.Metadata,
  options: grpc.CallOptions,
  callback: (error: grpc.ServiceError | null, response?: tandem.v1.ScoreResponse) => void,
) => void;

/** gRPC `Score` at `port` with `identity`'s certificate: the response, or the gRPC error. */
function grpcScore(
  port: number,
  identity: NodeIdentity,
  serverName: string,
  request: tandem.v1.IScoreRequest,
): Promise<{ ok: tandem.v1.ScoreResponse } | { error: grpc.ServiceError }> {
  const client = new ScoringClient(`127.0.0.1:${port}`, channelCredentials(identity), {
    'grpc.ssl_target_name_override': serverName,
  }) as unknown as grpc.Client & { score: Unary };
  return new Promise((resolve) => {
    client.score(request, new grpc.Metadata(), { deadline: Date.now() + 10_000 }, (error, response) => {
      client.close();
      resolve(error === null && response !== undefined ? { ok: response } : { error: error as grpc.ServiceError });
    });
  });
}

/** Two-sample Kolmogorov–Smirnov: the statistic D and its asymptotic p-value. */
function ks(a: readonly number[], b: readonly number[]): { d: number; p: number } {
  const x = [...a].sort((u, v) => u - v);
  const y = [...b].sort((u, v) => u - v);
  let i = 0;
  let j = 0;
  let d = 0;
  while (i < x.length && j < y.length) {
    const t = Math.min(x[i] ?? Infinity, y[j] ?? Infinity);
    while (i < x.length && (x[i] ?? Infinity) <= t) i++;
    while (j < y.length && (y[j] ?? Infinity) <= t) j++;
    d = Math.max(d, Math.abs(i / x.length - j / y.length));
  }
  const lambda = d * Math.sqrt((x.length * y.length) / (x.length + y.length));
  let p = 0;
  for (let k = 1; k <= 100; k++) p += 2 * (-1) ** (k - 1) * Math.exp(-2 * k * k * lambda * lambda);
  return { d, p: Math.min(1, Math.max(0, p)) };
}

describe('serving under attack', () => {
  let dir: string;
  let brand: NodeIdentity;
  let partner: NodeIdentity;
  let host: Served;
  let guest: Served;
  const token = { guest: '', host: '' };
  const running: Served[] = [];
  const start = async (args: string[]): Promise<Served> => {
    const s = await serve(BIN, args);
    running.push(s);
    return s;
  };
  const stop = async (s: Served): Promise<void> => {
    s.child.kill('SIGTERM');
    await s.exited;
  };
  const hostArgs = (...extra: string[]): string[] => [
    '--model',
    join(dir, 'partner-model'),
    '--config',
    join(dir, 'partner.yaml'),
    '--grpc-port',
    '0',
    ...extra,
  ];
  const guestArgs = (peerPort: number, ...extra: string[]): string[] => [
    '--model',
    join(dir, 'brand-model'),
    '--config',
    join(dir, 'brand.yaml'),
    '--grpc-port',
    '0',
    '--host-endpoint',
    `partner=https://127.0.0.1:${peerPort}`,
    '--host-timeout-ms',
    '5000',
    ...extra,
  ];
  /** The guest's own operator scores a batch of ids with the same guest features. */
  const scoreIds = async (port: number, ids: readonly string[]): Promise<Record<string, unknown>[]> => {
    const out: Record<string, unknown>[] = [];
    for (let k = 0; k < ids.length; k += 500) {
      const rows = ids.slice(k, k + 500).map((id) => ({ id, features: { x0: 1, x1: 2, channel: 'web' } }));
      const res = await http(port, 'POST', '/v1/score-batch', { rows }, token.guest);
      expect(res.status, res.text).toBe(200);
      out.push(...(res.json['results'] as Record<string, unknown>[]));
    }
    return out;
  };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tandem-serving-attacks-'));
    await initCertificates({ outDir: join(dir, 'certs'), parties: ['brand', 'partner'] });
    const id = (n: string): Promise<NodeIdentity> =>
      loadNodeIdentity({
        ca: join(dir, 'certs', 'ca.crt'),
        cert: join(dir, 'certs', `${n}.crt`),
        key: join(dir, 'certs', `${n}.key`),
      });
    brand = await id('brand');
    partner = await id('partner');
    await writeServingFixture(dir, fixture.parts, fixture.data, '{ column: y, positive: 1, negative: 0 }');
    host = await start(hostArgs());
    guest = await start(guestArgs(host.peerPort ?? 0));
    token.guest = await bearerToken(guest.tokenFile ?? '');
    token.host = await bearerToken(host.tokenFile ?? '');
  }, 60_000);

  afterAll(async () => {
    for (const s of running) if (s.child.exitCode === null) s.child.kill('SIGKILL');
    await rm(dir, { recursive: true, force: true });
  });

  it(
    "extracts the guest's model with chosen inputs for its own operator (the attack works), and refuses the partner on gRPC and anyone without a token on HTTP",
    { timeout: 60_000 },
    async () => {
      // The partner knows its own partial for any user; a user it does not hold makes it a decoy, so the attacker uses one it holds.
      const user = 'h0';
      const hostPartial = (await http(host.port, 'POST', '/v1/score', { id: user }, token.host)).json[
        'partialLogit'
      ] as number;
      const viaGrpc =
        (who: NodeIdentity) =>
        async (features: Record<string, number>): Promise<number | undefined> => {
          const r = await grpcScore(guest.grpcPort ?? 0, who, 'brand', {
            id: user,
            features: Object.fromEntries(Object.entries(features).map(([k, v]) => [k, { numberValue: v }])),
          });
          return 'ok' in r ? (r.ok.logit ?? 0) - hostPartial : undefined;
        };
      const own = await extract(viaGrpc(brand));
      expect(own).toBeDefined();
      expect(Math.abs((own?.intercept ?? NaN) - truth.intercept)).toBeLessThan(1e-6);
      own?.slopes.forEach((a, j) => expect(Math.abs(a - (truth.slopes[j] ?? NaN))).toBeLessThan(1e-6));

      // The partner's certificate: every call refused, nothing extracted.
      const refusal = await grpcScore(guest.grpcPort ?? 0, partner, 'brand', {
        id: user,
        features: { x0: { numberValue: 1 } },
      });
      expect('error' in refusal && refusal.error).toMatchObject({
        code: grpc.status.PERMISSION_DENIED,
        details:
          "partner may not call Score on this endpoint: it is the host of job job-synthetic, and a party's model answers chosen inputs only to that party's own operators",
      });
      expect(await extract(viaGrpc(partner))).toBeUndefined();
      // The public HTTP API without a token (the unauthenticated route), at the guest and at the host.
      const anonymous =
        (port: number) =>
        async (features: Record<string, number>): Promise<number | undefined> => {
          const r = await http(
            port,
            'POST',
            '/v1/score',
            port === guest.port ? { id: user, features } : { features: { z0: features['x0'] ?? 0 } },
          );
          return r.status === 200
            ? ((r.json['logit'] as number | undefined) ?? (r.json['partialLogit'] as number))
            : undefined;
        };
      expect(await extract(anonymous(guest.port))).toBeUndefined();
      expect(await extract(anonymous(host.port))).toBeUndefined();
      expect(await http(guest.port, 'POST', '/v1/score', { id: user, features: { x0: 1 } })).toMatchObject({
        status: 401,
        json: { error: { code: 'AUTH_REQUIRED' } },
      });
    },
  );

  it("refuses the guest a host's partial by raw id or by features, on gRPC, on the public port and on the peer port", async () => {
    const byId = await grpcScore(host.grpcPort ?? 0, brand, 'partner', { id: 'h0' });
    expect('error' in byId && byId.error).toMatchObject({
      code: grpc.status.PERMISSION_DENIED,
      details:
        "brand may not call Score on this endpoint: it is the guest of job job-synthetic, and a party's model answers chosen inputs only to that party's own operators",
    });
    const byFeatures = await grpcScore(host.grpcPort ?? 0, brand, 'partner', { features: { z0: { numberValue: 1 } } });
    expect('error' in byFeatures && byFeatures.error).toMatchObject({ code: grpc.status.PERMISSION_DENIED });
    expect((await http(host.port, 'POST', '/v1/score', { id: 'h0' })).status).toBe(401);
    // The peer port, with the guest's certificate: it serves partial scores by pseudonym and nothing else.
    const peer = await new Promise<number>((resolve, reject) => {
      const req = httpsRequest(
        {
          host: '127.0.0.1',
          port: host.peerPort,
          path: '/v1/score',
          method: 'POST',
          ca: brand.caPem,
          cert: brand.certPem,
          key: brand.keyPem,
          checkServerIdentity: () => undefined,
        },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      );
      req.on('error', reject);
      req.end(JSON.stringify({ id: 'h0' }));
    });
    expect(peer).toBe(404);
  });

  it(
    'refuses to start with another party of the job as an allowed caller, naming it and why',
    { timeout: 30_000 },
    async () => {
      const run = await runCli(BIN, [
        'serve',
        ...guestArgs(
          host.peerPort ?? 0,
          '--port',
          '0',
          '--peer-port',
          '0',
          '--allow-caller',
          'partner',
          '--audit-log',
          join(dir, 'refused.audit.jsonl'),
        ),
      ]);
      expect(run.status).toBe(64);
      expect(run.stderr).toContain(
        "ARGUMENT_INVALID: --allow-caller partner: partner is the host of job job-synthetic; another party of the job may not score on this endpoint, because with chosen inputs it could extract brand's part of the model",
      );
    },
  );

  it(
    'tells the guest nothing about whether the host holds an id: the same fields, and logits a KS test cannot tell apart',
    { timeout: 120_000 },
    async () => {
      const hostOnly = Array.from({ length: 600 }, (_, k) => `h${1000 + 3 * k}`);
      const nobody = Array.from({ length: 600 }, (_, k) => `stranger-${k}`);
      const held = await scoreIds(guest.port, hostOnly);
      const unheld = await scoreIds(guest.port, nobody);
      const shape = (r: Record<string, unknown>): unknown => ({
        keys: Object.keys(r).sort(),
        complete: r['complete'],
        hosts: r['hosts'],
        segment: typeof r['segment'],
      });
      expect(new Set([...held, ...unheld].map((r) => JSON.stringify(shape(r))))).toEqual(
        new Set([
          JSON.stringify({
            keys: ['complete', 'hosts', 'id', 'logit', 'probability', 'segment'],
            complete: true,
            hosts: { partner: 'ok' },
            segment: 'string',
          }),
        ]),
      );
      const test = ks(
        held.map((r) => r['logit'] as number),
        unheld.map((r) => r['logit'] as number),
      );
      expect(test.p, `KS D = ${test.d.toFixed(3)}`).toBeGreaterThan(0.01);
      // Asking again gives the same answer, so repeats cannot be averaged.
      expect((await scoreIds(guest.port, nobody.slice(0, 50))).map((r) => r['logit'])).toEqual(
        unheld.slice(0, 50).map((r) => r['logit']),
      );

      // A host that opts in to disclosing membership is told apart at once: the test can fail.
      const disclosing = await start(
        hostArgs(
          '--disclose-membership',
          '--audit-log',
          join(dir, 'disclosing.audit.jsonl'),
          '--token-file',
          join(dir, 'disclosing.tokens'),
        ),
      );
      const told = await start(
        guestArgs(
          disclosing.peerPort ?? 0,
          '--audit-log',
          join(dir, 'told.audit.jsonl'),
          '--token-file',
          join(dir, 'told.tokens'),
        ),
      );
      const before = token.guest;
      token.guest = await bearerToken(told.tokenFile ?? '');
      const toldHeld = await scoreIds(told.port, hostOnly.slice(0, 100));
      const toldUnheld = await scoreIds(told.port, nobody.slice(0, 100));
      token.guest = before;
      expect(toldHeld.every((r) => r['complete'] === true)).toBe(true);
      expect(
        toldUnheld.every(
          (r) => r['complete'] === false && (r['hosts'] as Record<string, string>)['partner'] === 'not-held',
        ),
      ).toBe(true);
      await stop(told);
      await stop(disclosing);
    },
  );

  it('answers an unknown pseudonym with the same decoy after a restart', { timeout: 60_000 }, async () => {
    const before = await scoreIds(guest.port, ['stranger-a', 'stranger-b', 'h2000']);
    await stop(guest);
    await stop(host);
    host = await start(hostArgs());
    guest = await start(guestArgs(host.peerPort ?? 0));
    const after = await scoreIds(guest.port, ['stranger-a', 'stranger-b', 'h2000']);
    expect(after.map((r) => r['logit'])).toEqual(before.map((r) => r['logit']));
  });

  it(
    'rate-limits lookups per caller (429, the guest falls back and says why) and states every call in signed audit logs, without a pseudonym',
    { timeout: 120_000 },
    async () => {
      const limited = await start(
        hostArgs(
          '--lookup-rate',
          '20',
          '--lookup-burst',
          '10000',
          '--audit-log',
          join(dir, 'limited', 'partner.audit.jsonl'),
          '--token-file',
          join(dir, 'limited.tokens'),
        ),
      );
      const caller = await start(
        guestArgs(
          limited.peerPort ?? 0,
          '--audit-log',
          join(dir, 'caller', 'brand.audit.jsonl'),
          '--token-file',
          join(dir, 'caller.tokens'),
        ),
      );
      const before = token.guest;
      token.guest = await bearerToken(caller.tokenFile ?? '');
      const ids = Array.from({ length: 10_500 }, (_, k) => `h${k % 3000}-${k}`);
      const results: Record<string, unknown>[] = [];
      for (let k = 0; k < ids.length; k += 1000) results.push(...(await scoreIds(caller.port, ids.slice(k, k + 1000))));
      token.guest = before;
      const statuses = results.map((r) => (r['hosts'] as Record<string, string>)['partner']);
      expect(statuses.slice(0, 10_000).every((s) => s === 'ok')).toBe(true);
      expect(statuses.slice(10_000).every((s) => s === 'rate-limited')).toBe(true);
      const metrics = await http(
        limited.port,
        'GET',
        '/metrics',
        undefined,
        await bearerToken(limited.tokenFile ?? ''),
      );
      expect(metrics.text).toMatch(/tandem_serve_lookups_total\{caller="brand",outcome="rate-limited"\} 500/);
      expect(metrics.text).toMatch(/tandem_serve_requests_total\{route="partial-scores",status="429"\} 1/);
      await stop(caller);
      await stop(limited);

      // Statements at each end aggregate the calls of a window: calls, users, and the digest of their pseudonyms in order. 21 calls of
      // 500 (the guest scores in batches of 500) left the guest; the host answered 20 and refused the last, which it does not state.
      const hostLog = join(dir, 'limited', 'partner.audit.jsonl');
      const guestLog = join(dir, 'caller', 'brand.audit.jsonl');
      const key = Buffer.from(guestPart.scoringKey ?? '', 'hex');
      const pseudonyms = ids.map((id) => pseudonym(key, id));
      const checkStatements = (file: string, calls: number): void => {
        const claims = readAuditLog(file).map((r) => r.claim);
        expect(
          claims.every(
            (c) =>
              c?.type === 'serving-lookups' &&
              c['caller'] === 'brand' &&
              c['callee'] === 'partner' &&
              c['route'] === 'partial-scores',
          ),
        ).toBe(true);
        expect(claims.reduce((n, c) => n + Number(c?.['calls']), 0)).toBe(calls);
        let at = 0;
        for (const c of claims) {
          const count = Number(c?.['count']);
          expect(c?.['digest']).toBe(lookupDigest(pseudonyms.slice(at, at + count)));
          at += count;
        }
        expect(at).toBe(calls * 500);
      };
      checkStatements(hostLog, 20);
      checkStatements(guestLog, 21);
      for (const file of [hostLog, guestLog]) {
        const text = await readFile(file, 'utf8');
        for (const id of ids.slice(0, 200)) {
          expect(text).not.toContain(pseudonym(key, id));
          expect(text).not.toContain(`"${id}"`);
        }
      }
      const trust = {
        caPem: await readFile(join(dir, 'certs', 'ca.crt'), 'utf8'),
        caSource: 'ca.crt',
        certificates: [
          { source: 'partner.crt', pem: partner.certPem },
          { source: 'brand.crt', pem: brand.certPem },
        ],
      };
      for (const file of [hostLog, guestLog]) {
        const verdict = verifyAuditLogs([{ file, text: await readFile(file, 'utf8') }], trust);
        expect(verdict.findings.filter((f) => f.severity === 'error')).toEqual([]);
      }
    },
  );
});
