import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError, TandemError } from '../protocol/errors.ts';
import { loadNodeIdentity, verifyPeerCertificate } from './certs.ts';
import { addCertificate, createCertificateAuthority, initCertificates } from './certificate-authority.ts';

const DAY_MS = 86_400_000;
const NOW = new Date('2030-06-01T12:00:00Z');

async function failure(fn: () => unknown): Promise<unknown> {
  try {
    await fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected a failure');
}

/** Every file in `dir` with its bytes. */
function snapshot(dir: string): Record<string, string> {
  return Object.fromEntries(
    readdirSync(dir)
      .sort()
      .map((f) => [f, readFileSync(join(dir, f), 'utf8')]),
  );
}

describe('addCertificate', () => {
  let dir: string;
  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tandem-certs-add-'));
    await initCertificates({ outDir: dir, parties: ['brand', 'partner'], now: NOW, validityDays: 30 });
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('issues a new identity from the existing CA and touches no other file', async () => {
    const before = snapshot(dir);

    const { files, validUntil } = await addCertificate({ outDir: dir, name: 'operator', now: NOW, validityDays: 7 });

    const after = snapshot(dir);
    expect(Object.keys(after)).toEqual([...Object.keys(before), 'operator.crt', 'operator.key'].sort());
    for (const [file, text] of Object.entries(before)) expect(after[file], file).toBe(text);
    expect(files.map((f) => [f.node, f.kind, statSync(f.path).mode & 0o777])).toEqual([
      ['operator', 'certificate', 0o644],
      ['operator', 'private key', 0o600],
    ]);
    expect(validUntil.getTime() - NOW.getTime()).toBe(7 * DAY_MS);
    const identity = await loadNodeIdentity(
      { ca: join(dir, 'ca.crt'), cert: join(dir, 'operator.crt'), key: join(dir, 'operator.key') },
      NOW,
    );
    expect(identity.name).toBe('operator');
    expect(verifyPeerCertificate(identity.certPem, readFileSync(join(dir, 'ca.crt'), 'utf8'), NOW)).toBe('operator');
  });

  it('puts the hosts on the certificate for an identity that serves', async () => {
    await addCertificate({ outDir: dir, name: 'scoring', hosts: ['score.example.com', '10.0.0.5'], now: NOW });

    expect(new X509Certificate(readFileSync(join(dir, 'scoring.crt'))).subjectAltName).toBe(
      'URI:tandem://scoring, DNS:scoring, DNS:score.example.com, IP Address:10.0.0.5',
    );
  });

  it('never lets a certificate outlive the CA that signed it', async () => {
    const { validUntil } = await addCertificate({ outDir: dir, name: 'operator', now: NOW, validityDays: 3650 });

    expect(validUntil.getTime()).toBe(new X509Certificate(readFileSync(join(dir, 'ca.crt'))).validToDate.getTime());
    expect(new X509Certificate(readFileSync(join(dir, 'operator.crt'))).validToDate.getTime()).toBe(
      validUntil.getTime(),
    );
  });

  it('refuses to replace an existing identity without force, and with force replaces only its files', async () => {
    const before = snapshot(dir);

    const error = await failure(() => addCertificate({ outDir: dir, name: 'brand', now: NOW }));
    const unchanged = snapshot(dir);
    await addCertificate({ outDir: dir, name: 'brand', now: NOW, force: true });
    const after = snapshot(dir);

    expect(error).toBeInstanceOf(TandemError);
    expect(error).toMatchObject({
      code: 'CERTS_EXIST',
      message: `${join(dir, 'brand.crt')}, ${join(dir, 'brand.key')} already exist. Fix: choose another name, or pass --force to issue brand a new key and certificate (the old certificate stays valid until it expires: nothing revokes it)`,
    });
    expect(unchanged).toEqual(before);
    expect(after['brand.key']).not.toBe(before['brand.key']);
    expect(Object.entries(after).filter(([f, text]) => !f.startsWith('brand.') && text !== before[f])).toEqual([]);
  });

  it('refuses the name "ca", whatever the flags: nothing here replaces a CA', async () => {
    const before = snapshot(dir);

    const error = await failure(() => addCertificate({ outDir: dir, name: 'ca', force: true }));

    expect(error).toBeInstanceOf(ConfigError);
    expect(error).toMatchObject({
      code: 'CONFIG_INVALID',
      message:
        'certs add: NAME: "ca" is the CA itself. Fix: `certs add` never replaces the CA; to start a new federation, run `tandem certs init` in another --out directory',
    });
    expect(snapshot(dir)).toEqual(before);
  });

  it('needs the CA key, and says where it looked and what to do', async () => {
    rmSync(join(dir, 'ca.key'));

    const error = await failure(() => addCertificate({ outDir: dir, name: 'operator' }));

    expect(error).toBeInstanceOf(ConfigError);
    expect(error).toMatchObject({ code: 'CONFIG_NOT_FOUND', file: join(dir, 'ca.key') });
    expect((error as Error).message).toContain(
      'does not exist: certs add signs with the CA key. Fix: pass --out the directory `tandem certs init` wrote',
    );
    expect(() => statSync(join(dir, 'operator.crt'))).toThrow(/ENOENT/);
  });

  it('refuses a CA key that is not the key of ca.crt', async () => {
    writeFileSync(
      join(dir, 'ca.key'),
      (
        await createCertificateAuthority({
          commonName: 'other',
          notBefore: NOW,
          notAfter: new Date(NOW.getTime() + DAY_MS),
        })
      ).keyPem,
    );

    const error = await failure(() => addCertificate({ outDir: dir, name: 'operator', now: NOW }));

    expect(error).toMatchObject({
      code: 'CONFIG_INVALID',
      message: `${join(dir, 'ca.key')}: --out: is not the key of the CA certificate ca.crt next to it. Fix: point --out at a directory written by \`tandem certs init\`, with its ca.crt and ca.key untouched`,
    });
  });

  it.each([
    [
      { name: 'Operator' },
      'certs add: NAME: "Operator" is not a node name. Fix: use lowercase letters, digits and dashes, starting with a letter (it becomes the CN and the file name)',
    ],
    [
      { name: 'operator', hosts: ['bad host'] },
      'certs add: --hosts: "bad host" is neither an IP address nor a DNS name. Fix: list the names and addresses it is reached at, e.g. --hosts coord.example.com,10.0.0.5',
    ],
    [{ name: 'operator', validityDays: 0 }, 'certs add: --days: is 0. Fix: use a whole number of days from 1 to 3650'],
  ])('rejects bad options before reading the CA: %j', async (options, message) => {
    const error = await failure(() => addCertificate({ outDir: join(dir, 'nowhere'), ...options }));

    expect(error).toBeInstanceOf(ConfigError);
    expect(error).toMatchObject({ code: 'CONFIG_INVALID', message });
  });
});
