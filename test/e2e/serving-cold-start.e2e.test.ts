/**
 * Serving a cold-start model end to end: a real 4-class one-vs-rest job on
 * FATE's vehicle data, each party exports its part with `tandem model
 * export` (co-signed by the coordinator), the host and the guest serve them
 * from separate processes, and every validation row's served class
 * probabilities equal the job's evaluation-time probabilities (to 1e-6),
 * over HTTP and gRPC; a visitor the host does not hold falls back to the
 * guest's part and says so.
 */
import type * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { oneVsRestProbabilities } from '../../models/lr/one-vs-rest.ts';
import { multiclassReport } from '../../protocol/evaluation/multiclass-metrics.ts';
import type { tandem } from '../../protocol/generated/tandem.js';
import { loadNodeIdentity } from '../../runtime/certs.ts';
import { ScoringClient } from '../../runtime/grpc-service.ts';
import { channelCredentials } from '../../runtime/grpc-tls.ts';
import { readModelPart, type ModelPart } from '../../models/lr/part.ts';
import {
  exampleParties,
  lrSpec,
  partyConfigFile,
  runJob,
  startFederation,
  type Federation,
} from '../support/federation.ts';
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

type Metrics = { accuracy: number; logLoss: number; rows: number };

describe('serving a cold-start (one-vs-rest, 4 classes) model', () => {
  let fed: Federation;
  let cli: string;
  let jobId: string;
  let parts: { guest: ModelPart; host: ModelPart };
  let reference: Reference;
  let metrics: Metrics;
  const children: ChildProcess[] = [];

  beforeAll(async () => {
    fed = await startFederation({ parties: exampleParties('vehicle') });
    cli = await writeServingCli(fed);
    // Few epochs: this test is about serving what was trained, not about accuracy.
    const result = await runJob(
      fed,
      lrSpec({ name: 'vehicle-segments', kind: 'cold-start', training: { maxEpochs: 6 } }),
    );
    expect(result.stage, result.message).toBe('completed');
    jobId = result.jobId;
    metrics = (result.summaries['brand'] as { metrics: Metrics }).metrics;
    parts = {
      guest: await readModelPart(join(fed.dir, 'brand'), jobId),
      host: await readModelPart(join(fed.dir, 'partner'), jobId),
    };
    reference = await evaluationScores(fed, join(fed.dir, 'job.yaml'), parts);
  }, 600_000);

  afterAll(async () => {
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
    await fed.close();
  });

  /** Evaluation-time class probabilities, rows × K. */
  const probabilities = (): Float64Array =>
    oneVsRestProbabilities(
      reference.guest.map((g, i) => g + (reference.host[i] ?? 0)),
      reference.outputs,
    );

  it("reproduces the job's own validation accuracy and log-loss from the model parts (the reference is evaluation-time)", () => {
    expect(reference.outputs).toBe(4);
    const p = probabilities();
    const report = multiclassReport(p, reference.labels, 4);
    expect(report.rows).toBe(metrics.rows);
    expect(report.accuracy).toBe(metrics.accuracy);
    let loss = 0;
    reference.labels.forEach((y, i) => (loss -= Math.log(Math.max(p[i * 4 + y] ?? 0, 1e-15))));
    expect(loss / reference.labels.length).toBeCloseTo(metrics.logLoss, 12);
  });

  it(
    'exports both parts, serves them in separate processes, and serves the evaluation-time probabilities',
    { timeout: 180_000 },
    async () => {
      const models = { brand: join(fed.dir, 'brand-model'), partner: join(fed.dir, 'partner-model') };
      for (const name of ['brand', 'partner'] as const) {
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
      // This host discloses membership, so the guest's fallback for a visitor it does not hold shows below.
      const host = await serve(cli, [
        '--model',
        models.partner,
        '--config',
        partyConfigFile(fed, 'partner'),
        '--disclose-membership',
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
      const token = await bearerToken(guest.tokenFile ?? '');
      expect((await http(guest.port, 'GET', '/v1/model', undefined, token)).json).toMatchObject({
        jobId,
        outputs: 4,
        classes: ['0', '1', '2', '3'],
      });

      const raw = await rawRows(join(ROOT, 'examples/data/vehicle_guest.csv.gz'));
      const features = (id: string): Record<string, string> => {
        const { id: _id, y: _label, ...rest } = raw.get(id) ?? {};
        return rest;
      };
      const classes = parts.guest.classes ?? [];
      const p = probabilities();
      let worst = 0;
      type Served = {
        id: string;
        segment: string;
        probability: number;
        probabilities: Record<string, number>;
        complete: boolean;
        hosts: Record<string, string>;
      };
      const check = (r: Served, i: number): void => {
        expect(r).toMatchObject({ id: reference.ids[i], complete: true, hosts: { partner: 'ok' } });
        const expected = classes.map((_, c) => p[i * 4 + c] ?? NaN);
        classes.forEach(
          (label, c) => (worst = Math.max(worst, Math.abs((r.probabilities[label] ?? NaN) - (expected[c] ?? NaN)))),
        );
        expect(r.segment).toBe(classes[expected.indexOf(Math.max(...expected))]);
      };
      for (let start = 0; start < reference.ids.length; start += 50) {
        const ids = reference.ids.slice(start, start + 50);
        const res = await http(
          guest.port,
          'POST',
          '/v1/score-batch',
          { rows: ids.map((id) => ({ id, features: features(id) })) },
          token,
        );
        expect(res.status, res.text).toBe(200);
        (res.json['results'] as Served[]).forEach((r, k) => check(r, start + k));
      }
      expect(worst).toBeLessThan(1e-6);

      // The same over gRPC (mTLS with the brand's certificate).
      const client = new ScoringClient(
        `127.0.0.1:${guest.grpcPort ?? 0}`,
        channelCredentials(await loadNodeIdentity(fed.certs('brand'))),
        { 'grpc.ssl_target_name_override': 'brand' },
      );
      const ids = reference.ids.slice(0, 50);
      const viaGrpc = await new Promise<tandem.v1.ScoreBatchResponse>((resolve, reject) => {
        const rows = ids.map((id) => ({
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
      worst = 0;
      // ScoreResponse has the JSON answer's fields (probabilities and hosts as maps).
      viaGrpc.results.forEach((r, i) => check(r as unknown as Served, i));
      expect(viaGrpc.results).toHaveLength(ids.length);
      expect(worst).toBeLessThan(1e-6);

      // A visitor the host does not hold: the guest's own part, and the answer says so.
      const one = reference.ids[0] ?? '';
      const stranger = await http(
        guest.port,
        'POST',
        '/v1/score',
        { id: 'not-a-customer', features: features(one) },
        token,
      );
      expect(stranger.json).toMatchObject({ complete: false, hosts: { partner: 'not-held' } });
      expect(Object.values(stranger.json['logits'] as Record<string, number>)).toEqual(
        Array.from(reference.guest.subarray(0, 4)),
      );

      // A multi-class part cannot rank a lookalike audience.
      const pool = await runCli(cli, [
        'model',
        'score-pool',
        '--config',
        partyConfigFile(fed, 'partner'),
        '--model',
        models.partner,
        '--pool',
        join(ROOT, 'examples/data/vehicle_host.csv.gz'),
        '--out',
        join(fed.dir, 'audience.csv'),
      ]);
      expect(pool.status).not.toBe(0);
      expect(pool.stderr).toMatch(
        /the model is a 4-class \(cold-start\) model: score-pool ranks a lookalike audience by one binary score/,
      );

      for (const s of [guest, host]) {
        s.child.kill('SIGTERM');
        expect(await s.exited, s.stderr()).toBe(0);
      }
    },
  );
});
