import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JobStatus } from '../runtime/admin-client.ts';
import { ConfigError, JobError, TandemError } from '../protocol/errors.ts';
import { coordinatorViewOf, fetchCoordinatorView, readReportSource, writeJobReport } from './files.ts';
import { modelPartFile } from '../models/model-part.ts';
import { buildJobReport } from './job-report.ts';
import { binaryModelPart, COORDINATOR } from './test-fixtures.ts';

describe('report files', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tandem-report-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('reads a model part, and names the problem when there is none or it is broken', async () => {
    const file = modelPartFile(dir, 'job-0123456789');
    await mkdir(join(dir, 'jobs', 'job-0123456789'), { recursive: true });
    await writeFile(file, JSON.stringify(binaryModelPart()));
    expect((await readReportSource(dir, 'job-0123456789')).jobName).toBe('spring-campaign');

    await expect(readReportSource(dir, 'job-00000000ff')).rejects.toThrow(JobError);
    await expect(readReportSource(dir, 'job-00000000ff')).rejects.toMatchObject({ code: 'JOB_NOT_FOUND' });
    await expect(readReportSource(dir, '../../etc')).rejects.toMatchObject({ code: 'ARGUMENT_INVALID' });
    await expect(readReportSource(dir, '../../etc')).rejects.toThrow(TandemError);

    await mkdir(join(dir, 'jobs', 'job-00000000bb'), { recursive: true });
    await writeFile(modelPartFile(dir, 'job-00000000bb'), '{"jobId": ');
    await expect(readReportSource(dir, 'job-00000000bb')).rejects.toThrow(ConfigError);
  });

  it('writes <job>.report.html and <job>.report.json', async () => {
    const source = await readReportSource(dir, 'job-0123456789');
    const report = buildJobReport(source, { coordinator: COORDINATOR });
    const files = await writeJobReport(report, join(dir, 'out'));
    expect(files).toEqual({
      html: join(dir, 'out', 'job-0123456789.report.html'),
      json: join(dir, 'out', 'job-0123456789.report.json'),
    });
    expect(JSON.parse(await readFile(files.json, 'utf8'))).toEqual(JSON.parse(JSON.stringify(report)));
    expect(await readFile(files.html, 'utf8')).toContain('<h1>Model report: spring-campaign</h1>');
  });

  it("reduces the coordinator's status to stage, times, epoch limit and the hosts' feature counts", () => {
    const status = {
      jobId: 'job-0123456789',
      name: 'spring-campaign',
      kind: 'hetero-lr',
      stage: 'completed',
      phase: 'done',
      parties: ['brand', 'partner'],
      epoch: 4,
      maxEpochs: 30,
      loss: 0.455,
      message: 'completed',
      createdAtMs: Date.parse('2026-05-01T14:00:00Z'),
      updatedAtMs: Date.parse('2026-05-01T14:03:05Z'),
      specYaml: '',
      summaryJson: JSON.stringify({
        brand: { role: 'guest', metrics: {} },
        partner: { role: 'host', epochs: 4, features: 12 },
      }),
    } as unknown as JobStatus;
    expect(coordinatorViewOf(status)).toEqual({ ...COORDINATOR });
    expect(coordinatorViewOf({ ...status, summaryJson: 'not json', createdAtMs: 0 })).toMatchObject({
      hostFeatures: {},
      submittedAt: null,
    });
  });

  it('never fails the report when the coordinator cannot be asked', async () => {
    const view = await fetchCoordinatorView(
      { coordinator: '127.0.0.1:1', ca: join(dir, 'no-ca.crt'), cert: join(dir, 'no.crt'), key: join(dir, 'no.key') },
      'job-0123456789',
      2000,
    );
    expect(view.reached).toBe(false);
    expect(!view.reached && view.reason).toMatch(/no-ca\.crt|no\.crt|no\.key/);
  });
});
