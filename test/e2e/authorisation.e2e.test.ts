/**
 * Who may talk to the coordinator, and about which job: a certificate from
 * another CA is refused at the TLS handshake; a name the CA signed but the
 * federation does not register is turned away; a registered party cannot
 * read, or send in, a job that does not name it; nobody but an admin can
 * submit; party-to-party plaintext is never relayed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeMessage, REFUSED } from '../../protocol/messages.ts';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import * as grpc from '@grpc/grpc-js';
import { CoordinatorClient } from '../../runtime/grpc-service.ts';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { exampleParties, lrSpec, startFederation, type Federation } from '../support/federation.ts';
import { AdminClient } from '../../runtime/admin-client.ts';
import { loadNodeIdentity } from '../../runtime/certs.ts';
import { initCertificates } from '../../runtime/certificate-authority.ts';
import { PartySession } from '../../party/grpc-session.ts';
import { silentLogger } from '../../runtime/logger.ts';
import { compileWireLimits } from '../../protocol/wire/chunking.ts';
import { makeEnvelope, type Envelope } from '../../protocol/wire/envelope.ts';
import type { TandemError } from '../../protocol/errors.ts';

async function session(
  fed: Federation,
  name: string,
  certs = fed.certs(name),
): Promise<{ session: PartySession; inbox: Envelope[] }> {
  const inbox: Envelope[] = [];
  const s = new PartySession({
    name,
    address: fed.address,
    identity: await loadNodeIdentity(certs),
    limits: compileWireLimits(),
    log: silentLogger(),
    audit: { record: () => undefined },
    heartbeatIntervalMs: 500,
    serverName: 'coordinator',
    onEnvelope: (e) => inbox.push(e),
  });
  return { session: s, inbox };
}

async function until<T>(what: string, probe: () => T | undefined, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('authorisation', () => {
  let fed: Federation;
  let foreign: string;
  let jobId: string;

  beforeAll(async () => {
    fed = await startFederation({ parties: exampleParties('breast'), idle: ['intruder'], unregistered: ['stranger'] });
    foreign = await mkdtemp(join(tmpdir(), 'tandem-foreign-'));
    await initCertificates({ outDir: foreign, parties: ['brand'], extraNames: ['admin'] });
    // A long job so it is still running while the intruder tries its luck.
    const admin = await fed.admin();
    jobId = (await admin.submit(await fed.write('job.yaml', lrSpec({ training: { maxEpochs: 200, tolerance: 0 } }))))
      .jobId;
    admin.close();
  });

  afterAll(async () => {
    const admin = await fed.admin();
    await admin.cancel(jobId).catch(() => undefined);
    admin.close();
    await fed.close();
    await rm(foreign, { recursive: true, force: true });
  });

  it('refuses a client whose certificate comes from another CA', async () => {
    // The client trusts the federation CA (so it would accept the server) but
    // presents a certificate from another CA: only the server can refuse it.
    const credentials = grpc.credentials.createSsl(
      await readFile(fed.certs('admin').ca),
      await readFile(join(foreign, 'admin.key')),
      await readFile(join(foreign, 'admin.crt')),
    );
    const raw = new CoordinatorClient(fed.address, credentials, {
      'grpc.ssl_target_name_override': 'coordinator',
    }) as unknown as grpc.Client & { listJobs(req: object, cb: (e: grpc.ServiceError | null) => void): void };
    const error = await new Promise<grpc.ServiceError | null>((resolve) => raw.listJobs({ limit: 5 }, resolve));
    raw.close();
    expect(error?.code).toBe(grpc.status.UNAVAILABLE);
    // The same call with the federation's own admin certificate works: the refusal is about the CA.
    const admin = await fed.admin();
    await expect(admin.list(5)).resolves.toBeInstanceOf(Array);
    admin.close();
    // The CLI's own client refuses to even load a foreign certificate, naming the file and the fix.
    await expect(
      AdminClient.connect({
        coordinator: fed.address,
        ca: fed.certs('admin').ca,
        cert: join(foreign, 'admin.crt'),
        key: join(foreign, 'admin.key'),
      }),
    ).rejects.toMatchObject({ code: 'AUTH_CERTIFICATE_REJECTED' });
    // A party node likewise refuses to start with one.
    await expect(
      session(fed, 'brand', {
        ca: fed.certs('brand').ca,
        cert: join(foreign, 'brand.crt'),
        key: join(foreign, 'brand.key'),
      }),
    ).rejects.toMatchObject({ code: 'AUTH_CERTIFICATE_REJECTED' });
  });

  it('turns away a certificate the CA signed for a name the federation does not register', async () => {
    const { session: s } = await session(fed, 'stranger');
    s.start();
    const [error] = (await once(s, 'fatal')) as [TandemError];
    s.close();
    expect(error.code).toBe('AUTH_NOT_ALLOWED');
    expect(error.message).toMatch(/not a registered party/);
  });

  it('lets only admins submit, and only named parties read a job', async () => {
    const asBrand = await fed.admin('brand');
    await expect(asBrand.submit(await fed.write('job2.yaml', lrSpec()))).rejects.toMatchObject({
      code: 'AUTH_NOT_ALLOWED',
    });
    await expect(asBrand.get(jobId)).resolves.toMatchObject({ jobId });
    asBrand.close();
    const asIntruder = await fed.admin('intruder');
    await expect(asIntruder.get(jobId)).rejects.toMatchObject({ code: 'AUTH_NOT_ALLOWED' });
    asIntruder.close();
  });

  it('refuses messages from a registered party in a job that does not name it', async () => {
    const { session: s, inbox } = await session(fed, 'intruder');
    s.start();
    await once(s, 'connected');
    const header = {
      jobId,
      round: 1,
      step: 'residual',
      sender: 'intruder',
      recipient: 'partner',
      seq: 0,
      kind: 'ciphertext' as const,
    };
    s.send(makeEnvelope(header, new Uint8Array(64), true, Date.now()));
    const refusal = await until('a refusal', () => inbox.find((e) => e.step === 'refused'));
    s.close();
    const body = decodeMessage(REFUSED, refusal.body);
    expect(body.code).toBe('JOB_NOT_PARTICIPANT');
  });

  it('refuses to relay an unsealed party-to-party payload, even from a named party', async () => {
    // The partner's node stops (a second session would be refused while it runs: one live connection
    // per party), and a session by hand takes its place in the running job.
    await fed.parties.get('partner')?.close();
    const { session: s, inbox } = await session(fed, 'partner');
    s.start();
    await once(s, 'connected');
    const header = {
      jobId,
      round: 9999,
      step: 'basis',
      sender: 'partner',
      recipient: 'brand',
      seq: 0,
      kind: 'ciphertext' as const,
    };
    s.send(makeEnvelope(header, new Uint8Array(64), false, Date.now()));
    const refusal = await until('a refusal', () => inbox.find((e) => e.step === 'refused'));
    s.close();
    const body = decodeMessage(REFUSED, refusal.body);
    expect(body.code).toBe('AUTH_NOT_ALLOWED');
  });
});
