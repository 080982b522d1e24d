/**
 * Jobs that cannot run fail with a message that says who and where, the
 * party's own log gets the details (file, line, fix), and nothing hangs.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { lrSpec, partyConfigFile, runJob, startFederation, type Federation } from '../support/federation.ts';
import { failureDetail } from '../../cli/commands/job.ts';
import type { JobStatus } from '../../runtime/admin-client.ts';
import pino from 'pino';
import { parse, stringify } from 'yaml';

function rows(ids: readonly string[], label: boolean): string {
  const header = label ? 'id,y,a,b' : 'id,c,d';
  return (
    [header, ...ids.map((id, k) => (label ? `${id},${k % 2},${k},${k * 2}` : `${id},${k % 7},${k % 3}`))].join('\n') +
    '\n'
  );
}

describe('jobs that cannot run', () => {
  let fed: Federation;
  let dir: string;
  const lines: string[] = [];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tandem-fail-'));
    const a = Array.from({ length: 50 }, (_, k) => `a${k}`);
    const b = Array.from({ length: 50 }, (_, k) => `b${k}`);
    await writeFile(join(dir, 'guest.csv'), rows(a, true));
    await writeFile(join(dir, 'host-disjoint.csv'), rows(b, false));
    await writeFile(join(dir, 'host-bad.csv'), rows(a, false).replace('\na7,0,1\n', '\na7,zero,1\n'));
    await writeFile(join(dir, 'host-same.csv'), rows(a, false));
    await writeFile(join(dir, 'guest-flat.csv'), rows(a, true).replace(/^(a\d+),0,/gm, '$1,1,'));
    const log = pino({ level: 'info' }, { write: (line: string) => void lines.push(line) });
    fed = await startFederation({
      log,
      parties: [
        {
          name: 'brand',
          datasets: {
            d: { file: join(dir, 'guest.csv'), id: 'id', label: { column: 'y' }, features: 'all' },
            flat: { file: join(dir, 'guest-flat.csv'), id: 'id', label: { column: 'y' }, features: 'all' },
            nolabel: { file: join(dir, 'guest.csv'), id: 'id', features: [{ name: 'a', type: 'numeric' }] },
          },
        },
        {
          name: 'partner',
          datasets: {
            d: { file: join(dir, 'host-disjoint.csv'), id: 'id', features: 'all' },
            bad: { file: join(dir, 'host-bad.csv'), id: 'id', features: 'all' },
            same: { file: join(dir, 'host-same.csv'), id: 'id', features: 'all' },
          },
        },
      ],
    });
  });

  afterAll(async () => {
    await fed.close();
    await rm(dir, { recursive: true, force: true });
  });

  const partyLog = (code: string): string | undefined => lines.find((l) => l.includes(`"code":"${code}"`));

  it('an empty intersection', async () => {
    const result = await runJob(fed, lrSpec());
    expect(result.stage).toBe('failed');
    expect(result.message).toMatch(/failed at psi: the parties share no ids/);
    const detail = partyLog('PSI_EMPTY_INTERSECTION');
    expect(detail).toMatch(/none of the 50 ids is shared/);
    expect(detail).toMatch(/same id column and format/);
  });

  it('a non-numeric value in a host column, named by file, line and column in the host log only', async () => {
    const result = await runJob(
      fed,
      lrSpec({
        parties: [
          { name: 'brand', role: 'guest', dataset: 'd' },
          { name: 'partner', role: 'host', dataset: 'bad' },
        ],
      }),
      'bad.yaml',
    );
    expect(result.stage).toBe('failed');
    expect(result.message).toMatch(/^partner failed at setup: /);
    expect(result.message).not.toMatch(/host-bad\.csv/); // the path stays with its owner
    const detail = partyLog('DATA_VALUE_INVALID') ?? '';
    expect(detail).toMatch(/host-bad\.csv/);
    expect(detail).toMatch(/line 9/);
    expect(detail).toMatch(/"c"|column c/);
  });

  it('a guest dataset without a label, and a dataset the party does not have', async () => {
    const noLabel = await runJob(
      fed,
      lrSpec({
        parties: [
          { name: 'brand', role: 'guest', dataset: 'nolabel' },
          { name: 'partner', role: 'host', dataset: 'd' },
        ],
      }),
      'nolabel.yaml',
    );
    expect(noLabel.stage).toBe('failed');
    expect(noLabel.message).toMatch(
      /brand failed at setup: datasets\.nolabel\.label is missing, but brand is the guest of a hetero-lr job/,
    );
    // The submitter running as the failing node gets the whole error (file, field, fix); anyone else is told where it is.
    const status = {
      jobId: noLabel.jobId,
      stage: noLabel.stage,
      phase: 'setup',
      message: noLabel.message,
    } as JobStatus;
    expect(await failureDetail(status, partyConfigFile(fed, 'brand'))).toMatch(
      /^brand \(this node\) failed with CONFIG_INVALID: .*brand\.yaml: datasets\.nolabel\.label: is missing.*Fix: add label:/s,
    );
    expect(await failureDetail(status, partyConfigFile(fed, 'partner'))).toMatch(
      /The detail is in brand's node log and in brand's <dataDir>\/jobs\/job-[0-9a-f]+\/failure\.json/,
    );
    const missing = await runJob(
      fed,
      lrSpec({
        parties: [
          { name: 'brand', role: 'guest', dataset: 'd' },
          { name: 'partner', role: 'host', dataset: 'nope' },
        ],
      }),
      'missing.yaml',
    );
    expect(missing.stage).toBe('failed');
    expect(missing.message).toMatch(/partner has no dataset "nope"/);
  });

  it('a guest label of one value, refused before training with the file and column in the guest log', async () => {
    const result = await runJob(
      fed,
      lrSpec({
        parties: [
          { name: 'brand', role: 'guest', dataset: 'flat' },
          { name: 'partner', role: 'host', dataset: 'same' },
        ],
      }),
      'flat.yaml',
    );
    expect(result.stage).toBe('failed');
    expect(result.message).toMatch(/^brand failed at \w+: a label value is not allowed/);
    const detail = partyLog('DATA_LABEL_INVALID') ?? '';
    expect(detail).toMatch(
      /guest-flat\.csv, column \\"y\\": every one of the \d+ training rows among the shared rows has the label/,
    );
  });

  it('sees a dataset added to the node config after the node started, without a restart', async () => {
    const file = partyConfigFile(fed, 'partner');
    const config = parse(await readFile(file, 'utf8')) as { datasets: Record<string, unknown> };
    config.datasets['added'] = { file: join(dir, 'host-good.csv'), id: 'id', features: 'all' };
    await writeFile(
      join(dir, 'host-good.csv'),
      rows(
        Array.from({ length: 50 }, (_, k) => `a${k}`),
        false,
      ),
    );
    await writeFile(file, stringify(config));
    const result = await runJob(
      fed,
      lrSpec({
        parties: [
          { name: 'brand', role: 'guest', dataset: 'd' },
          { name: 'partner', role: 'host', dataset: 'added' },
        ],
        training: { maxEpochs: 1 },
      }),
      'added.yaml',
    );
    expect(result.message).not.toMatch(/has no dataset/);
    expect(result.stage, result.message).toBe('completed');
  });

  it('an invalid spec is refused at submission, naming the field and the fix', async () => {
    const admin = await fed.admin();
    try {
      const file = await fed.write('zero.yaml', lrSpec({ training: { maxEpochs: 0 } }));
      await expect(admin.submit(file)).rejects.toMatchObject({
        code: 'JOB_SPEC_INVALID',
        message: expect.stringMatching(/zero\.yaml: training\.maxEpochs: must be at least 1.*Fix:/),
      });
    } finally {
      admin.close();
    }
  });

  it('leaves the data files untouched', async () => {
    const text = await readFile(join(dir, 'host-bad.csv'), 'utf8');
    expect(text).toContain('a7,zero,1');
  });
});
