/**
 * Secrets on disk (issue #16): on a fresh run under umask 022, everything a
 * node writes in its data directory is its user's alone (files 0600,
 * directories 0700) — the coordinator's job store with its -wal and -shm
 * included, from the first write, and the model parts, exported models and
 * the job report after it — and when a job ends its CKKS secret key
 * and noise key are gone from every file of the coordinator's data
 * directory, byte for byte.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exampleParties, lrSpec, partyConfigFile, startFederation, type Federation } from '../support/federation.ts';
import { runModelExport } from '../../cli/commands/model.ts';
import { runJobReport } from '../../cli/commands/report.ts';

/** Every path under `dir` (a node may delete a file meanwhile: it is then skipped). */
async function walk(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  const out: string[] = [dir];
  for (const e of entries) {
    const path = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await walk(path)));
    else out.push(path);
  }
  return out;
}

describe('secrets on disk', () => {
  let fed: Federation;
  let umask: number;
  beforeAll(async () => {
    umask = process.umask(0o022);
    fed = await startFederation({ parties: exampleParties('breast') });
  });
  afterAll(async () => {
    await fed.close();
    process.umask(umask);
  });

  it(
    "keeps every file 0600 and directory 0700, and leaves no trace of a finished job's keys",
    { timeout: 240_000 },
    async () => {
      const admin = await fed.admin();
      const { jobId } = await admin.submit(
        await fed.write('job.yaml', lrSpec({ training: { maxEpochs: 3, tolerance: 0 } })),
      );
      const storeFile = join(fed.dir, 'coordinator', 'jobs.sqlite');
      // Read the keys through a second connection while the job runs, as an attacker with the files would.
      let keys: { secret_key: Uint8Array; noise_key: Uint8Array } | undefined;
      const final = await admin.watch(jobId, () => {
        if (keys !== undefined) return;
        const db = new DatabaseSync(storeFile, { readOnly: true });
        keys = db.prepare('SELECT secret_key, noise_key FROM job_secrets WHERE job_id = ?').get(jobId) as typeof keys;
        db.close();
      });
      admin.close();
      expect(final.stage, final.message).toBe('completed');
      expect(keys).toBeDefined();
      // What a party writes after the job, in its data directory: the exported model (scoring.json,
      // weights.bin, preprocess.json, model.json, manifest.json, scoring-key) and the guest's report.
      const exported: string[] = [];
      for (const name of ['brand', 'partner'])
        exported.push(...(await runModelExport({ config: partyConfigFile(fed, name), job: jobId })).files);
      expect(exported).toContain('scoring-key');
      const report = await runJobReport({ config: partyConfigFile(fed, 'brand'), jobId, offline: true });

      const loose: string[] = [];
      for (const name of ['coordinator', 'brand', 'partner']) {
        for (const path of await walk(join(fed.dir, name))) {
          const s = await stat(path).catch(() => undefined);
          if (s !== undefined && (s.mode & 0o077) !== 0)
            loose.push(`${path.slice(fed.dir.length + 1)} ${(s.mode & 0o777).toString(8)}`);
        }
      }
      expect(loose, 'readable by group or others').toEqual([]);
      // The walk saw them.
      for (const file of [report.html, report.json, join(fed.dir, 'brand', 'jobs', jobId, 'export', 'weights.bin')])
        expect((await stat(file)).mode & 0o777, file).toBe(0o600);

      const secret = Buffer.from(keys!.secret_key);
      const noise = Buffer.from(keys!.noise_key);
      // Probes: the whole noise key, and 32-byte windows spread over the secret key.
      const probes = [
        noise,
        ...Array.from({ length: 16 }, (_, k) =>
          secret.subarray(
            Math.floor((k * (secret.length - 32)) / 15),
            Math.floor((k * (secret.length - 32)) / 15) + 32,
          ),
        ),
      ];
      const found: string[] = [];
      for (const path of await walk(join(fed.dir, 'coordinator'))) {
        if ((await stat(path).catch(() => undefined))?.isFile() !== true) continue;
        const bytes = await readFile(path).catch(() => Buffer.alloc(0));
        probes.forEach((p, k) => {
          if (bytes.indexOf(p) >= 0)
            found.push(
              `${path.slice(fed.dir.length + 1)} holds ${k === 0 ? 'the noise key' : `secret key window ${k}`}`,
            );
        });
      }
      expect(found).toEqual([]);
    },
  );
});
