/**
 * Example CSVs with long synthetic ids ("cust-" + 24 hex digits), so a test
 * that searches captured traffic for ids cannot hit one by chance.
 */
import { createHash } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { EXAMPLE_DATA, type PartySetup } from './federation.ts';

/** Rewrites a gzipped example CSV with long synthetic ids. */
export async function withLongIds(source: string, target: string): Promise<void> {
  const lines = gunzipSync(await readFile(source))
    .toString('utf8')
    .trimEnd()
    .split('\n');
  const out = lines.map((line, k) => {
    if (k === 0) return line;
    const comma = line.indexOf(',');
    const id = line.slice(0, comma);
    return `cust-${createHash('sha256').update(`wire-test|${id}`).digest('hex').slice(0, 24)}${line.slice(comma)}`;
  });
  await writeFile(target, `${out.join('\n')}\n`);
}

/** Every run of 16+ hex digits in a capture: random bytes almost never make one, an id's hex part always does. */
export function hexRuns(buffer: Buffer): string[] {
  return buffer.toString('latin1').match(/[0-9a-f]{16,}/g) ?? [];
}

/** The ids (of the form above) whose hex part shares a run with the capture. */
export function leakedIds(ids: readonly string[], runs: readonly string[]): string[] {
  return ids.filter((id) => {
    const hex = id.slice(5);
    return runs.some((run) => run.includes(hex.slice(0, 16)) || hex.includes(run));
  });
}

/** brand (guest) and partner (host) on breast with long ids, written to `dir`. */
export async function longIdBreastParties(dir: string): Promise<PartySetup[]> {
  const guestFile = join(dir, 'guest.csv');
  const hostFile = join(dir, 'host.csv');
  await withLongIds(join(EXAMPLE_DATA, 'breast_guest.csv.gz'), guestFile);
  await withLongIds(join(EXAMPLE_DATA, 'breast_host.csv.gz'), hostFile);
  return [
    { name: 'brand', datasets: { d: { file: guestFile, id: 'id', label: { column: 'y' }, features: 'all' } } },
    { name: 'partner', datasets: { d: { file: hostFile, id: 'id', features: 'all' } } },
  ];
}
