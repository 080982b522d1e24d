import { describe, expect, it } from 'vitest';
import {
  describeFederation,
  failureMessage,
  failureOf,
  vanishedMessage,
  type FederationSources,
} from './federation-view.ts';
import type { JobRecord } from './job-store.ts';

const job = (over: Partial<JobRecord>): JobRecord => ({
  jobId: 'job-1',
  name: 'n',
  kind: 'hetero-lr',
  stage: 'running',
  phase: 'training',
  parties: ['brand', 'partner'],
  epoch: 0,
  maxEpochs: 5,
  unit: 'epochs',
  loss: 0,
  message: '',
  summaryJson: '{}',
  specYaml: '',
  specJson: '{}',
  createdAtMs: 1,
  updatedAtMs: 2,
  ...over,
});

describe('a failed job', () => {
  it('reads back the failing party, phase, code and public message it was recorded with', () => {
    const message = failureMessage(
      'brand',
      'setup',
      'DATA_COLUMN_MISSING',
      'the guest dataset has no label (column y)',
    );
    expect(message).toBe(
      'brand failed at setup: the guest dataset has no label (column y) (error DATA_COLUMN_MISSING)',
    );
    expect(failureOf(job({ stage: 'failed', message }))).toEqual({
      jobId: 'job-1',
      party: 'brand',
      phase: 'setup',
      errorCode: 'DATA_COLUMN_MISSING',
      message: 'the guest dataset has no label (column y)',
    });
  });

  it('names a party that vanished, with PEER_UNAVAILABLE', () => {
    const message = vanishedMessage('partner', 'training', 2000);
    expect(message).toMatch(/^partner disconnected during training and did not come back within 2 s/);
    expect(failureOf(job({ stage: 'failed', message }))).toMatchObject({
      party: 'partner',
      phase: 'training',
      errorCode: 'PEER_UNAVAILABLE',
    });
  });

  it('still names the party of a failure recorded before codes were kept, with an empty code', () => {
    expect(
      failureOf(job({ stage: 'failed', message: 'partner failed at psi: the parties share no ids' })),
    ).toMatchObject({ party: 'partner', phase: 'psi', errorCode: '', message: 'the parties share no ids' });
  });

  it('keeps a failure the coordinator itself recorded, with no party', () => {
    const message = 'the coordinator restarted while the job was running and has no saved keys for it; submit it again';
    expect(failureOf(job({ stage: 'failed', phase: 'psi', message }))).toEqual({
      jobId: 'job-1',
      party: '',
      phase: 'psi',
      errorCode: '',
      message,
    });
  });

  it('is no failure when the job completed or was cancelled', () => {
    expect(failureOf(job({ stage: 'completed', message: 'completed' }))).toBeUndefined();
    expect(failureOf(job({ stage: 'cancelled', message: 'cancelled by admin' }))).toBeUndefined();
  });
});

describe('describeFederation', () => {
  const jobs = [
    job({
      jobId: 'job-2',
      stage: 'failed',
      message: failureMessage('partner', 'psi', 'PSI_EMPTY_INTERSECTION', 'the parties share no ids'),
    }),
    job({ jobId: 'job-1', parties: ['brand', 'other'] }),
  ];
  const sources = (parties: readonly string[] | undefined): FederationSources => ({
    coordinator: 'coordinator',
    admins: ['admin'],
    parties,
    isConnected: (p) => p === 'brand',
    jobs: (limit) => jobs.slice(0, limit),
    status: (j) => ({ jobId: j.jobId, stage: j.stage }),
  });

  it('tells any caller only its own name and whether it is an admin', () => {
    expect(describeFederation('brand', { jobLimit: 0 }, sources(['brand', 'partner']))).toEqual({
      coordinator: 'coordinator',
      caller: 'brand',
      callerIsAdmin: false,
      full: false,
    });
    expect(describeFederation('admin', { jobLimit: 0 }, sources(['brand', 'partner']))).toEqual({
      coordinator: 'coordinator',
      caller: 'admin',
      callerIsAdmin: true,
      full: false,
    });
  });

  it('gives the coordinator itself the registered parties with their connection, the jobs and their failures', () => {
    const view = describeFederation('coordinator', { jobLimit: 0 }, sources(['brand', 'partner']));
    expect(view.full).toBe(true);
    expect(view.parties).toEqual([
      { name: 'brand', registered: true, connected: true },
      { name: 'partner', registered: true, connected: false },
    ]);
    expect(view.jobs?.map((j) => j.jobId)).toEqual(['job-2', 'job-1']);
    expect(view.failures).toEqual([
      {
        jobId: 'job-2',
        party: 'partner',
        phase: 'psi',
        errorCode: 'PSI_EMPTY_INTERSECTION',
        message: 'the parties share no ids',
      },
    ]);
  });

  it('lists the parties of its jobs when the config registers none', () => {
    const view = describeFederation('coordinator', { jobLimit: 1 }, sources(undefined));
    expect(view.parties).toEqual([
      { name: 'brand', registered: false, connected: true },
      { name: 'partner', registered: false, connected: false },
    ]);
  });
});
