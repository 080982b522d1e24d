/**
 * The federation's CA and the identities it issues: `tandem certs init`
 * (a CA and one key and certificate per node) and `tandem certs add` (one
 * more identity from that CA). Certificates are ECDSA P-256, made with
 * @peculiar/x509, which is loaded lazily so serving nodes never load it;
 * runtime/certs.ts loads and verifies them.
 */
import { X509Certificate, createPrivateKey, createPublicKey, randomBytes, webcrypto } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { join } from 'node:path';
import type * as X509 from '@peculiar/x509';
import { ConfigError, TandemError } from '../protocol/errors.ts';
import { checkValidity, NODE_NAME } from './certs.ts';

const SIGNATURE = { name: 'ECDSA', hash: 'SHA-256' } as const;
const P256 = { name: 'ECDSA', namedCurve: 'P-256' } as const;

/** A PEM certificate and its PKCS#8 PEM key. */
export type IssuedCertificate = { readonly certPem: string; readonly keyPem: string };

type X509Module = typeof X509;
let x509Module: Promise<X509Module> | undefined;

/**
 * @peculiar/x509 resolves algorithms through tsyringe, which refuses to load
 * without the Reflect metadata API (its README asks for a polyfill). x509's
 * build emits no `design:*` metadata and uses no `@inject`, so tsyringe only
 * ever reads empty metadata: this stand-in for the three functions it calls
 * is enough. Installed only if absent, and only when issuing certificates;
 * a `reflect-metadata` dependency would replace it.
 */
function loadX509(): Promise<X509Module> {
  const reflect = Reflect as unknown as Record<string, unknown>;
  if (typeof reflect.getMetadata !== 'function') {
    const store = new WeakMap<object, Map<unknown, unknown>>();
    const own = (key: unknown, target: object): unknown => store.get(target)?.get(key);
    reflect.getOwnMetadata = own;
    reflect.getMetadata = (key: unknown, target: object): unknown => {
      for (let t: object | null = target; t !== null; t = Object.getPrototypeOf(t) as object | null)
        if (store.get(t)?.has(key) === true) return own(key, t);
      return undefined;
    };
    reflect.defineMetadata = (key: unknown, value: unknown, target: object): void => {
      store.set(target, (store.get(target) ?? new Map()).set(key, value));
    };
  }
  x509Module ??= import('@peculiar/x509');
  return x509Module;
}

/** Options for {@link createCertificateAuthority}. */
export type CertificateAuthorityOptions = {
  readonly commonName: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
};

/** Makes a self-signed ECDSA P-256 CA (CA:TRUE, pathlen 0, keyCertSign). */
export async function createCertificateAuthority(options: CertificateAuthorityOptions): Promise<IssuedCertificate> {
  const x509 = await loadX509();
  const keys = await webcrypto.subtle.generateKey(P256, true, ['sign', 'verify']);
  const cert = await x509.X509CertificateGenerator.createSelfSigned(
    {
      name: [{ CN: [options.commonName] }],
      keys,
      serialNumber: serialNumber(),
      notBefore: options.notBefore,
      notAfter: options.notAfter,
      signingAlgorithm: SIGNATURE,
      extensions: [
        new x509.BasicConstraintsExtension(true, 0, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
        await x509.SubjectKeyIdentifierExtension.create(keys.publicKey, false, webcrypto),
      ],
    },
    webcrypto,
  );
  return { certPem: cert.toString('pem'), keyPem: await exportKey(keys.privateKey) };
}

/** Options for {@link issueCertificate}. */
export type IssueCertificateOptions = {
  readonly caCertPem: string;
  readonly caKeyPem: string;
  /** Node name: subject CN, a `tandem://<name>` URI SAN and a DNS SAN. */
  readonly name: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
  /** More DNS / IP SANs, so TLS hostname checks pass for the addresses a server is dialled at. @default [] */
  readonly hosts?: readonly string[];
};

/** Issues a node key and certificate (serverAuth + clientAuth) signed by the given CA. Tests use it for expired or foreign certificates. */
export async function issueCertificate(options: IssueCertificateOptions): Promise<IssuedCertificate> {
  const x509 = await loadX509();
  const ca = new x509.X509Certificate(options.caCertPem);
  const caKey = createPrivateKey(options.caKeyPem).toCryptoKey(P256, false, ['sign']);
  const keys = await webcrypto.subtle.generateKey(P256, true, ['sign', 'verify']);
  const names = [
    { type: 'url' as const, value: `tandem://${options.name}` },
    { type: 'dns' as const, value: options.name },
    ...(options.hosts ?? []).map((host) => ({
      type: isIP(host) === 0 ? ('dns' as const) : ('ip' as const),
      value: host,
    })),
  ];
  const cert = await x509.X509CertificateGenerator.create(
    {
      subject: [{ CN: [options.name] }],
      issuer: ca.subjectName,
      publicKey: keys.publicKey,
      signingKey: caKey,
      serialNumber: serialNumber(),
      notBefore: options.notBefore,
      notAfter: options.notAfter,
      signingAlgorithm: SIGNATURE,
      extensions: [
        new x509.BasicConstraintsExtension(false, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
        new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth]),
        new x509.SubjectAlternativeNameExtension(names),
        await x509.SubjectKeyIdentifierExtension.create(keys.publicKey, false, webcrypto),
        await x509.AuthorityKeyIdentifierExtension.create(ca, false, webcrypto),
      ],
    },
    webcrypto,
  );
  return { certPem: cert.toString('pem'), keyPem: await exportKey(keys.privateKey) };
}

