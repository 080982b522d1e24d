/**
 * Node identities. A federation trusts one CA; every node (coordinator,
 * parties, admin clients) holds an ECDSA P-256 key and a certificate signed
 * directly by that CA whose subject CN is the node name. mTLS, the signatures
 * on per-job sealing keys and the audit log all hang off this identity.
 *
 * Verification uses node:crypto's X509Certificate (synchronous, OpenSSL).
 * Chains are one level deep: intermediates are not supported. Making
 * certificates is runtime/certificate-authority.ts.
 */
import { X509Certificate, createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { AuthError, ConfigError } from '../protocol/errors.ts';

/** Node names: the CN, a DNS SAN and a file name, so kept to one DNS label (same rule as job specs). */
export const NODE_NAME = /^[a-z][a-z0-9-]{0,62}$/;

/** Paths to a node's PEM files, as named in its config (`certs: { ca, cert, key }`). */
export type NodeCertificatePaths = { readonly ca: string; readonly cert: string; readonly key: string };

/** A node's verified identity. `toJSON` and `util.inspect` redact the key, so logging it by mistake leaks nothing. */
export type NodeIdentity = {
  /** The certificate's subject CN. */
  readonly name: string;
  readonly caPem: string;
  readonly certPem: string;
  readonly keyPem: string;
  readonly certDer: Uint8Array;
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
  /** SHA-256 of the certificate DER, `AB:CD:…` as `openssl x509 -fingerprint -sha256` prints it. */
  readonly fingerprintSha256: string;
};

/**
 * Reads and checks a node's CA, certificate and key: the certificate must be
 * signed by the CA and valid at `now`, and the key must be its P-256 key.
 * @throws ConfigError `CONFIG_NOT_FOUND` / `CONFIG_INVALID` for missing or unusable files
 * @throws AuthError `AUTH_CERTIFICATE_REJECTED` for a certificate the CA did not sign or that is out of date
 */
export async function loadNodeIdentity(paths: NodeCertificatePaths, now: Date = new Date()): Promise<NodeIdentity> {
  // Settled in order, so the error names the first missing file (ca, cert, key) every time, not whichever read failed first.
  const read = await Promise.allSettled([readPem(paths, 'ca'), readPem(paths, 'cert'), readPem(paths, 'key')]);
  const [caPem, certPem, keyPem] = read.map((r) => {
    if (r.status === 'rejected') throw r.reason;
    return r.value;
  }) as [string, string, string];
  const ca = parseCertificate(caPem, paths.ca, 'ca');
  if (!ca.ca)
    throw invalid(
      paths.ca,
      'ca',
      'is not a CA certificate (basicConstraints CA:TRUE is missing)',
      'point certs.ca at the federation CA certificate (ca.crt)',
    );
  checkValidity(ca, now, `${paths.ca}: the CA certificate`);
  const cert = parseCertificate(certPem, paths.cert, 'cert');
  const name = checkCertificate(cert, ca, now, paths.cert);
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(keyPem);
  } catch (error) {
    throw invalid(
      paths.key,
      'key',
      'is not a PEM private key',
      'point certs.key at the PKCS#8 key written next to the certificate',
      error,
    );
  }
  if (privateKey.asymmetricKeyType !== 'ec' || privateKey.asymmetricKeyDetails?.namedCurve !== 'prime256v1') {
    throw invalid(
      paths.key,
      'key',
      `is a ${privateKey.asymmetricKeyType ?? 'unknown'} key, but Tandem signs with ECDSA P-256`,
      'issue the node an ECDSA P-256 (prime256v1) key',
    );
  }
  const publicKey = createPublicKey(privateKey);
  if (!publicKey.equals(cert.publicKey)) {
    throw invalid(
      paths.key,
      'key',
      `does not match the certificate ${paths.cert}`,
      `use the key that was issued with ${paths.cert}`,
    );
  }
  const identity: NodeIdentity = {
    name,
    caPem,
    certPem,
    keyPem,
    certDer: new Uint8Array(cert.raw),
    privateKey,
    publicKey,
    fingerprintSha256: cert.fingerprint256,
  };
  const redacted = (): object => ({ name, fingerprintSha256: identity.fingerprintSha256, keyPem: '[redacted]' });
  Object.defineProperty(identity, 'toJSON', { value: redacted });
  Object.defineProperty(identity, Symbol.for('nodejs.util.inspect.custom'), { value: redacted });
  return Object.freeze(identity);
}

/**
 * Checks a peer's certificate (DER or PEM) against the federation CA at `now`
 * and returns its node name. Every connection and every signed sealing key goes through here.
 * @throws AuthError `AUTH_CERTIFICATE_REJECTED` naming the reason (and the dates, when out of date)
 */
