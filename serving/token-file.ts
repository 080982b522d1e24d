/**
 * Bearer tokens for a scoring endpoint's public HTTP API: the credential a
 * brand's web stack can present without a client certificate. They live in
 * one file (`<dataDir>/serving/tokens` by default), one token per line,
 * mode 0600 in a 0700 directory; a missing file is created with one random
 * token, so an endpoint is never open by accident. Tokens are compared by
 * their SHA-256 (a lookup that says nothing about a wrong token's bytes),
 * and a caller is named by a prefix of that digest: logs, metrics and the
 * audit log never see a token.
 */
import { hash, randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { ConfigError, TandemError } from '../protocol/errors.ts';
import type { Caller } from './access.ts';

/** A token shorter than this is refused: it could be guessed. */
export const MIN_TOKEN_CHARS = 32;

export type TokenFile = {
  readonly file: string;
  /** True when this start created the file (with one new token). */
  readonly created: boolean;
  /** How many tokens the file holds. */
  readonly tokens: number;
  /**
   * The caller an `Authorization` header names: anonymous without one.
   * @throws TandemError AUTH_REQUIRED for a header that is not a bearer token of this file
   */
  authenticate(header: string | undefined): Caller;
};

// One-shot: no native hash object per request for the young-generation GC to finalise.
const digest = (token: string): string => hash('sha256', token, 'hex');

/** The name a token goes by in logs, metrics and the audit log. */
export function tokenName(token: string): string {
  return `token-${digest(token).slice(0, 12)}`;
}

/** The first token in a token file ('' when it holds none): what a client of this node's own endpoint presents. */
export async function firstToken(file: string): Promise<string> {
  const lines = (await readFile(file, 'utf8')).split('\n').map((l) => l.trim());
  return lines.find((l) => l !== '' && !l.startsWith('#')) ?? '';
}

/**
 * Reads the token file, creating it with one random token when it does not exist.
 * @throws ConfigError CONFIG_INVALID when the file is readable by others, holds no token, or a token too short to be secret
 */
export async function openTokenFile(file: string): Promise<TokenFile> {
  let created = false;
  const info = await stat(file).catch(() => undefined);
  if (info === undefined) {
    await mkdir(dirname(file), { recursive: true, mode: 0o700 });
    const header =
      '# Bearer tokens of `tandem serve`, one per line (Authorization: Bearer <token>). Keep this file 0600.\n';
    await writeFile(file, `${header}${randomBytes(32).toString('base64url')}\n`, { mode: 0o600, flag: 'wx' });
    // The mode given to writeFile is filtered by the umask; say it explicitly.
    await chmod(file, 0o600);
    created = true;
  } else if ((info.mode & 0o077) !== 0) {
    throw new ConfigError('CONFIG_INVALID', {
      file,
      field: '',
      problem: `holds secrets but is readable by others (mode ${(info.mode & 0o777).toString(8)})`,
      fix: `chmod 600 ${file}`,
    });
  }
  const byDigest = new Map<string, string>();
  (await readFile(file, 'utf8')).split('\n').forEach((raw, k) => {
    const token = raw.trim();
    if (token === '' || token.startsWith('#')) return;
    if (token.length < MIN_TOKEN_CHARS || /\s/.test(token)) {
      throw new ConfigError('CONFIG_INVALID', {
        file,
        field: `line ${k + 1}`,
        problem: `a token must be one word of at least ${MIN_TOKEN_CHARS} characters`,
        fix: 'use a random token, e.g. from `openssl rand -base64 32`',
      });
    }
    byDigest.set(digest(token), tokenName(token));
  });
  if (byDigest.size === 0)
    throw new ConfigError('CONFIG_INVALID', {
      file,
      field: '',
      problem: 'holds no token',
      fix: 'add a line with a random token (e.g. from `openssl rand -base64 32`), or delete the file to have one created',
    });
  // Headers that carried a valid token, so a keep-alive client is not hashed on every request (bounded: one entry per token and spelling).
  const known = new Map<string, Caller>();
  return {
    file,
    created,
    tokens: byDigest.size,
    authenticate: (header) => {
      if (header === undefined || header === '') return { kind: 'anonymous' };
      const seen = known.get(header);
      if (seen !== undefined) return seen;
      const m = /^Bearer +(\S+)$/i.exec(header);
      const name = m?.[1] === undefined ? undefined : byDigest.get(digest(m[1]));
      if (name === undefined)
        throw new TandemError('AUTH_REQUIRED', 'a request with an unknown bearer token', {
          publicMessage: "the bearer token is not one of this endpoint's tokens",
        });
      const caller: Caller = { kind: 'token', name };
      if (known.size < 4 * byDigest.size) known.set(header, caller);
      return caller;
    },
  };
}
