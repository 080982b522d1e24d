/**
 * A lookalike federation on default-credit: the partner's pool is its first
 * `poolRows` users, the brand's seeds are the defaulters (ids only; those
 * outside the pool are simply not matched by PSI).
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { EXAMPLE_DATA, startFederation, type Federation } from './federation.ts';

export async function lookalikeFederation(dir: string, poolRows: number): Promise<{ fed: Federation; pool: string }> {
  const lines = async (file: string): Promise<string[]> =>
    gunzipSync(await readFile(join(EXAMPLE_DATA, file)))
      .toString('utf8')
      .trim()
      .split('\n');
  const pool = join(dir, 'pool.csv');
  await writeFile(pool, `${(await lines('default_credit_host.csv.gz')).slice(0, poolRows + 1).join('\n')}\n`);
  const seeds = (await lines('default_credit_guest.csv.gz'))
    .slice(1)
    .filter((l) => l.split(',')[1] === '1')
    .map((l) => l.split(',')[0]);
  await writeFile(join(dir, 'seeds.csv'), `id\n${seeds.join('\n')}\n`);
  const fed = await startFederation({
    parties: [
      { name: 'brand', datasets: { seeds: { file: join(dir, 'seeds.csv'), id: 'id', features: 'none' } } },
      { name: 'partner', datasets: { pool: { file: pool, id: 'id', features: 'all' } } },
    ],
  });
  return { fed, pool };
}
