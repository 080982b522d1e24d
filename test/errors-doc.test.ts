/**
 * docs/errors.md must document the error catalog exactly: every code in
 * protocol/errors.ts, no code that no longer exists, and the same exit code,
 * gRPC status and public message as the catalog, in the summary table and in
 * each code's own section.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ERROR_CATALOG, GrpcStatus } from '../protocol/errors.ts';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const DOC = readFileSync(join(ROOT, 'docs', 'errors.md'), 'utf8');

type Documented = {
  readonly exitCode: number;
  readonly status: string;
  readonly statusNumber: number;
  readonly summary: string;
};

const CATALOG = new Map(
  Object.entries(ERROR_CATALOG).map(([code, e]) => [
    code,
    e as { grpcStatus: number; exitCode: number; summary: string },
  ]),
);
const STATUS_NAME = new Map(Object.entries(GrpcStatus).map(([name, n]) => [n as number, name]));

/** Rows of the summary table: | `CODE` | 78 | `INVALID_ARGUMENT` (3) | public message | */
function summaryRows(): { rows: Map<string, Documented>; duplicates: Map<string, Documented> } {
  const rows = new Map<string, Documented>();
  const duplicates = new Map<string, Documented>();
  for (const m of DOC.matchAll(
    /^\|\s*`([A-Z0-9_]+)`\s*\|\s*(\d+)\s*\|\s*`([A-Z_]+)`\s*\((\d+)\)\s*\|\s*(.*?)\s*\|\s*$/gm,
  )) {
    const [, code = '', exit = '', status = '', n = '', summary = ''] = m;
    (rows.has(code) ? duplicates : rows).set(code, {
      exitCode: Number(exit),
      status,
      statusNumber: Number(n),
      summary,
    });
  }
  return { rows, duplicates };
}

/** One `### \`CODE\`` section per code, up to the next heading. */
function sections(): Map<string, string> {
  const out = new Map<string, string>();
  const parts = DOC.split(/^(?=#{1,3} )/m);
  for (const part of parts) {
    const m = /^### `([A-Z0-9_]+)`\s*$/m.exec(part.split('\n')[0] ?? '');
    if (m?.[1] === undefined) continue;
    expect(out.has(m[1]), `two sections for ${m[1]}`).toBe(false);
    out.set(m[1], part);
  }
  return out;
}

function facts(code: string, section: string): Documented {
  const m = /^Exit code \*\*(\d+)\*\* · gRPC `([A-Z_]+)` \((\d+)\) · public message: "(.*)"\s*$/m.exec(section);
  expect(
    m,
    `the section for ${code} has no "Exit code **N** · gRPC \`STATUS\` (n) · public message: \\"…\\"" line`,
  ).not.toBeNull();
  const [, exit = '', status = '', n = '', summary = ''] = m ?? [];
  return { exitCode: Number(exit), status, statusNumber: Number(n), summary };
}

function expectAgrees(code: string, where: string, doc: Documented): void {
  const entry = CATALOG.get(code);
  expect(entry, `${where} documents ${code}, which is not in the catalog (protocol/errors.ts)`).toBeDefined();
  if (entry === undefined) return;
  expect(doc.exitCode, `${where}: exit code of ${code}`).toBe(entry.exitCode);
  expect(doc.status, `${where}: gRPC status of ${code}`).toBe(STATUS_NAME.get(entry.grpcStatus));
  expect(doc.statusNumber, `${where}: gRPC status number of ${code}`).toBe(entry.grpcStatus);
  expect(doc.summary, `${where}: public message of ${code}`).toBe(entry.summary);
}

describe('docs/errors.md', () => {
  it('lists every catalogued code in the summary table, once, and nothing else', () => {
    const { rows, duplicates } = summaryRows();
    expect([...duplicates.keys()], 'codes listed twice in the summary table').toEqual([]);
    expect(
      [...CATALOG.keys()].filter((c) => !rows.has(c)),
      'codes missing from the summary table',
    ).toEqual([]);
    expect(
      [...rows.keys()].filter((c) => !CATALOG.has(c)),
      'codes in the summary table that are not in the catalog',
    ).toEqual([]);
  });

  it('gives each code in the summary table the exit code, gRPC status and public message of the catalog', () => {
    const { rows } = summaryRows();
    for (const [code, doc] of rows) expectAgrees(code, 'summary table', doc);
  });

  it('has a section for every catalogued code, and none for a code that does not exist', () => {
    const documented = sections();
    expect(
      [...CATALOG.keys()].filter((c) => !documented.has(c)),
      'codes without a ### section',
    ).toEqual([]);
    expect(
      [...documented.keys()].filter((c) => !CATALOG.has(c)),
      'sections for codes that are not in the catalog',
    ).toEqual([]);
  });

  it('states in each section the same exit code, gRPC status and public message as the catalog, when it happens and what to do', () => {
    for (const [code, section] of sections()) {
      expectAgrees(code, `section ${code}`, facts(code, section));
      expect(section, `section ${code} says when it happens`).toMatch(/\*\*When:\*\* \S/);
      expect(section, `section ${code} says what to do`).toMatch(/\*\*What to do:\*\* \S/);
    }
  });

  it('mentions no code outside the catalog anywhere in the text', () => {
    const allowed = new Set([...CATALOG.keys(), ...Object.keys(GrpcStatus)]);
    const named = new Set<string>();
    for (const m of DOC.matchAll(/`([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+|[A-Z]{5,})`/g)) named.add(m[1] ?? '');
    for (const m of DOC.matchAll(/\berror ([A-Z][A-Z0-9_]+):/g)) named.add(m[1] ?? '');
    const unknown = [...named].filter((n) => !allowed.has(n) && !/^EX_[A-Z]+$/.test(n));
    expect(unknown, 'codes named in docs/errors.md that are not in the catalog').toEqual([]);
  });

  it('agrees with the catalog about which gRPC status numbers mean what', () => {
    for (const [code, entry] of CATALOG)
      expect(STATUS_NAME.get(entry.grpcStatus), `${code} maps to an unnamed gRPC status`).toBeDefined();
  });
});
