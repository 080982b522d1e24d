/**
 * Serving a supervised trees model end to end: a real trees job on breast,
 * both parties export their parts (`tandem model export`), the host and the
 * guest serve them from separate processes (`tandem serve`, mTLS between
 * them), and every served score equals the in-process walk of the saved
 * parts (models/trees/score.ts) to 1e-12. The host answers the guest, by
 * pseudonym only, with the bits of its split records for that user (the
 * threat model's serving row): a decoy row's bits for a pseudonym it does
 * not hold, as LR answers a decoy partial, and nothing for a feature
 * vector. When the host is gone, the guest answers with its own model (the
 * trees the job grew on its columns alone, saved in its part) and says
 * `complete: false, fallback: "own-trees"`. What cannot score a trees part
 * (SQL, score-pool with a supervised part) refuses by name with a fix.
 */
import type * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChildProcess } from 'node:child_process';
import { cp, readFile, writeFile } from 'node:fs/promises';
import { request as httpsRequest } from 'node:https';
import { join } from 'node:path';
import {
  exampleParties,
  lrSpec,
  partyConfigFile,
  runJob,
  startFederation,
  type Federation,
} from '../support/federation.ts';
import { loadPartyConfig } from '../../party/config.ts';
import { loadDataset, type Dataset } from '../../data/dataset.ts';
import { transformRows } from '../../data/preprocess.ts';
import { readTreesPart, type TreesPart } from '../../models/trees/part.ts';
import { predictions, rawScores, recordBits } from '../../models/trees/score.ts';
import type { tandem } from '../../protocol/generated/tandem.js';
import { loadNodeIdentity } from '../../runtime/certs.ts';
import { ScoringClient } from '../../runtime/grpc-service.ts';
import { channelCredentials } from '../../runtime/grpc-tls.ts';
import { pseudonym } from '../../serving/pseudonym.ts';
import { loadBundle } from '../../serving/trees-bundle.ts';
import { packSplitBits } from '../../serving/split-bits.ts';
import { bearerToken, http, rawRows, ROOT, runCli, serve, writeServingCli } from '../support/serving.ts';

type Result = {
  id: string;
  probability: number;
  logit: number;
  segment: string;
  complete: boolean;
  hosts: Record<string, string>;
};

