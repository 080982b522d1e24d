/**
 * The message catalog is complete: every message the code declares is in
 * it, only the two envelope writers (a party's channel, the coordinator's
 * hub) build envelopes, and every step has a meaning for the audit report.
 */
import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { MESSAGE_CATALOG } from '../jobs/catalog.ts';
import { MESSAGE_KINDS } from '../protocol/wire/envelope.ts';
import { STEP_MEANINGS } from '../audit/report.ts';

const ROOT = resolve(import.meta.dirname, '..');
const DIRS = [
  'protocol',
  'data',
  'audit',
  'models',
  'jobs',
  'coordinator',
  'party',
  'runtime',
  'serving',
  'cli',
  'report',
  'console',
];

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (name === 'generated' || name === 'node_modules') return [];
    if (statSync(path).isDirectory()) return sources(path);
    return name.endsWith('.ts') && !name.endsWith('.test.ts') ? [path] : [];
  });
}

const files = DIRS.flatMap((d) => sources(join(ROOT, d)));

describe('the message catalog', () => {
  it('holds every message the code declares', () => {
    const declared = files.flatMap((f) =>
      [...readFileSync(f, 'utf8').matchAll(/message\(\{\s*step: '([^']+)'/g)].map((m) => ({
        file: relative(ROOT, f),
        step: m[1] ?? '',
      })),
    );
    expect(declared.length).toBeGreaterThan(20);
    const missing = declared.filter((d) => MESSAGE_CATALOG.get(d.step) === undefined);
    expect(
      missing,
      `declared but not in jobs/catalog.ts (register the kind or family): ${JSON.stringify(missing)}`,
    ).toEqual([]);
  });

  it('is the only way messages are built: envelopes come from the channel and the hub alone', () => {
    const writers = files
      .filter((f) => /makeEnvelope\(/.test(readFileSync(f, 'utf8')))
      .map((f) => relative(ROOT, f))
      .sort();
    expect(writers).toEqual(['coordinator/hub.ts', 'party/channel.ts', 'protocol/wire/envelope.ts']);
  });

  it('gives every step a kind the audit log knows and a meaning the audit report shows', () => {
    for (const m of MESSAGE_CATALOG.all) {
      expect(MESSAGE_KINDS).toContain(m.kind);
      expect(m.meaning.length, m.step).toBeGreaterThan(20);
      expect(STEP_MEANINGS[m.step]).toBe(m.meaning);
      expect(m.from.length * m.to.length, m.step).toBeGreaterThan(0);
    }
  });

  it('refuses an envelope whose step, kind or roles the catalog does not allow', () => {
    expect(MESSAGE_CATALOG.problem('basis', 'ciphertext', 'host', 'guest')).toBeUndefined();
    expect(MESSAGE_CATALOG.problem('basis', 'ciphertext', 'guest', 'host')).toMatch(/may be sent by host/);
    expect(MESSAGE_CATALOG.problem('basis', 'control', 'host', 'guest')).toMatch(/of kind ciphertext/);
    expect(MESSAGE_CATALOG.problem('residual', 'ciphertext', 'guest', 'coordinator')).toMatch(/may be sent to host/);
    expect(MESSAGE_CATALOG.problem('exfiltrate', 'control', 'guest', 'host')).toMatch(/not in the message catalog/);
  });
});
