/**
 * Export and serving end to end: a real job on breast, each party exports
 * its part with `tandem model export`, the host and the guest serve them from
 * separate processes (`tandem serve`, HTTP/JSON + mTLS between them, gRPC
 * at the guest), and every served score equals the evaluation-time score of
 * the same row.
 */
import type * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync, type ChildProcess } from 'node:child_process';
import { cp, readFile, writeFile } from 'node:fs/promises';
import { request as httpsRequest } from 'node:https';
import { join } from 'node:path';
import type { Tensor } from '@tensorflow/tfjs';
import {
  exampleParties,
  lrSpec,
  partyConfigFile,
  runJob,
  startFederation,
  type Federation,
} from '../support/federation.ts';
import { auc } from '../../protocol/evaluation/metrics.ts';
import { sigmoid } from '../../protocol/training/chebyshev-link.ts';
import { ConfigError } from '../../protocol/errors.ts';
import type { tandem } from '../../protocol/generated/tandem.js';
import { loadNodeIdentity } from '../../runtime/certs.ts';
import { ScoringClient } from '../../runtime/grpc-service.ts';
import { channelCredentials } from '../../runtime/grpc-tls.ts';
import { loadModel } from '../../serving/model-bundle.ts';
import { AdminClient } from '../../runtime/admin-client.ts';
import { sign } from '../../protocol/crypto/signing.ts';
import {
  manifestBody,
  SIGNATURE_ALGORITHM,
  signedBytes,
  type Manifest,
  type ManifestBody,
} from '../../protocol/serving/model-manifest.ts';
import { readAuditLog } from '../../audit/log.ts';
import type { TandemError } from '../../protocol/errors.ts';
import { readModelPart, type ModelPart } from '../../models/lr/part.ts';
import { loadLayersModel } from '../../serving/tfjs-layers.ts';
import {
  bearerToken,
  evaluationScores,
  http,
  rawRows,
  ROOT,
  runCli,
  serve,
  writeServingCli,
  type Reference,
} from '../support/serving.ts';

