/**
 * One live connection per party (issue #16): a rogue connection with the
 * partner's certificate during a running job is refused while the real
 * partner is connected, receives nothing and acknowledges nothing, and the
 * job completes with the model an undisturbed run trains. Envelope ids are
 * predictable, so a stream that acknowledges without saying Hello must not
 * drop what the coordinator holds for the party either.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exampleParties, lrSpec, runJob, startFederation, type Federation } from '../support/federation.ts';
import { loadNodeIdentity } from '../../runtime/certs.ts';
import { PartySession } from '../../party/grpc-session.ts';
import { compileWireLimits } from '../../protocol/wire/chunking.ts';
import { envelopeId, type Envelope } from '../../protocol/wire/envelope.ts';
import { CoordinatorClient, grpcOptions } from '../../runtime/grpc-service.ts';
import { channelCredentials } from '../../runtime/grpc-tls.ts';
import { silentLogger } from '../../runtime/logger.ts';
import { JOB_CONTROL } from '../../protocol/messages.ts';
import { COORDINATOR } from '../../protocol/version.ts';
import type { tandem } from '../../protocol/generated/tandem.js';
import type * as grpc from '@grpc/grpc-js';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pino } from 'pino';
import { Writable } from 'node:stream';

type GuestSummary = { metrics: { auc: number }; epochs: number };

describe("a second connection with a party's certificate", () => {
  let fed: Federation;
  beforeAll(async () => {
    fed = await startFederation({ parties: exampleParties('breast') });
  });
  afterAll(async () => {
    await fed.close();
  });

  it(
    'is refused while the party is connected, gets nothing, and the job still trains the same model',
    { timeout: 300_000 },
    async () => {
      // Without noise flooding two runs differ only by CKKS noise (~1e-8, test/e2e/fault-injection.e2e.test.ts).
      const spec = lrSpec({ training: { maxEpochs: 8, tolerance: 0 }, privacy: { noiseFloodingBits: 0 } });
      const undisturbed = await runJob(fed, spec, 'undisturbed.yaml');
      expect(undisturbed.stage, undisturbed.message).toBe('completed');

      // The rogue: the partner's own certificate, trying to connect every few hundred ms during the next job.
      const received: Envelope[] = [];
      const warnings: string[] = [];
      const sink = new Writable({
        write: (chunk: Buffer, _e, done) => {
          warnings.push(chunk.toString());
          done();
        },
      });
      const rogue = new PartySession({
        name: 'partner',
        address: fed.address,
        identity: await loadNodeIdentity(fed.certs('partner')),
        limits: compileWireLimits(),
        log: pino({ level: 'warn' }, sink),
        audit: { record: () => undefined },
        heartbeatIntervalMs: 500,
        serverName: 'coordinator',
        onEnvelope: (e) => received.push(e),
      });
      let connected = false;
      rogue.on('connected', () => (connected = true));
      const running = runJob(fed, spec, 'disturbed.yaml');
      rogue.start();
      const disturbed = await running;
      rogue.close();

      expect(disturbed.stage, disturbed.message).toBe('completed');
      expect(connected).toBe(false);
      expect(received).toEqual([]);
      expect(warnings.join('')).toContain('partner is already connected from');
      const [a, b] = [undisturbed, disturbed].map((r) => r.summaries['brand'] as GuestSummary);
      expect(b!.epochs).toBe(a!.epochs);
      expect(Math.abs(b!.metrics.auc - a!.metrics.auc)).toBeLessThan(0.001);
      for (const party of ['brand', 'partner']) {
        const [x, y] = await Promise.all(
          [undisturbed, disturbed].map(
            async (r) =>
              JSON.parse(await readFile(join(fed.dir, party, 'jobs', r.jobId, 'model-part.json'), 'utf8')) as {
                weights: number[];
                intercept?: number;
              },
          ),
        );
        expect(y!.weights.length).toBe(x!.weights.length);
        const gap = Math.max(
          Math.abs((x!.intercept ?? 0) - (y!.intercept ?? 0)),
          ...x!.weights.map((w, k) => Math.abs(w - (y!.weights[k] ?? NaN))),
        );
        expect(gap, `${party}'s weights`).toBeLessThan(1e-6);
      }
    },
  );
});

describe("a stream with a party's certificate that acknowledges without saying Hello", () => {
  let fed: Federation;
  beforeAll(async () => {
    // No party node runs: the test speaks for the partner itself.
    fed = await startFederation({ parties: [], idle: ['brand', 'partner'] });
  });
  afterAll(async () => {
    await fed.close();
  });

  it(
    'drops nothing: the partner, connecting later, still gets the order to stop the job it missed',
    { timeout: 60_000 },
    async () => {
      const admin = await fed.admin();
      const { jobId } = await admin.submit(await fed.write('job.yaml', lrSpec()));
      await admin.cancel(jobId);
      admin.close();
      const stop = envelopeId({
        jobId,
        round: 0,
        step: JOB_CONTROL.step,
        sender: COORDINATOR,
        recipient: 'partner',
        seq: 0,
      });

      // The forger: the partner's certificate, a raw stream, an ack for the predictable id, then a frame that is not Hello.
      const identity = await loadNodeIdentity(fed.certs('partner'));
      type Connect = { connect(): grpc.ClientDuplexStream<tandem.v1.Frame.$Properties, tandem.v1.Frame> };
      const client = new CoordinatorClient(fed.address, channelCredentials(identity), {
        ...grpcOptions(compileWireLimits()),
        'grpc.ssl_target_name_override': 'coordinator',
      }) as unknown as Connect & grpc.Client;
      const call = client.connect();
      const answered = new Promise<tandem.v1.Frame>((resolve) => call.on('data', resolve));
      call.on('error', () => undefined);
      call.write({ ack: { messageId: stop } });
      call.write({ heartbeat: { sentAtMs: Date.now() } });
      call.write({ welcome: { protocolVersion: 1 } });
      // Frames are handled in order: the answer to the last one means the ack was handled.
      expect((await answered).goodbye?.code).toBe('PROTOCOL_STAGE');
      call.cancel();
      client.close();

      const received: Envelope[] = [];
      const partner = new PartySession({
        name: 'partner',
        address: fed.address,
        identity,
        limits: compileWireLimits(),
        log: silentLogger(),
        audit: { record: () => undefined },
        heartbeatIntervalMs: 500,
        serverName: 'coordinator',
        onEnvelope: (e) => received.push(e),
      });
      partner.start();
      const deadline = Date.now() + 10_000;
      while (!received.some((e) => e.id === stop) && Date.now() < deadline)
        await new Promise((resolve) => setTimeout(resolve, 50));
      partner.close();
      expect(received.map((e) => e.id)).toContain(stop);
    },
  );
});