export function verifyPeerCertificate(
  certDerOrPem: Uint8Array | string,
  caPem: string,
  now: Date = new Date(),
): string {
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(typeof certDerOrPem === 'string' ? certDerOrPem : Buffer.from(certDerOrPem));
  } catch (error) {
    throw new AuthError('AUTH_CERTIFICATE_REJECTED', 'the peer certificate could not be parsed', { cause: error });
  }
  return checkCertificate(cert, caCertificate(caPem), now, 'the peer certificate');
}

let cachedCa: { readonly pem: string; readonly cert: X509Certificate } | undefined;

/** The CA is checked on every call; parsing it once saves work on the hot path. */
function caCertificate(pem: string): X509Certificate {
  if (cachedCa?.pem !== pem) cachedCa = { pem, cert: new X509Certificate(pem) };
  return cachedCa.cert;
}

/** Chain, validity, leaf-ness and a well-formed CN; returns the CN. `label` starts every message. */
function checkCertificate(cert: X509Certificate, ca: X509Certificate, now: Date, label: string): string {
  const reject = (problem: string): AuthError =>
    new AuthError('AUTH_CERTIFICATE_REJECTED', `${label}: ${problem}`, {
      details: { subject: cert.subject, issuer: cert.issuer, fingerprintSha256: cert.fingerprint256 },
    });
  // checkIssued compares names only; the signature check is what proves the CA signed it.
  if (!cert.checkIssued(ca) || !cert.verify(ca.publicKey)) {
    throw reject(
      `is not signed by the federation CA (issuer "${oneLine(cert.issuer)}", expected "${oneLine(ca.subject)}"). Fix: use a certificate issued by this federation's ca.crt`,
    );
  }
  // A CA certificate is never a node identity, even our own.
  if (cert.ca) throw reject('is a CA certificate, not a node certificate');
  checkValidity(cert, now, label);
  const name = commonName(cert);
  if (name === undefined || !NODE_NAME.test(name)) {
    throw reject(
      `has subject "${oneLine(cert.subject)}", but the CN must be a node name (lowercase letters, digits and dashes)`,
    );
  }
  return name;
}

/** @throws AuthError AUTH_CERTIFICATE_REJECTED when `cert` is not valid at `now`; `label` starts the message */
export function checkValidity(cert: X509Certificate, now: Date, label: string): void {
  const from = cert.validFromDate;
  const to = cert.validToDate;
  const window = `valid from ${from.toISOString()} to ${to.toISOString()}, now ${now.toISOString()}`;
  if (now < from)
    throw new AuthError(
      'AUTH_CERTIFICATE_REJECTED',
      `${label}: is not valid yet (${window}). Fix: check the clock, or issue a new certificate`,
    );
  if (now > to)
    throw new AuthError(
      'AUTH_CERTIFICATE_REJECTED',
      `${label}: expired (${window}). Fix: issue a new certificate (dev: \`tandem certs init --force\`)`,
    );
}

function commonName(cert: X509Certificate): string | undefined {
  return cert.subject
    .split('\n')
    .find((part) => part.startsWith('CN='))
    ?.slice(3);
}

const oneLine = (dn: string): string => dn.replaceAll('\n', ', ');

type Which = keyof NodeCertificatePaths;

async function readPem(paths: NodeCertificatePaths, which: Which): Promise<string> {
  const file = paths[which];
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') {
      throw new ConfigError(
        'CONFIG_NOT_FOUND',
        {
          file,
          field: `certs.${which}`,
          problem: 'does not exist',
          fix: `run \`tandem certs init --parties <names>\` for dev certificates, or point certs.${which} at an existing PEM file`,
        },
        { cause: error },
      );
    }
    throw invalid(
      file,
      which,
      `cannot be read (${code ?? String(error)})`,
      'check the path and its permissions',
      error,
    );
  }
}

function parseCertificate(pem: string, file: string, which: Which): X509Certificate {
  try {
    return new X509Certificate(pem);
  } catch (error) {
    throw invalid(
      file,
      which,
      'is not a PEM certificate',
      `point certs.${which} at a file that starts with -----BEGIN CERTIFICATE-----`,
      error,
    );
  }
}

function invalid(file: string, which: Which, problem: string, fix: string, cause?: unknown): ConfigError {
  return new ConfigError(
    'CONFIG_INVALID',
    { file, field: `certs.${which}`, problem, fix },
    cause === undefined ? {} : { cause },
  );
}

// ——— Issuing (dev CA and tests) ———