async function exportKey(key: webcrypto.CryptoKey): Promise<string> {
  const der = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', key));
  return createPrivateKey({ key: der, format: 'der', type: 'pkcs8' }).export({
    format: 'pem',
    type: 'pkcs8',
  }) as string;
}

/** 128 random bits, positive and without a leading zero byte, as RFC 5280 asks. */
function serialNumber(): string {
  const bytes = randomBytes(16);
  bytes[0] = ((bytes[0] ?? 0) & 0x7f) | 0x01;
  return bytes.toString('hex');
}

// ——— `tandem certs init` ———

/** Options for {@link initCertificates}. */
export type InitCertificatesOptions = {
  readonly outDir: string;
  readonly parties: readonly string[];
  /** @default 'coordinator' */
  readonly coordinator?: string;
  /** More client identities, e.g. an admin who submits jobs. @default [] */
  readonly extraNames?: readonly string[];
  /** @default 365 */
  readonly validityDays?: number;
  /** DNS names and IPs the coordinator is dialled at. @default ['localhost', '127.0.0.1'] */
  readonly hosts?: readonly string[];
  /** Overwrite existing files. @default false */
  readonly force?: boolean;
  /** The clock, for tests. @default the current time */
  readonly now?: Date;
};

/** One file written by {@link initCertificates}. */
export type WrittenFile = {
  readonly path: string;
  readonly node: string;
  readonly kind: 'certificate' | 'private key';
  readonly mode: number;
};

