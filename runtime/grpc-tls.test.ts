import * as grpc from '@grpc/grpc-js';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuthError } from '../protocol/errors.ts';
import { loadNodeIdentity, type NodeIdentity } from './certs.ts';
import {
  createCertificateAuthority,
  initCertificates,
  issueCertificate,
  type IssuedCertificate,
} from './certificate-authority.ts';
import { channelCredentials, peerName, serverCredentials } from './grpc-tls.ts';

const HOUR_MS = 3_600_000;
const raw = (b: Buffer): Buffer => b;
/** One unary method with raw bytes in and out: enough to see who TLS let in, no .proto needed. */
const IDENTITY_SERVICE = {
  whoAmI: {
    path: '/tandem.test.Identity/WhoAmI',
    requestStream: false,
    responseStream: false,
    requestSerialize: raw,
    requestDeserialize: raw,
    responseSerialize: raw,
    responseDeserialize: raw,
  },
} satisfies grpc.ServiceDefinition;
const IdentityClient = grpc.makeGenericClientConstructor(IDENTITY_SERVICE, 'Identity');
type Outcome = { readonly name: string } | { readonly code: number; readonly details: string };

/** A real mTLS server on 127.0.0.1:0 whose handler answers with `peerName`, read against an adjustable clock. */
async function startServer(identity: NodeIdentity) {
  const server = new grpc.Server();
  const state = { handled: 0, now: (): Date => new Date() };
  server.addService(IDENTITY_SERVICE, {
    whoAmI: (call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) => {
      state.handled += 1;
      try {
        callback(null, Buffer.from(peerName(call, identity, state.now())));
      } catch (error) {
        callback({ code: grpc.status.UNAUTHENTICATED, details: (error as AuthError).publicMessage }, null);
      }
    },
  });
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync('127.0.0.1:0', serverCredentials(identity), (error, bound) =>
      error === null ? resolve(bound) : reject(error),
    );
  });
  return { port, state, stop: () => server.forceShutdown() };
}

type Whoami = (
  request: Buffer,
  options: grpc.CallOptions,
  callback: (error: grpc.ServiceError | null, response?: Buffer) => void,
) => void;

function whoAmI(client: grpc.Client): Promise<Outcome> {
  return new Promise((resolve) => {
    (client as unknown as { whoAmI: Whoami }).whoAmI(
      Buffer.alloc(0),
      { deadline: Date.now() + 10_000 },
      (error, response) => {
        resolve(error === null ? { name: response?.toString() ?? '' } : { code: error.code, details: error.details });
      },
    );
  });
}

/** One call on a fresh channel, closed afterwards. */
async function callOnce(port: number, credentials: grpc.ChannelCredentials): Promise<Outcome> {
  const client = new IdentityClient(`127.0.0.1:${port}`, credentials);
  try {
    return await whoAmI(client);
  } finally {
    client.close();
  }
}

