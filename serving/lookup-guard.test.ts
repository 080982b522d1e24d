/**
 * The host's lookup guards: the per-caller rate limit, the bearer token
 * file, and the serving audit log's lock and statements.
 */
import { describe, expect, it } from 'vitest';
import { generateKeyPairSync } from 'node:crypto';
import { chmod, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TandemError } from '../protocol/errors.ts';
import { readAuditLog } from '../audit/log.ts';
import { lookupLimit } from './lookup-limit.ts';
import { lookupDigest, openServingAudit } from './serving-audit.ts';
import { openTokenFile, tokenName } from './token-file.ts';

const tempDir = (): Promise<string> => mkdtemp(join(tmpdir(), 'tandem-lookup-guard-'));

describe('the per-caller lookup limit', () => {
  it('lets a caller burst, then refills at the rate, each caller on its own', () => {
    let now = 0;
    const limit = lookupLimit({ ratePerSecond: 100, burst: 1000, nowMs: () => now });
    limit.take('brand', 1000);
    expect(() => limit.take('brand', 1)).toThrow(TandemError);
    limit.take('other', 1000);
    now = 500;
    limit.take('brand', 50);
    expect(() => limit.take('brand', 1)).toThrow(
      expect.objectContaining({
        code: 'RATE_LIMITED',
        publicMessage: 'too many lookups: at most 100 per second; try again in 10 ms',
        details: { retryAfterMs: 10 },
      }) as unknown,
    );
    now = 100_000;
    limit.take('brand', 1000);
  });

  it('refuses a call larger than the burst outright', () => {
    const limit = lookupLimit({ ratePerSecond: 10, burst: 100, nowMs: () => 0 });
    expect(() => limit.take('brand', 101)).toThrow('brand asked for 101 lookups with 100 left');
  });
});

describe('the bearer token file', () => {
  it('is created with one random token, mode 0600 in a 0700 directory, and authenticates it by name, never by value', async () => {
    const dir = await tempDir();
    try {
      const file = join(dir, 'serving', 'tokens');
      const tokens = await openTokenFile(file);
      expect(tokens).toMatchObject({ file, created: true, tokens: 1 });
      expect((await stat(file)).mode & 0o777).toBe(0o600);
      expect((await stat(join(dir, 'serving'))).mode & 0o777).toBe(0o700);
      const token = (await readFile(file, 'utf8')).split('\n').find((l) => l !== '' && !l.startsWith('#')) ?? '';
      expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(tokens.authenticate(`Bearer ${token}`)).toEqual({ kind: 'token', name: tokenName(token) });
      expect(tokenName(token)).not.toContain(token.slice(0, 8));
      expect(tokens.authenticate(undefined)).toEqual({ kind: 'anonymous' });
      expect(() => tokens.authenticate(`Bearer ${token}x`)).toThrow(
        expect.objectContaining({ code: 'AUTH_REQUIRED' }) as unknown,
      );
      expect(() => tokens.authenticate(`Basic ${token}`)).toThrow(TandemError);
      // A second start reads the same file.
      expect(await openTokenFile(file)).toMatchObject({ created: false, tokens: 1 });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('refuses a token file others can read, or a token too short to be secret', async () => {
    const dir = await tempDir();
    try {
      const file = join(dir, 'tokens');
      await writeFile(file, `${'a'.repeat(40)}\n`, { mode: 0o644 });
      await chmod(file, 0o644);
      await expect(openTokenFile(file)).rejects.toThrow(
        `${file}: holds secrets but is readable by others (mode 644). Fix: chmod 600 ${file}`,
      );
      await writeFile(file, 'short\n');
      await chmod(file, 0o600);
      await expect(openTokenFile(file)).rejects.toThrow(
        `${file}: line 1: a token must be one word of at least 32 characters`,
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('the serving audit log', () => {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });

  it('states the calls of a window per caller, callee and route: calls, users and a digest, never the pseudonyms', async () => {
    const dir = await tempDir();
    try {
      const file = join(dir, 'audit', 'serving', 'partner.audit.jsonl');
      const audit = openServingAudit({ file, node: 'partner', signingKey: privateKey, jobId: 'job-1', windowMs: 50 });
      audit.lookups({ caller: 'brand', callee: 'partner', route: 'partial-scores', pseudonyms: ['p-one', 'p-two'] });
      audit.lookups({ caller: 'brand', callee: 'partner', route: 'partial-scores', pseudonyms: ['p-three'] });
      audit.lookups({ caller: 'token-1', callee: 'partner', route: 'score', pseudonyms: ['p-four'] });
      await new Promise((r) => setTimeout(r, 150));
      // A later call opens a window of its own.
      audit.lookups({ caller: 'brand', callee: 'partner', route: 'partial-scores', pseudonyms: ['p-five'] });
      audit.close();
      expect(readAuditLog(file).map((r) => r.claim)).toEqual([
        {
          type: 'serving-lookups',
          job: 'job-1',
          caller: 'brand',
          callee: 'partner',
          route: 'partial-scores',
          calls: 2,
          count: 3,
          digest: lookupDigest(['p-one', 'p-two', 'p-three']),
        },
        {
          type: 'serving-lookups',
          job: 'job-1',
          caller: 'token-1',
          callee: 'partner',
          route: 'score',
          calls: 1,
          count: 1,
          digest: lookupDigest(['p-four']),
        },
        {
          type: 'serving-lookups',
          job: 'job-1',
          caller: 'brand',
          callee: 'partner',
          route: 'partial-scores',
          calls: 1,
          count: 1,
          digest: lookupDigest(['p-five']),
        },
      ]);
      expect(await readFile(file, 'utf8')).not.toMatch(/p-one|p-two|p-three|p-four|p-five/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('digests a busy window in call order, however its calls are grouped for hashing', async () => {
    const dir = await tempDir();
    try {
      const file = join(dir, 'partner.audit.jsonl');
      const audit = openServingAudit({
        file,
        node: 'partner',
        signingKey: privateKey,
        jobId: 'job-1',
        windowMs: 60_000,
      });
      // 1,000 calls of 0 to 3 pseudonyms each: many more than one hash update groups.
      const calls = Array.from({ length: 1000 }, (_, k) => Array.from({ length: k % 4 }, (_, j) => `p-${k}-${j}`));
      for (const pseudonyms of calls)
        audit.lookups({ caller: 'brand', callee: 'partner', route: 'partial-scores', pseudonyms });
      audit.close();
      expect(readAuditLog(file).map((r) => r.claim)).toEqual([
        {
          type: 'serving-lookups',
          job: 'job-1',
          caller: 'brand',
          callee: 'partner',
          route: 'partial-scores',
          calls: 1000,
          count: 1500,
          digest: lookupDigest(calls.flat()),
        },
      ]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('refuses a second writer of the same log while the first runs, naming its pid', async () => {
    const dir = await tempDir();
    try {
      const file = join(dir, 'partner.audit.jsonl');
      const first = openServingAudit({ file, node: 'partner', signingKey: privateKey, jobId: 'job-1' });
      expect(() => openServingAudit({ file, node: 'partner', signingKey: privateKey, jobId: 'job-1' })).toThrow(
        `${file} is written by another tandem serve (pid ${process.pid}`,
      );
      first.close();
      openServingAudit({ file, node: 'partner', signingKey: privateKey, jobId: 'job-1' }).close();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