describe('serving a trees model', () => {
  let fed: Federation;
  let cli: string;
  let jobId: string;
  let parts: { guest: TreesPart; host: TreesPart };
  let data: { guest: Dataset; host: Dataset };
  const models = { brand: '', partner: '' };
  const children: ChildProcess[] = [];

  beforeAll(async () => {
    fed = await startFederation({ parties: exampleParties('breast'), unregistered: ['outsider'] });
    cli = await writeServingCli(fed);
    const result = await runJob(
      fed,
      lrSpec({ name: 'test-trees-serving', model: { family: 'trees', rounds: 15, maxDepth: 3 } }),
      'trees.yaml',
    );
    expect(result.stage, result.message).toBe('completed');
    jobId = result.jobId;
    parts = {
      guest: await readTreesPart(join(fed.dir, 'brand'), jobId),
      host: await readTreesPart(join(fed.dir, 'partner'), jobId),
    };
    const dataset = async (name: string): Promise<Dataset> =>
      loadDataset((await loadPartyConfig(partyConfigFile(fed, name))).datasets['d']!);
    data = { guest: await dataset('brand'), host: await dataset('partner') };
  }, 240_000);

  afterAll(async () => {
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
    await fed.close();
  });

  /** Each party's split bits for every row of its dataset, from its saved part, as the job's batch transform computes them. */
  const bitsOf = (part: TreesPart, d: Dataset): Map<string, Uint8Array> => {
    const { matrix, columns } = transformRows(
      part.preprocess,
      d,
      Uint32Array.from({ length: d.rowCount }, (_, k) => k),
    );
    const c = columns.length;
    return new Map(
      d.ids.map((id, k) => [id, recordBits(part.records, part.featureNames, matrix.subarray(k * c, (k + 1) * c))]),
    );
  };
  /** The in-process score of a guest id from the saved parts; `host` undefined: the host's answers are unknown. */
  const reference = (
    guestBits: Uint8Array | undefined,
    hostBits: Uint8Array | undefined,
  ): { probability: number; logit: number } => {
    const raw = rawScores(parts.guest.trees ?? [], parts.guest.base ?? [], [guestBits, hostBits]);
    return { probability: predictions('logistic', raw)[0] ?? NaN, logit: raw[0] ?? NaN };
  };

  it(
    "exports both parts as trees bundles: the guest's trees, the host's thresholds only",
    { timeout: 60_000 },
    async () => {
      for (const name of ['brand', 'partner'] as const) {
        models[name] = join(fed.dir, `${name}-model`);
        const run = await runCli(cli, [
          'model',
          'export',
          '--config',
          partyConfigFile(fed, name),
          '--job',
          jobId,
          '--out',
          models[name],
        ]);
        expect(run.status, run.stderr).toBe(0);
      }
      const manifest = async (dir: string): Promise<Record<string, unknown>> =>
        JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8')) as Record<string, unknown>;
      expect(await manifest(models.brand)).toMatchObject({ family: 'trees', output: 'logit', role: 'guest' });
      expect(await manifest(models.partner)).toMatchObject({ family: 'trees', output: 'split-bits', role: 'host' });
      const hostTrees = JSON.parse(await readFile(join(models.partner, 'trees.json'), 'utf8')) as Record<
        string,
        unknown
      >;
      expect(Object.keys(hostTrees).sort()).toEqual(['featureNames', 'format', 'records']);
      const guestTrees = await readFile(join(models.brand, 'trees.json'), 'utf8');
      // The guest's bundle names host records by number, never a host threshold.
      const guestThresholds = new Set(parts.guest.records.map((r) => r.threshold));
      const hostOnly = parts.host.records.filter((r) => r.threshold !== null && !guestThresholds.has(r.threshold));
      expect(hostOnly.length).toBeGreaterThan(0);
      for (const r of hostOnly) expect(guestTrees).not.toContain(String(r.threshold));

      // A leaf value changed after export is refused by the signed digest, as an LR weight is.
      const ca = await readFile(fed.certs('brand').ca, 'utf8');
      await expect(loadBundle(models.brand, { caPem: ca, party: 'brand' })).resolves.toMatchObject({ family: 'trees' });
      const tampered = join(fed.dir, 'tampered-trees');
      await cp(models.brand, tampered, { recursive: true });
      await writeFile(join(tampered, 'trees.json'), guestTrees.replace(/"leaf":(-?[0-9.e-]+)/, '"leaf":9'));
      await expect(loadBundle(tampered, { caPem: ca })).rejects.toThrow(
        /trees\.json does not match the digest the manifest signs: it was changed after export/,
      );
    },
  );

  it('refuses what cannot score a supervised trees part, by name and with a fix', { timeout: 60_000 }, async () => {
    const sql = await runCli(cli, [
      'model',
      'export',
      '--config',
      partyConfigFile(fed, 'brand'),
      '--job',
      jobId,
      '--format',
      'sql',
    ]);
    expect(sql.status).toBe(64);
    expect(sql.stderr).toContain(
      `job ${jobId} trained trees; \`tandem model export --format sql\` supports lr models only`,
    );
    expect(sql.stderr).toContain(
      'Fix: export it as a bundle (drop --format sql) and score with `tandem model score-pool` or `tandem serve`',
    );
    const pool = join(ROOT, 'examples/data/breast_host.csv.gz');
    const host = await runCli(cli, [
      'model',
      'score-pool',
      '--config',
      partyConfigFile(fed, 'partner'),
      '--model',
      models.partner,
      '--pool',
      pool,
      '--out',
      join(fed.dir, 'no.csv'),
    ]);
    expect(host.status).toBe(64);
    expect(host.stderr).toContain(
      'a host of a supervised trees job keeps only its split thresholds (the guest keeps the trees and leaf values), so it cannot score rows alone. Fix: score at the guest',
    );
    const guest = await runCli(cli, [
      'model',
      'score-pool',
      '--config',
      partyConfigFile(fed, 'brand'),
      '--model',
      models.brand,
      '--pool',
      join(ROOT, 'examples/data/breast_guest.csv.gz'),
      '--out',
      join(fed.dir, 'no.csv'),
    ]);
    expect(guest.status).toBe(64);
    expect(guest.stderr).toContain(
      "a supervised trees model whose trees also split on the hosts' columns, which only the hosts can answer",
    );
  });

  it(
    'serves guest and host from separate processes; every served score equals the in-process walk of the saved parts',
    { timeout: 180_000 },
    async () => {
      const host = await serve(cli, ['--model', models.partner, '--config', partyConfigFile(fed, 'partner')]);
      children.push(host.child);
      const guest = await serve(cli, [
        '--model',
        models.brand,
        '--config',
        partyConfigFile(fed, 'brand'),
        '--host-endpoint',
        `partner=https://127.0.0.1:${host.peerPort ?? 0}`,
        '--host-timeout-ms',
        '5000',
        '--grpc-port',
        '0',
      ]);
      children.push(guest.child);
      const token = { guest: await bearerToken(guest.tokenFile ?? ''), host: await bearerToken(host.tokenFile ?? '') };
      expect((await http(host.port, 'GET', '/v1/model', undefined, token.host)).json).toMatchObject({
        jobId,
        role: 'host',
        output: 'split-bits',
        family: 'trees',
      });
      expect((await http(guest.port, 'GET', '/v1/model', undefined, token.guest)).json).toMatchObject({
        jobId,
        role: 'guest',
        output: 'logit',
        family: 'trees',
        outputs: 1,
      });

      const guestBits = bitsOf(parts.guest, data.guest);
      const hostBits = bitsOf(parts.host, data.host);
      const raw = await rawRows(join(ROOT, 'examples/data/breast_guest.csv.gz'));
      const features = (id: string): Record<string, string> => {
        const { id: _id, y: _label, ...rest } = raw.get(id) ?? {};
        return rest;
      };
      // Every guest id the host holds: the validation rows and all the others.
      const ids = data.guest.ids.filter((id) => hostBits.has(id));
      expect(ids.length).toBeGreaterThan(500);
      let worst = 0;
      for (let start = 0; start < ids.length; start += 100) {
        const batch = ids.slice(start, start + 100);
        const res = await http(
          guest.port,
          'POST',
          '/v1/score-batch',
          { rows: batch.map((id) => ({ id, features: features(id) })) },
          token.guest,
        );
        expect(res.status, res.text).toBe(200);
        (res.json['results'] as Result[]).forEach((r, k) => {
          const id = batch[k] ?? '';
          expect(r).toMatchObject({ id, complete: true, hosts: { partner: 'ok' } });
          const want = reference(guestBits.get(id), hostBits.get(id));
          worst = Math.max(worst, Math.abs(r.probability - want.probability), Math.abs(r.logit - want.logit));
          expect(r.segment).toBe(r.probability >= 0.5 ? 'positive' : 'negative');
        });
      }
      console.log(
        `trees serving: ${ids.length} ids over HTTP, worst |Δ| against the in-process walk = ${worst.toExponential(2)}`,
      );
      expect(worst).toBeLessThanOrEqual(1e-12);

      // The same over gRPC (mTLS with the brand's certificate).
      const grpcIds = ids.slice(0, 40);
      const client = new ScoringClient(
        `127.0.0.1:${guest.grpcPort ?? 0}`,
        channelCredentials(await loadNodeIdentity(fed.certs('brand'))),
        { 'grpc.ssl_target_name_override': 'brand' },
      );
      const viaGrpc = await new Promise<tandem.v1.ScoreBatchResponse>((resolve, reject) => {
        const rows = grpcIds.map((id) => ({
          id,
          features: Object.fromEntries(Object.entries(features(id)).map(([k, v]) => [k, { stringValue: v }])),
        }));
        (
          client as unknown as {
            scoreBatch: (
              r: unknown,
              o: grpc.CallOptions,
              cb: (e: grpc.ServiceError | null, r?: tandem.v1.ScoreBatchResponse) => void,
            ) => void;
          }
        ).scoreBatch({ rows }, { deadline: Date.now() + 10_000 }, (e, r) =>
          e === null && r !== undefined ? resolve(r) : reject(e ?? new Error('no response')),
        );
      });
      client.close();
      expect(viaGrpc.results).toHaveLength(grpcIds.length);
      viaGrpc.results.forEach((r, k) => {
        expect(r).toMatchObject({ id: grpcIds[k], complete: true, hosts: { partner: 'ok' } });
        expect(r.probability).toBe(
          reference(guestBits.get(grpcIds[k] ?? ''), hostBits.get(grpcIds[k] ?? '')).probability,
        );
      });

      // The host's own operator may look up one of its users: its split bits, packed as on the wire.
      const one = ids[0] ?? '';
      const own = await http(host.port, 'POST', '/v1/score', { id: one }, token.host);
      expect(own.json).toEqual({ id: one, splitBits: packSplitBits(hostBits.get(one) ?? new Uint8Array(0)) });

      // The peer route, called with the guest's own certificate as the guest endpoint does.
      const peer = async (
        certsOf: string,
        body: unknown,
      ): Promise<{ status: number; json: { scores?: unknown[] } }> => {
        const c = fed.certs(certsOf);
        const pem = {
          ca: await readFile(c.ca, 'utf8'),
          cert: await readFile(c.cert, 'utf8'),
          key: await readFile(c.key, 'utf8'),
        };
        return new Promise((resolve, reject) => {
          const req = httpsRequest(
            {
              host: '127.0.0.1',
              port: host.peerPort,
              path: '/v1/partial-scores',
              method: 'POST',
              headers: { 'content-type': 'application/json' },
              ...pem,
              checkServerIdentity: () => undefined,
            },
            (res) => {
              const chunks: Buffer[] = [];
              res.on('data', (b: Buffer) => chunks.push(b));
              res.on('end', () =>
                resolve({
                  status: res.statusCode ?? 0,
                  json: JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as { scores?: unknown[] },
                }),
              );
            },
          );
          req.on('error', reject);
          req.end(JSON.stringify(body));
        });
      };
      const key = new Uint8Array(Buffer.from(parts.host.scoringKey ?? '', 'hex'));
      const asked = await peer('brand', { jobId, pseudonyms: [pseudonym(key, one), pseudonym(key, 'not-a-customer')] });
      expect(asked.status).toBe(200);
      expect(asked.json.scores?.[0]).toBe(packSplitBits(hostBits.get(one) ?? new Uint8Array(0)));
      // An unknown pseudonym gets the bits of one of the host's real rows (a decoy), as LR answers a real row's partial: no membership oracle.
      const real = new Set([...hostBits.values()].map((b) => packSplitBits(b)));
      expect(real.has(String(asked.json.scores?.[1]))).toBe(true);
      // No chosen-input scoring: the peer route takes pseudonyms only, and only from the job's guest.
      expect((await peer('brand', { jobId, pseudonyms: [], features: features(one) })).status).toBe(400);
      expect((await peer('admin', { jobId, pseudonyms: [pseudonym(key, one)] })).status).toBe(403);

      // The host goes away: the guest answers with its own-columns trees, and says so.
      host.child.kill('SIGTERM');
      expect(await host.exited).toBe(0);
      const alone = parts.guest.ownTrees;
      expect(alone?.trees.length).toBeGreaterThan(0);
      const ownBits = (id: string): Uint8Array => {
        const { matrix, columns } = transformRows(
          parts.guest.preprocess,
          data.guest,
          Uint32Array.of(data.guest.ids.indexOf(id)),
        );
        return recordBits(alone?.records ?? [], parts.guest.featureNames, matrix.subarray(0, columns.length));
      };
      const sample = ids.slice(0, 60);
      const down = await http(
        guest.port,
        'POST',
        '/v1/score-batch',
        { rows: sample.map((id) => ({ id, features: features(id) })) },
        token.guest,
      );
      expect(down.status, down.text).toBe(200);
      const served = down.json['results'] as (Result & { fallback?: string })[];
      served.forEach((r, k) => {
        const id = sample[k] ?? '';
        expect(r).toMatchObject({ id, complete: false, hosts: { partner: 'unavailable' }, fallback: 'own-trees' });
        const raw = rawScores(alone?.trees ?? [], alone?.base ?? [], [ownBits(id)]);
        expect(Math.abs(r.probability - (predictions('logistic', raw)[0] ?? NaN))).toBeLessThan(1e-12);
      });
      // Not the federated walk with the host's splits guessed: a different model.
      expect(
        served.some((r, k) => r.probability !== reference(guestBits.get(sample[k] ?? ''), undefined).probability),
      ).toBe(true);

      guest.child.kill('SIGTERM');
      expect(await guest.exited, guest.stderr()).toBe(0);
    },
  );
});
