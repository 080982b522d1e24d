import { X509Certificate } from 'node:crypto';
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuthError, ConfigError, TandemError } from '../protocol/errors.ts';
import { sign, verify } from '../protocol/crypto/signing.ts';
import { loadNodeIdentity, verifyPeerCertificate } from './certs.ts';
import { createCertificateAuthority, initCertificates, issueCertificate } from './certificate-authority.ts';

const DAY_MS = 86_400_000;
const NOW = new Date('2030-06-01T12:00:00Z');

/** Runs `fn` and returns what it threw, so a test can assert class, code and message together. */
async function failure(fn: () => unknown): Promise<unknown> {
  try {
    await fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected a failure');
}

describe('certs', () => {
  let dir: string;
  const at = (name: string): string => join(dir, name);
  const paths = (node: string) => ({ ca: at('ca.crt'), cert: at(`${node}.crt`), key: at(`${node}.key`) });
  const pem = (name: string): string => readFileSync(at(name), 'utf8');

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tandem-certs-'));
    await initCertificates({
      outDir: dir,
      parties: ['brand', 'partner'],
      extraNames: ['admin'],
      now: NOW,
      validityDays: 30,
    });
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  describe('initCertificates', () => {
    it('writes a CA and a key and certificate per node, with private keys readable only by the owner', () => {
      const names = ['ca', 'coordinator', 'brand', 'partner', 'admin'];

      const modes = names.flatMap((n) => [`${n}.crt`, `${n}.key`]).map((f) => [f, statSync(at(f)).mode & 0o777]);

      expect(modes).toEqual(
        names.flatMap((n) => [
          [`${n}.crt`, 0o644],
          [`${n}.key`, 0o600],
        ]),
      );
      expect(pem('brand.key')).toMatch(/^-----BEGIN PRIVATE KEY-----\n/);
    });

    it('makes a self-signed CA that may sign certificates', () => {
      const ca = new X509Certificate(pem('ca.crt'));

      expect(ca.ca).toBe(true);
      expect(ca.verify(ca.publicKey)).toBe(true);
      expect(ca.subject).toMatch(/^CN=Tandem dev CA 2030-06-01 [0-9a-f]{6}$/);
    });

    it('names each node in the CN and a tandem:// SAN, signs it with the CA and allows server and client TLS', () => {
      const ca = new X509Certificate(pem('ca.crt'));
      const brand = new X509Certificate(pem('brand.crt'));

      expect(brand.subject).toBe('CN=brand');
      expect(brand.subjectAltName).toBe('URI:tandem://brand, DNS:brand');
      expect(brand.verify(ca.publicKey)).toBe(true);
      expect(brand.ca).toBe(false);
      expect(brand.keyUsage).toEqual(['1.3.6.1.5.5.7.3.1', '1.3.6.1.5.5.7.3.2']);
      expect(brand.validToDate.getTime() - NOW.getTime()).toBe(30 * DAY_MS);
    });

    it('puts the hosts on the coordinator certificate so hostname checks pass on loopback', () => {
      const coordinator = new X509Certificate(pem('coordinator.crt'));

      expect(coordinator.subjectAltName).toBe(
        'URI:tandem://coordinator, DNS:coordinator, DNS:localhost, IP Address:127.0.0.1',
      );
      expect(coordinator.checkHost('localhost')).toBe('localhost');
      expect(coordinator.checkIP('127.0.0.1')).toBe('127.0.0.1');
    });

    it('refuses to overwrite existing files without force, names them and leaves them untouched', async () => {
      const before = pem('ca.crt');

      const error = await failure(() => initCertificates({ outDir: dir, parties: ['brand', 'partner'] }));

      expect(error).toBeInstanceOf(TandemError);
      expect(error).toMatchObject({ code: 'CERTS_EXIST' });
      expect((error as Error).message).toBe(
        `${at('ca.crt')}, ${at('ca.key')}, ${at('coordinator.crt')} and 5 more already exist. Fix: pass --force to overwrite, or choose another --out directory`,
      );
      expect(pem('ca.crt')).toBe(before);
    });

    it('overwrites with force and makes a key that had become world-readable private again', async () => {
      const other = mkdtempSync(join(tmpdir(), 'tandem-certs-force-'));
      await initCertificates({ outDir: other, parties: ['brand'] });
      chmodSync(join(other, 'brand.key'), 0o644);
      const before = readFileSync(join(other, 'ca.crt'), 'utf8');

      await initCertificates({ outDir: other, parties: ['brand'], force: true });

      expect(readFileSync(join(other, 'ca.crt'), 'utf8')).not.toBe(before);
      expect(statSync(join(other, 'brand.key')).mode & 0o777).toBe(0o600);
      rmSync(other, { recursive: true, force: true });
    });

    it.each([
      [
        { parties: [] },
        'certs init: --parties: names no party. Fix: name at least one party, e.g. --parties brand,partner',
      ],
      [
        { parties: ['Brand'] },
        'certs init: --parties/--extra: "Brand" is not a node name. Fix: use lowercase letters, digits and dashes, starting with a letter (it becomes the CN and the file name)',
      ],
      [
        { parties: ['../etc'] },
        'certs init: --parties/--extra: "../etc" is not a node name. Fix: use lowercase letters, digits and dashes, starting with a letter (it becomes the CN and the file name)',
      ],
      [
        { parties: ['ca'] },
        'certs init: --parties/--extra: "ca" is reserved for the CA files. Fix: choose another name',
      ],
      [
        { parties: ['brand', 'coordinator'] },
        'certs init: --parties/--extra: "coordinator" appears twice. Fix: give every node a distinct name',
      ],
      [
        { parties: ['brand'], hosts: ['bad host'] },
        'certs init: --hosts: "bad host" is neither an IP address nor a DNS name. Fix: list the names and addresses the coordinator is reached at, e.g. --hosts localhost,127.0.0.1,coord.example.com',
      ],
      [
        { parties: ['brand'], validityDays: 0 },
        'certs init: --days: is 0. Fix: use a whole number of days from 1 to 3650',
      ],
    ])('rejects bad options before writing anything: %j', async (options, message) => {
      const empty = join(dir, 'never-created');

      const error = await failure(() => initCertificates({ outDir: empty, ...options }));

      expect(error).toBeInstanceOf(ConfigError);
      expect(error).toMatchObject({ code: 'CONFIG_INVALID', message });
      expect(() => statSync(empty)).toThrow(/ENOENT/);
    });
  });

  describe('loadNodeIdentity', () => {
    it('loads a node whose key matches its certificate and reports its name and fingerprint', async () => {
      const identity = await loadNodeIdentity(paths('brand'), NOW);

      expect(identity.name).toBe('brand');
      expect(identity.fingerprintSha256).toBe(new X509Certificate(pem('brand.crt')).fingerprint256);
      expect(identity.fingerprintSha256).toMatch(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
      expect(identity.publicKey.equals(new X509Certificate(identity.certDer).publicKey)).toBe(true);
      expect(identity.caPem).toBe(pem('ca.crt'));
    });

    it('signs with the node key so that anyone holding its certificate can verify', async () => {
      const identity = await loadNodeIdentity(paths('brand'), NOW);
      const statement = new TextEncoder().encode('party-key job-1 brand');

      const signature = sign(identity.privateKey, statement);

      expect(verify(pem('brand.crt'), statement, signature)).toBe(true);
      expect(verify(pem('partner.crt'), statement, signature)).toBe(false);
    });

    it('never shows the private key when the identity is logged', async () => {
      const identity = await loadNodeIdentity(paths('brand'), NOW);

      const shown = [JSON.stringify(identity), inspect(identity)];

      for (const text of shown) expect(text).not.toContain('PRIVATE KEY');
      expect(JSON.parse(shown[0]!)).toEqual({
        name: 'brand',
        fingerprintSha256: identity.fingerprintSha256,
        keyPem: '[redacted]',
      });
    });

    it('names the missing file, the field and the fix when a file does not exist', async () => {
      const error = await failure(() => loadNodeIdentity({ ...paths('brand'), key: at('nobody.key') }, NOW));

      expect(error).toBeInstanceOf(ConfigError);
      expect(error).toMatchObject({ code: 'CONFIG_NOT_FOUND', file: at('nobody.key'), field: 'certs.key' });
      expect((error as Error).message).toBe(
        `${at('nobody.key')}: certs.key: does not exist. Fix: run \`tandem certs init --parties <names>\` for dev certificates, or point certs.key at an existing PEM file`,
      );
    });

    it('rejects a key that belongs to another node', async () => {
      const error = await failure(() => loadNodeIdentity({ ...paths('brand'), key: at('partner.key') }, NOW));

      expect(error).toBeInstanceOf(ConfigError);
      expect(error).toMatchObject({
        code: 'CONFIG_INVALID',
        message: `${at('partner.key')}: certs.key: does not match the certificate ${at('brand.crt')}. Fix: use the key that was issued with ${at('brand.crt')}`,
      });
    });

    it('rejects a file that is not a certificate', async () => {
      const error = await failure(() => loadNodeIdentity({ ...paths('brand'), cert: at('brand.key') }, NOW));

      expect(error).toBeInstanceOf(ConfigError);
      expect(error).toMatchObject({ code: 'CONFIG_INVALID', field: 'certs.cert' });
      expect((error as Error).message).toContain('is not a PEM certificate');
    });

    it('rejects a CA file that is not a CA certificate', async () => {
      const error = await failure(() => loadNodeIdentity({ ...paths('brand'), ca: at('partner.crt') }, NOW));

      expect(error).toBeInstanceOf(ConfigError);
      expect(error).toMatchObject({
        code: 'CONFIG_INVALID',
        message: `${at('partner.crt')}: certs.ca: is not a CA certificate (basicConstraints CA:TRUE is missing). Fix: point certs.ca at the federation CA certificate (ca.crt)`,
      });
    });

    it('rejects a certificate and key issued by another CA, naming the file', async () => {
      const foreignCa = await createCertificateAuthority({
        commonName: 'Mallory CA',
        notBefore: NOW,
        notAfter: new Date(NOW.getTime() + DAY_MS),
      });
      const forged = await issueCertificate({
        caCertPem: foreignCa.certPem,
        caKeyPem: foreignCa.keyPem,
        name: 'brand',
        notBefore: NOW,
        notAfter: new Date(NOW.getTime() + DAY_MS),
      });
      writeFileSync(at('forged.crt'), forged.certPem);
      writeFileSync(at('forged.key'), forged.keyPem);

      const error = await failure(() => loadNodeIdentity(paths('forged'), NOW));

      expect(error).toBeInstanceOf(AuthError);
      expect(error).toMatchObject({ code: 'AUTH_CERTIFICATE_REJECTED' });
      expect((error as Error).message).toMatch(
        new RegExp(`^${at('forged.crt')}: is not signed by the federation CA \\(issuer "CN=Mallory CA"`),
      );
    });

    it('rejects an expired node certificate, naming the file and the dates', async () => {
      const expired = await issueCertificate({
        caCertPem: pem('ca.crt'),
        caKeyPem: pem('ca.key'),
        name: 'brand',
        notBefore: new Date(NOW.getTime() - 2 * DAY_MS),
        notAfter: new Date(NOW.getTime() - DAY_MS),
      });
      writeFileSync(at('expired.crt'), expired.certPem);
      writeFileSync(at('expired.key'), expired.keyPem);

      const error = await failure(() => loadNodeIdentity(paths('expired'), NOW));

      expect(error).toBeInstanceOf(AuthError);
      expect(error).toMatchObject({ code: 'AUTH_CERTIFICATE_REJECTED' });
      expect((error as Error).message).toBe(
        `${at('expired.crt')}: expired (valid from 2030-05-30T12:00:00.000Z to 2030-05-31T12:00:00.000Z, now 2030-06-01T12:00:00.000Z). Fix: issue a new certificate (dev: \`tandem certs init --force\`)`,
      );
    });

    it('rejects an expired CA before looking at the node certificate', async () => {
      const later = new Date(NOW.getTime() + 31 * DAY_MS);

      const error = await failure(() => loadNodeIdentity(paths('brand'), later));

      expect(error).toBeInstanceOf(AuthError);
      expect((error as Error).message).toBe(
        `${at('ca.crt')}: the CA certificate: expired (valid from 2030-06-01T11:00:00.000Z to 2030-07-01T12:00:00.000Z, now 2030-07-02T12:00:00.000Z). Fix: issue a new certificate (dev: \`tandem certs init --force\`)`,
      );
    });

    it('accepts certificates for an hour before their issue time, and not earlier', async () => {
      const justBefore = new Date(NOW.getTime() - 59 * 60_000);
      const tooEarly = new Date(NOW.getTime() - 2 * 3_600_000);

      const identity = await loadNodeIdentity(paths('brand'), justBefore);
      const error = await failure(() => loadNodeIdentity(paths('brand'), tooEarly));

      expect(identity.name).toBe('brand');
      expect(error).toBeInstanceOf(AuthError);
      expect((error as Error).message).toMatch(
        /ca\.crt: the CA certificate: is not valid yet \(valid from 2030-06-01T11:00:00\.000Z/,
      );
    });
  });

  describe('verifyPeerCertificate', () => {
    it('returns the node name for a certificate from the CA, given as DER or PEM', async () => {
      const partner = await loadNodeIdentity(paths('partner'), NOW);

      expect(verifyPeerCertificate(partner.certDer, pem('ca.crt'), NOW)).toBe('partner');
      expect(verifyPeerCertificate(partner.certPem, pem('ca.crt'), NOW)).toBe('partner');
    });

    it('rejects a certificate issued by a different CA with the same node name', async () => {
      const foreignCa = await createCertificateAuthority({
        commonName: 'Mallory CA',
        notBefore: NOW,
        notAfter: new Date(NOW.getTime() + DAY_MS),
      });
      const forged = await issueCertificate({
        caCertPem: foreignCa.certPem,
        caKeyPem: foreignCa.keyPem,
        name: 'brand',
        notBefore: NOW,
        notAfter: new Date(NOW.getTime() + DAY_MS),
      });

      const error = await failure(() => verifyPeerCertificate(forged.certPem, pem('ca.crt'), NOW));

      expect(error).toBeInstanceOf(AuthError);
      expect(error).toMatchObject({ code: 'AUTH_CERTIFICATE_REJECTED' });
      expect((error as Error).message).toMatch(
        /^the peer certificate: is not signed by the federation CA \(issuer "CN=Mallory CA", expected "CN=Tandem dev CA /,
      );
    });

    it('rejects an expired certificate from our own CA, giving its dates', async () => {
      const expired = await issueCertificate({
        caCertPem: pem('ca.crt'),
        caKeyPem: pem('ca.key'),
        name: 'brand',
        notBefore: new Date(NOW.getTime() - 2 * DAY_MS),
        notAfter: new Date(NOW.getTime() - DAY_MS),
      });

      const error = await failure(() => verifyPeerCertificate(expired.certPem, pem('ca.crt'), NOW));

      expect(error).toBeInstanceOf(AuthError);
      expect((error as Error).message).toBe(
        'the peer certificate: expired (valid from 2030-05-30T12:00:00.000Z to 2030-05-31T12:00:00.000Z, now 2030-06-01T12:00:00.000Z). Fix: issue a new certificate (dev: `tandem certs init --force`)',
      );
    });

    it('rejects the CA certificate itself as a node identity', async () => {
      const error = await failure(() => verifyPeerCertificate(pem('ca.crt'), pem('ca.crt'), NOW));

      expect(error).toBeInstanceOf(AuthError);
      expect((error as Error).message).toBe('the peer certificate: is a CA certificate, not a node certificate');
    });

    it('rejects bytes that are not a certificate', async () => {
      const error = await failure(() => verifyPeerCertificate(new Uint8Array([48, 3, 2, 1, 0]), pem('ca.crt'), NOW));

      expect(error).toBeInstanceOf(AuthError);
      expect((error as Error).message).toBe('the peer certificate could not be parsed');
    });
  });
});