describe('export and serving', () => {
  let fed: Federation;
  let cli: string;
  let jobId: string;
  let reference: Reference;
  let parts: { guest: ModelPart; host: ModelPart };
  const models = { brand: '', partner: '' };
  const children: ChildProcess[] = [];

  beforeAll(async () => {
    fed = await startFederation({ parties: exampleParties('breast'), unregistered: ['outsider'] });
    cli = await writeServingCli(fed);
    const result = await runJob(fed, lrSpec({ training: { maxEpochs: 5 } }));
    expect(result.stage, result.message).toBe('completed');
    jobId = result.jobId;
    parts = {
      guest: await readModelPart(join(fed.dir, 'brand'), jobId),
      host: await readModelPart(join(fed.dir, 'partner'), jobId),
    };
    reference = await evaluationScores(fed, join(fed.dir, 'job.yaml'), parts);
  }, 240_000);

  afterAll(async () => {
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
    await fed.close();
  });

  it("reproduces the job's own validation AUC from the model parts (the reference is evaluation-time)", () => {
    const z = reference.guest.map((g, k) => g + (reference.host[k] ?? 0));
    const metrics = (parts.guest.summary['metrics'] as { auc: number }).auc;
    expect(auc(z, reference.labels)).toBeCloseTo(metrics, 12);
    expect(parts.guest.scoringKey).toBe(parts.host.scoringKey);
    expect(parts.guest.scoringKey).toMatch(/^[0-9a-f]{64}$/);
  });

  it(
    'exports each part as a bundle signed by its party and co-signed by the coordinator, that plain TF.js loads',
    { timeout: 60_000 },
    async () => {
      for (const name of ['brand', 'partner'] as const) {
        models[name] = join(fed.dir, `${name}-model`);
        // Asynchronously: the coordinator that co-signs runs in this process.
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
        expect(run.stdout).toMatch(
          new RegExp(
            `exported ${name === 'brand' ? 'guest' : 'host'} part of ${jobId} to .* \\(co-signed by coordinator\\)`,
          ),
        );
      }
      const ca = await readFile(fed.certs('brand').ca, 'utf8');
      const brand = await loadModel(models.brand, { caPem: ca, party: 'brand' });
      expect(brand.manifest.coordinatorSignature?.certificate).toBe(
        await readFile(fed.certs('coordinator').cert, 'utf8'),
      );
      // The coordinator states every co-signing in its (signed, chained) audit log.
      const statements = readAuditLog(join(fed.dir, 'coordinator', 'audit', 'coordinator.audit.jsonl')).filter(
        (r) => r.claim?.type === 'model-export',
      );
      expect(statements.map((r) => [r.claim?.['party'], r.claim?.['role'], r.job])).toEqual([
        ['brand', 'guest', jobId],
        ['partner', 'host', jobId],
      ]);
      expect(brand.manifest.metrics?.['auc']).toBe((parts.guest.summary['metrics'] as { auc: number }).auc);
      expect(JSON.stringify(brand.manifest)).not.toContain('thresholds');
      const tfModel = await loadLayersModel(
        await readFile(join(models.brand, 'model.json'), 'utf8'),
        new Uint8Array(await readFile(join(models.brand, 'weights.bin'))),
      );
      const tf = await import('@tensorflow/tfjs');
      const x = tf.tensor2d([Array.from({ length: brand.weights.length }, () => 1)]);
      const y = (tfModel.predict(x) as Tensor).dataSync()[0] ?? NaN;
      expect(y).toBeCloseTo(
        brand.weights.reduce((s, w) => s + w, brand.intercept),
        4,
      );
    },
  );

  it(
    'has the coordinator refuse to co-sign for a non-participant, an unfinished job, or a manifest that disagrees with the job',
    { timeout: 60_000 },
    async () => {
      const manifest = JSON.parse(await readFile(join(models.brand, 'manifest.json'), 'utf8')) as Manifest;
      const brand = await loadNodeIdentity(fed.certs('brand'));
      /** brand's manifest with `changes`, signed again by brand (so only the coordinator's checks can refuse it). */
      const resigned = (changes: Partial<ManifestBody>): string => {
        const body = { ...manifestBody(manifest), ...changes };
        return JSON.stringify({
          ...body,
          signature: {
            algorithm: SIGNATURE_ALGORITHM,
            value: Buffer.from(sign(brand.privateKey, signedBytes(body))).toString('base64'),
          },
        });
      };
      const refusal = async (client: AdminClient, json: string): Promise<TandemError> => {
        try {
          await client.signExport(json, jobId);
        } catch (error) {
          return error as TandemError;
        } finally {
          client.close();
        }
        throw new Error('the coordinator co-signed');
      };
      const asBrand = (): Promise<AdminClient> => AdminClient.connect({ config: partyConfigFile(fed, 'brand') });
      // A node with a certificate from the federation CA that took no part in the job.
      const outsider = await refusal(await fed.admin('outsider'), JSON.stringify(manifest));
      expect(outsider).toMatchObject({
        code: 'JOB_NOT_PARTICIPANT',
        message: expect.stringContaining(`"outsider" is not a party to job ${jobId}`) as unknown,
      });
      // A job that never completed.
      const admin = await fed.admin();
      const cancelled = (await admin.submit(join(fed.dir, 'job.yaml'))).jobId;
      await admin.cancel(cancelled);
      admin.close();
      expect(await refusal(await asBrand(), resigned({ jobId: cancelled }))).toMatchObject({
        code: 'JOB_STATE_CONFLICT',
        message: expect.stringContaining(`job ${cancelled} is cancelled`) as unknown,
      });
      // Metrics the job did not report, and a manifest edited after brand signed it.
      expect(await refusal(await asBrand(), resigned({ metrics: { ...manifest.metrics, auc: 0.999 } }))).toMatchObject({
        code: 'ARGUMENT_INVALID',
        message: expect.stringMatching(/manifest\.metrics\.auc: is 0\.999, brand reported 0\.\d+ for job/) as unknown,
      });
      expect(await refusal(await asBrand(), JSON.stringify({ ...manifest, role: 'host' }))).toMatchObject({
        code: 'AUTH_CERTIFICATE_REJECTED',
      });
    },
  );

  it("refuses a tampered model, and another party's model, with a clear error", async () => {
    const ca = await readFile(fed.certs('brand').ca, 'utf8');
    const tampered = join(fed.dir, 'tampered-model');
    await cp(models.brand, tampered, { recursive: true });
    const scoring = JSON.parse(await readFile(join(tampered, 'scoring.json'), 'utf8')) as { weights: number[] };
    scoring.weights[0] = (scoring.weights[0] ?? 0) + 0.5;
    await writeFile(join(tampered, 'scoring.json'), JSON.stringify(scoring));
    await expect(loadModel(tampered, { caPem: ca })).rejects.toThrow(ConfigError);
    await expect(loadModel(tampered, { caPem: ca })).rejects.toThrow(
      /scoring\.json does not match the digest the manifest signs: it was changed after export/,
    );
    await expect(loadModel(models.partner, { caPem: ca, party: 'brand' })).rejects.toThrow(
      /the model is partner's part, but this node is brand/,
    );
  });

  it(
    'scores the pool at the host, streamed, into a ranked audience equal to evaluation-time partials',
    { timeout: 60_000 },
    async () => {
      const audience = join(fed.dir, 'audience.csv');
      const run = spawnSync(
        process.execPath,
        [
          cli,
          'model',
          'score-pool',
          '--config',
          partyConfigFile(fed, 'partner'),
          '--model',
          models.partner,
          '--pool',
          join(ROOT, 'examples/data/breast_host.csv.gz'),
          '--out',
          audience,
          '--json',
        ],
        { encoding: 'utf8' },
      );
      expect(run.status, run.stderr).toBe(0);
      const lines = (await readFile(audience, 'utf8'))
        .trim()
        .split('\n')
        .slice(1)
        .map((l) => l.split(','));
      const byId = new Map(lines.map(([rank, id, score]) => [id ?? '', { rank: Number(rank), score: Number(score) }]));
      const scores = lines.map((l) => Number(l[2]));
      expect(scores).toEqual([...scores].sort((a, b) => b - a));
      let worst = 0;
      reference.ids.forEach(
        (id, k) => (worst = Math.max(worst, Math.abs((byId.get(id)?.score ?? NaN) - (reference.host[k] ?? 0)))),
      );
      expect(worst).toBeLessThan(1e-6);
    },
  );

  it(
    'serves the guest and the host from separate processes; online scores equal evaluation-time scores',
    { timeout: 120_000 },
    async () => {
      const host = await serve(cli, [
        '--model',
        models.partner,
        '--config',
        partyConfigFile(fed, 'partner'),
        '--audience',
        join(fed.dir, 'audience.csv'),
      ]);
      children.push(host.child);
      const guest = await serve(cli, [
        '--model',
        models.brand,
        '--config',
        partyConfigFile(fed, 'brand'),
        '--host-endpoint',
        `partner=https://127.0.0.1:${host.peerPort ?? 0}`,
        '--host-timeout-ms',
        '2000',
        '--grpc-port',
        '0',
      ]);
      children.push(guest.child);

      // Each endpoint's operator holds its bearer token; health is open and says only "ok".
      const token = { guest: await bearerToken(guest.tokenFile ?? ''), host: await bearerToken(host.tokenFile ?? '') };
      expect((await http(guest.port, 'GET', '/healthz')).json).toEqual({ status: 'ok' });
      expect((await http(guest.port, 'GET', '/v1/model', undefined, token.guest)).json).toMatchObject({
        jobId,
        role: 'guest',
        party: 'brand',
      });
      expect((await http(host.port, 'GET', '/v1/model', undefined, token.host)).json).toMatchObject({
        jobId,
        role: 'host',
        party: 'partner',
        output: 'partial-logit',
      });

      const raw = await rawRows(join(ROOT, 'examples/data/breast_guest.csv.gz'));
      const features = (id: string): Record<string, string> => {
        const { id: _id, y: _label, ...rest } = raw.get(id) ?? {};
        return rest;
      };
      let worst = 0;
      for (let start = 0; start < reference.ids.length; start += 50) {
        const ids = reference.ids.slice(start, start + 50);
        const res = await http(
          guest.port,
          'POST',
          '/v1/score-batch',
          { rows: ids.map((id) => ({ id, features: features(id) })) },
          token.guest,
        );
        expect(res.status, res.text).toBe(200);
        const results = res.json['results'] as {
          id: string;
          probability: number;
          complete: boolean;
          hosts: Record<string, string>;
        }[];
        results.forEach((r, k) => {
          expect(r).toMatchObject({ id: ids[k], complete: true, hosts: { partner: 'ok' } });
          const z = (reference.guest[start + k] ?? 0) + (reference.host[start + k] ?? 0);
          worst = Math.max(worst, Math.abs(r.probability - sigmoid(z)));
        });
      }
      expect(worst).toBeLessThan(1e-6);

      const one = reference.ids[0] ?? '';
      const single = await http(guest.port, 'POST', '/v1/score', { id: one, features: features(one) }, token.guest);
      expect(single.json['probability']).toBeCloseTo(sigmoid((reference.guest[0] ?? 0) + (reference.host[0] ?? 0)), 12);
      expect(single.json['segment']).toBe((single.json['probability'] as number) >= 0.5 ? 'positive' : 'negative');
      // The same batch over gRPC (mTLS with the brand's certificate; party certificates name the node).
      const grpcIds = reference.ids.slice(0, 50);
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
      let worstGrpc = 0;
      viaGrpc.results.forEach((r, k) => {
        expect(r).toMatchObject({ id: grpcIds[k], complete: true, hosts: { partner: 'ok' } });
        worstGrpc = Math.max(
          worstGrpc,
          Math.abs((r.probability ?? NaN) - sigmoid((reference.guest[k] ?? 0) + (reference.host[k] ?? 0))),
        );
      });
      expect(viaGrpc.results).toHaveLength(grpcIds.length);
      expect(worstGrpc).toBeLessThan(1e-6);

      // A visitor the host does not hold is answered like one it holds (a decoy partial): no membership oracle.
      const stranger = await http(
        guest.port,
        'POST',
        '/v1/score',
        { id: 'not-a-customer', features: features(one) },
        token.guest,
      );
      expect(stranger.json).toMatchObject({ complete: true, hosts: { partner: 'ok' } });
      expect(stranger.json['logit']).not.toBe(reference.guest[0]);
      const bad = await http(guest.port, 'POST', '/v1/score', { id: one, features: { x0: 'abc' } }, token.guest);
      expect(bad.status).toBe(400);
      expect(bad.json).toEqual({
        error: { code: 'DATA_VALUE_INVALID', message: 'features.x0: "abc" is not a number' },
      });

      // Lookalike membership at the host.
      const member = await http(host.port, 'GET', `/v1/audience/${encodeURIComponent(one)}`, undefined, token.host);
      expect(member.json).toMatchObject({ id: one, member: true });
      expect(member.json['score']).toBeCloseTo(reference.host[0] ?? NaN, 9);
      expect((await http(host.port, 'GET', '/v1/audience/nobody', undefined, token.host)).json).toMatchObject({
        member: false,
      });
      expect((await http(host.port, 'GET', '/v1/audience/nobody')).status).toBe(401);

      // Only the job's guest may ask the host for partials, and only over mTLS.
      const admin = fed.certs('admin');
      const pem = {
        ca: await readFile(admin.ca, 'utf8'),
        cert: await readFile(admin.cert, 'utf8'),
        key: await readFile(admin.key, 'utf8'),
      };
      const status = await new Promise<number>((resolve, reject) => {
        const req = httpsRequest(
          {
            host: '127.0.0.1',
            port: host.peerPort,
            path: '/v1/partial-scores',
            method: 'POST',
            ca: pem.ca,
            cert: pem.cert,
            key: pem.key,
            checkServerIdentity: () => undefined,
          },
          (res) => {
            res.resume();
            resolve(res.statusCode ?? 0);
          },
        );
        req.on('error', reject);
        req.end(JSON.stringify({ jobId, pseudonyms: [] }));
      });
      expect(status).toBe(403);

      const metrics = await http(guest.port, 'GET', '/metrics', undefined, token.guest);
      expect(metrics.text).toMatch(/tandem_serve_requests_total\{route="score-batch",status="200"\} \d+/);
      expect(metrics.text).toMatch(/tandem_serve_request_duration_seconds_bucket\{le="0.01",route="score"\}/);
      expect(metrics.text).toMatch(/process_cpu_seconds_total \d/);
      expect(metrics.text).toMatch(/tandem_serve_host_calls_total\{host="partner",outcome="ok"\}/);

      // The host goes away (graceful SIGTERM): the guest falls back to its own part and says so.
      host.child.kill('SIGTERM');
      expect(await host.exited).toBe(0);
      const fallback = await http(guest.port, 'POST', '/v1/score', { id: one, features: features(one) }, token.guest);
      expect(fallback.json).toMatchObject({ complete: false, hosts: { partner: 'unavailable' } });
      expect(fallback.json['logit']).toBe(reference.guest[0]);

      guest.child.kill('SIGTERM');
      expect(await guest.exited, guest.stderr()).toBe(0);
    },
  );
});