describe('grpc-tls', () => {
  let dir: string;
  let coordinator: NodeIdentity;
  let brand: NodeIdentity;
  let server: Awaited<ReturnType<typeof startServer>>;
  let foreign: { ca: IssuedCertificate; coordinator: IssuedCertificate; brand: IssuedCertificate };
  const pem = (name: string): string => readFileSync(join(dir, name), 'utf8');
  const load = (node: string, ca = 'ca.crt') =>
    loadNodeIdentity({ ca: join(dir, ca), cert: join(dir, `${node}.crt`), key: join(dir, `${node}.key`) });

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tandem-tls-'));
    await initCertificates({ outDir: dir, parties: ['brand', 'partner'], validityDays: 1 });
    [coordinator, brand] = await Promise.all([load('coordinator'), load('brand')]);
    server = await startServer(coordinator);
    const now = Date.now();
    const ca = await createCertificateAuthority({
      commonName: 'Mallory CA',
      notBefore: new Date(now - HOUR_MS),
      notAfter: new Date(now + HOUR_MS),
    });
    const issue = (name: string, hosts: string[] = []) =>
      issueCertificate({
        caCertPem: ca.certPem,
        caKeyPem: ca.keyPem,
        name,
        hosts,
        notBefore: new Date(now - HOUR_MS),
        notAfter: new Date(now + HOUR_MS),
      });
    foreign = { ca, coordinator: await issue('coordinator', ['127.0.0.1']), brand: await issue('brand') };
  });

  afterAll(() => {
    server.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('lets a client with a certificate from the CA in, and the server sees its CN', async () => {
    server.state.handled = 0;

    const outcome = await callOnce(server.port, channelCredentials(brand));

    expect(outcome).toEqual({ name: 'brand' });
    expect(server.state.handled).toBe(1);
  });

  it('refuses a client that presents no certificate, before any handler runs', async () => {
    server.state.handled = 0;

    const outcome = await callOnce(server.port, grpc.credentials.createSsl(Buffer.from(pem('ca.crt'))));

    expect(outcome).toMatchObject({
      code: grpc.status.UNAVAILABLE,
      details: expect.stringContaining('alert certificate required'),
    });
    expect(server.state.handled).toBe(0);
  });

  it('refuses a client whose certificate has the right name but comes from a different CA', async () => {
    server.state.handled = 0;
    const credentials = grpc.credentials.createSsl(
      Buffer.from(pem('ca.crt')),
      Buffer.from(foreign.brand.keyPem),
      Buffer.from(foreign.brand.certPem),
    );

    const outcome = await callOnce(server.port, credentials);

    expect(outcome).toMatchObject({ code: grpc.status.UNAVAILABLE });
    expect(server.state.handled).toBe(0);
  });

  it('refuses a client whose certificate from our CA has expired', async () => {
    server.state.handled = 0;
    const now = Date.now();
    const expired = await issueCertificate({
      caCertPem: pem('ca.crt'),
      caKeyPem: pem('ca.key'),
      name: 'brand',
      notBefore: new Date(now - 2 * HOUR_MS),
      notAfter: new Date(now - HOUR_MS),
    });
    const credentials = grpc.credentials.createSsl(
      Buffer.from(pem('ca.crt')),
      Buffer.from(expired.keyPem),
      Buffer.from(expired.certPem),
    );

    const outcome = await callOnce(server.port, credentials);

    expect(outcome).toMatchObject({ code: grpc.status.UNAVAILABLE });
    expect(server.state.handled).toBe(0);
  });

  it('refuses calls on an open connection once the client certificate has expired', async () => {
    const client = new IdentityClient(`127.0.0.1:${server.port}`, channelCredentials(brand));
    try {
      const before = await whoAmI(client);
      server.state.now = () => new Date(Date.now() + 2 * 24 * HOUR_MS);

      const after = await whoAmI(client);

      expect(before).toEqual({ name: 'brand' });
      expect(after).toEqual({ code: grpc.status.UNAUTHENTICATED, details: 'the peer certificate was rejected' });
    } finally {
      server.state.now = () => new Date();
      client.close();
    }
  });

  it('makes the client refuse a server whose certificate is not from the CA', async () => {
    writeFileSync(join(dir, 'mallory-ca.crt'), foreign.ca.certPem);
    writeFileSync(join(dir, 'impostor.crt'), foreign.coordinator.certPem);
    writeFileSync(join(dir, 'impostor.key'), foreign.coordinator.keyPem);
    const impostor = await startServer(await load('impostor', 'mallory-ca.crt'));
    try {
      const outcome = await callOnce(impostor.port, channelCredentials(brand));

      expect(outcome).toMatchObject({
        code: grpc.status.UNAVAILABLE,
        details: expect.stringContaining('self-signed certificate in certificate chain'),
      });
      expect(impostor.state.handled).toBe(0);
    } finally {
      impostor.stop();
    }
  });

  describe('peerName', () => {
    const callWith = (certificate: Buffer | undefined) => ({
      getAuthContext: () => (certificate === undefined ? {} : { sslPeerCertificate: { raw: certificate } }),
    });

    it('rejects a call that carries no verified peer certificate, with a public message that reveals nothing', () => {
      let error: unknown;
      try {
        peerName(callWith(undefined), coordinator);
      } catch (caught) {
        error = caught;
      }

      expect(error).toBeInstanceOf(AuthError);
      expect(error).toMatchObject({
        code: 'AUTH_CERTIFICATE_REJECTED',
        message: 'the caller presented no verified client certificate',
        publicMessage: 'a client certificate from the federation CA is required',
      });
    });

    it('rejects a peer certificate from another CA even if TLS were to let it through', () => {
      const der = new X509Certificate(foreign.brand.certPem).raw;

      expect(() => peerName(callWith(der), coordinator)).toThrow(AuthError);
      expect(() => peerName(callWith(der), coordinator)).toThrow(
        /^the peer certificate: is not signed by the federation CA \(issuer "CN=Mallory CA"/,
      );
    });
  });
});