const DNS_NAME = /^(?=.{1,253}$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/i;
const MAX_VALIDITY_DAYS = 3650;
/** Certificates start an hour early so a node whose clock lags the issuer's still accepts them. */
const CLOCK_SKEW_MS = 60 * 60 * 1000;

/**
 * Makes a development federation: a CA and one key + certificate per node,
 * written as `ca.crt`, `ca.key`, `<name>.crt`, `<name>.key` (keys 0600, PKCS#8).
 * Everything is generated before anything is written.
 * @throws ConfigError `CONFIG_INVALID` for a bad name, host or validity
 * @throws TandemError `CERTS_EXIST` when a file exists and `force` is not set
 */
export async function initCertificates(options: InitCertificatesOptions): Promise<readonly WrittenFile[]> {
  const coordinator = options.coordinator ?? 'coordinator';
  const clients = [...options.parties, ...(options.extraNames ?? [])];
  const hosts = options.hosts ?? ['localhost', '127.0.0.1'];
  const days = options.validityDays ?? 365;
  checkInitOptions(coordinator, options.parties, clients, hosts, days);

  const now = options.now ?? new Date();
  const notBefore = new Date(now.getTime() - CLOCK_SKEW_MS);
  const notAfter = new Date(now.getTime() + days * 86_400_000);
  const ca = await createCertificateAuthority({
    commonName: `Tandem dev CA ${now.toISOString().slice(0, 10)} ${randomBytes(3).toString('hex')}`,
    notBefore,
    notAfter,
  });
  const nodes: [string, IssuedCertificate][] = [['ca', ca]];
  for (const name of [coordinator, ...clients]) {
    const issued = await issueCertificate({
      caCertPem: ca.certPem,
      caKeyPem: ca.keyPem,
      name,
      notBefore,
      notAfter,
      hosts: name === coordinator ? hosts : [],
    });
    nodes.push([name, issued]);
  }
  const files = nodes.flatMap(([node, { certPem, keyPem }]) => [
    { path: join(options.outDir, `${node}.crt`), node, kind: 'certificate' as const, mode: 0o644, text: certPem },
    { path: join(options.outDir, `${node}.key`), node, kind: 'private key' as const, mode: 0o600, text: keyPem },
  ]);

  const force = options.force ?? false;
  if (!force) {
    const existing = files.filter((f) => existsSync(f.path)).map((f) => f.path);
    if (existing.length > 0) throw certsExist(existing);
  }
  await mkdir(options.outDir, { recursive: true, mode: 0o700 });
  for (const file of files) {
    try {
      // 'wx' closes the gap between the check above and the write.
      await writeFile(file.path, file.text, { mode: file.mode, flag: force ? 'w' : 'wx' });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') throw certsExist([file.path]);
      throw error;
    }
    // An overwritten file keeps its old mode; a key must not stay world-readable.
    await chmod(file.path, file.mode);
  }
  return files.map(({ path, node, kind, mode }) => ({ path, node, kind, mode }));
}

/** @throws the error `bad` makes for the first host that is neither an IP address nor a DNS name; the fix lists the names and addresses `reachedAt` */
function checkHosts(
  hosts: readonly string[],
  bad: (field: string, problem: string, fix: string) => ConfigError,
  reachedAt: string,
): void {
  const wrong = hosts.find((host) => isIP(host) === 0 && !DNS_NAME.test(host));
  if (wrong !== undefined)
    throw bad(
      '--hosts',
      `"${wrong}" is neither an IP address nor a DNS name`,
      `list the names and addresses ${reachedAt}`,
    );
}

function checkInitOptions(
  coordinator: string,
  parties: readonly string[],
  clients: readonly string[],
  hosts: readonly string[],
  days: number,
): void {
  const bad = (field: string, problem: string, fix: string): ConfigError =>
    new ConfigError('CONFIG_INVALID', { file: 'certs init', field, problem, fix });
  if (parties.length === 0)
    throw bad('--parties', 'names no party', 'name at least one party, e.g. --parties brand,partner');
  const seen = new Set<string>();
  for (const [field, name] of [
    ['--coordinator', coordinator] as const,
    ...clients.map((n) => ['--parties/--extra', n] as const),
  ]) {
    if (!NODE_NAME.test(name))
      throw bad(
        field,
        `"${name}" is not a node name`,
        'use lowercase letters, digits and dashes, starting with a letter (it becomes the CN and the file name)',
      );
    if (name === 'ca') throw bad(field, '"ca" is reserved for the CA files', 'choose another name');
    if (seen.has(name)) throw bad(field, `"${name}" appears twice`, 'give every node a distinct name');
    seen.add(name);
  }
  checkHosts(hosts, bad, 'the coordinator is reached at, e.g. --hosts localhost,127.0.0.1,coord.example.com');
  if (!Number.isInteger(days) || days < 1 || days > MAX_VALIDITY_DAYS)
    throw bad('--days', `is ${days}`, `use a whole number of days from 1 to ${MAX_VALIDITY_DAYS}`);
}

function certsExist(paths: readonly string[]): TandemError {
  const listed = paths.length > 3 ? `${paths.slice(0, 3).join(', ')} and ${paths.length - 3} more` : paths.join(', ');
  return new TandemError(
    'CERTS_EXIST',
    `${listed} already exist${paths.length === 1 ? 's' : ''}. Fix: pass --force to overwrite, or choose another --out directory`,
    { details: { files: paths } },
  );
}

// ——— `tandem certs add` ———

/** Options for {@link addCertificate}. */
export type AddCertificateOptions = {
  /** The directory `certs init` wrote: it must hold `ca.crt` and `ca.key`. */
  readonly outDir: string;
  /** The new identity's node name (its CN and file names). */
  readonly name: string;
  /** DNS names and IPs it is reached at, when it serves (a coordinator, a scoring endpoint). @default [] */
  readonly hosts?: readonly string[];
  /** @default 365, and never past the CA's own expiry */
  readonly validityDays?: number;
  /** Replace an existing `<name>.crt` and `<name>.key` (never the CA). @default false */
  readonly force?: boolean;
  /** The clock, for tests. @default the current time */
  readonly now?: Date;
};

/**
 * Issues one more identity (an operator, an admin, a new party) from the CA
 * `certs init` made, without touching the CA or any other file: every node
 * and exported model keeps verifying. Writes `<name>.crt` (0644) and
 * `<name>.key` (0600, PKCS#8); returns them and the end of the certificate's
 * validity (capped at the CA's).
 * @throws ConfigError `CONFIG_NOT_FOUND` when the directory lacks `ca.crt` or `ca.key`; `CONFIG_INVALID` for a bad name, host or validity, or a CA key that does not match its certificate
 * @throws TandemError `CERTS_EXIST` when `<name>` already has files and `force` is not set
 */
export async function addCertificate(
  options: AddCertificateOptions,
): Promise<{ readonly files: readonly WrittenFile[]; readonly validUntil: Date }> {
  const { outDir, name } = options;
  const bad = (field: string, problem: string, fix: string): ConfigError =>
    new ConfigError('CONFIG_INVALID', { file: 'certs add', field, problem, fix });
  if (!NODE_NAME.test(name))
    throw bad(
      'NAME',
      `"${name}" is not a node name`,
      'use lowercase letters, digits and dashes, starting with a letter (it becomes the CN and the file name)',
    );
  if (name === 'ca')
    throw bad(
      'NAME',
      '"ca" is the CA itself',
      '`certs add` never replaces the CA; to start a new federation, run `tandem certs init` in another --out directory',
    );
  const hosts = options.hosts ?? [];
  checkHosts(hosts, bad, 'it is reached at, e.g. --hosts coord.example.com,10.0.0.5');
  const days = options.validityDays ?? 365;
  if (!Number.isInteger(days) || days < 1 || days > MAX_VALIDITY_DAYS)
    throw bad('--days', `is ${days}`, `use a whole number of days from 1 to ${MAX_VALIDITY_DAYS}`);

  const caPaths = { crt: join(outDir, 'ca.crt'), key: join(outDir, 'ca.key') };
  const read = async (file: string, what: string): Promise<string> => {
    try {
      return await readFile(file, 'utf8');
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      throw new ConfigError(
        code === 'ENOENT' ? 'CONFIG_NOT_FOUND' : 'CONFIG_INVALID',
        {
          file,
          field: '--out',
          problem:
            code === 'ENOENT'
              ? `does not exist: certs add signs with the ${what}`
              : `cannot be read (${code ?? String(error)})`,
          fix:
            code === 'ENOENT'
              ? `pass --out the directory \`tandem certs init\` wrote (it holds ca.crt and ca.key); with your own CA, issue the certificate with it (CN = ${name}, ECDSA P-256)`
              : 'check its permissions (run as the user that ran certs init)',
        },
        { cause: error },
      );
    }
  };
  const caCertPem = await read(caPaths.crt, 'CA certificate');
  const caKeyPem = await read(caPaths.key, 'CA key');
  let ca: X509Certificate;
  try {
    ca = new X509Certificate(caCertPem);
    if (!ca.ca) throw new RangeError('not a CA');
    if (!createPublicKey(createPrivateKey(caKeyPem)).equals(ca.publicKey)) throw new RangeError('key mismatch');
  } catch (error) {
    throw new ConfigError(
      'CONFIG_INVALID',
      {
        file: caPaths.key,
        field: '--out',
        problem: 'is not the key of the CA certificate ca.crt next to it',
        fix: 'point --out at a directory written by `tandem certs init`, with its ca.crt and ca.key untouched',
      },
      { cause: error },
    );
  }
  const now = options.now ?? new Date();
  checkValidity(ca, now, `${caPaths.crt}: the CA certificate`);

  const files = [
    { path: join(outDir, `${name}.crt`), node: name, kind: 'certificate' as const, mode: 0o644 },
    { path: join(outDir, `${name}.key`), node: name, kind: 'private key' as const, mode: 0o600 },
  ];
  const force = options.force ?? false;
  const taken = files.filter((f) => existsSync(f.path)).map((f) => f.path);
  if (taken.length > 0 && !force) {
    throw new TandemError(
      'CERTS_EXIST',
      `${taken.join(', ')} already exist${taken.length === 1 ? 's' : ''}. Fix: choose another name, or pass --force to issue ${name} a new key and certificate (the old certificate stays valid until it expires: nothing revokes it)`,
      { details: { files: taken } },
    );
  }
  // A certificate outliving its CA would not verify past the CA's expiry anyway.
  const notAfter = new Date(Math.min(now.getTime() + days * 86_400_000, ca.validToDate.getTime()));
  const issued = await issueCertificate({
    caCertPem,
    caKeyPem,
    name,
    notBefore: new Date(now.getTime() - CLOCK_SKEW_MS),
    notAfter,
    hosts,
  });
  for (const [file, text] of [
    [files[0], issued.certPem],
    [files[1], issued.keyPem],
  ] as const) {
    if (file === undefined) continue;
    try {
      await writeFile(file.path, text, { mode: file.mode, flag: force ? 'w' : 'wx' });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST')
        throw new TandemError('CERTS_EXIST', `${file.path} already exists. Fix: choose another name, or pass --force`, {
          details: { files: [file.path] },
        });
      throw error;
    }
    await chmod(file.path, file.mode);
  }
  return { files, validUntil: notAfter };
}
