/**
 * One live connection per party (issue #16): a rogue connection with the
 * partner's certificate during a running job is refused while the real
 * partner is connected, receives nothing and acknowledges nothing, and the
 * job completes with the model an undisturbed run trains.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exampleParties, lrSpec, runJob, startFederation, type Federation } from '../support/federation.ts';
import { loadNodeIdentity } from '../../runtime/certs.ts';
import { PartySession } from '../../party/grpc-session.ts';
import { compileWireLimits } from '../../protocol/wire/chunking.ts';
import type { Envelope } from '../../protocol/wire/envelope.ts';
import { pino } from 'pino';
import { Writable } from 'node:stream';

type GuestSummary = { metrics: { auc: number }; epochs: number };

describe('a second connection with a party\'s certificate', () => {
  let fed: Federation;
  beforeAll(async () => {
    fed = await startFederation({ parties: exampleParties('breast') });
  });
  afterAll(async () => {
    await fed.close();
  });

  it('is refused while the party is connected, gets nothing, and the job still trains the same model', { timeout: 300_000 }, async () => {
    const spec = lrSpec({ training: { maxEpochs: 8, tolerance: 0 } });
    const undisturbed = await runJob(fed, spec, 'undisturbed.yaml');
    expect(undisturbed.stage, undisturbed.message).toBe('completed');

    // The rogue: the partner's own certificate, trying to connect every few hundred ms during the next job.
    const received: Envelope[] = [];
    const warnings: string[] = [];
    const sink = new Writable({ write: (chunk: Buffer, _e, done) => { warnings.push(chunk.toString()); done(); } });
    const rogue = new PartySession({
      name: 'partner', address: fed.address, identity: await loadNodeIdentity(fed.certs('partner')), limits: compileWireLimits(),
      log: pino({ level: 'warn' }, sink), audit: { record: () => undefined },
      heartbeatIntervalMs: 500, serverName: 'coordinator', onEnvelope: (e) => received.push(e),
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
  });
});
