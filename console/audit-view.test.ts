import { describe, expect, it } from 'vitest';
import { MESSAGE_CATALOG } from '../jobs/catalog.ts';
import type { AuditRecord } from '../audit/log.ts';
import type { ParsedAuditLog } from '../audit/verify.ts';
import { auditJobs, auditRecords, auditSteps, STATEMENT_MEANING } from './audit-view.ts';

let seq = 0;
const record = (
  node: string,
  job: string,
  step: string,
  time: string,
  over: Partial<AuditRecord> = {},
): AuditRecord => ({
  job,
  round: 0,
  step,
  direction: 'sent',
  peer: 'coordinator',
  kind: 'control',
  messageId: `${job}/0/${step}/${node}>coordinator/0`,
  bytes: 100,
  sha256: 'a'.repeat(64),
  sealed: false,
  seq: seq++,
  time,
  node,
  prev: '0'.repeat(64),
  hash: 'b'.repeat(64),
  sig: 'sig',
  ...over,
});
const log = (node: string, records: AuditRecord[]): ParsedAuditLog => ({
  file: `${node}.audit.jsonl`,
  node,
  entries: records.map((r, i) => ({ line: i + 1, record: r, id: undefined })),
});

const logs = [
  log('brand', [
    record('brand', 'job-a', 'party-key', '2026-01-01T00:00:01Z', { kind: 'key' }),
    record('brand', 'job-a', 'psi-guest-set', '2026-01-01T00:00:02Z', {
      kind: 'psi-blinded',
      sealed: true,
      bytes: 5000,
    }),
    record('brand', 'job-a', 'dp', '2026-01-01T00:00:09Z', {
      direction: 'local',
      kind: 'statement',
      claim: { type: 'dp', job: 'job-a', epsilon: 3 },
    }),
    record('brand', 'job-b', 'party-key', '2026-02-01T00:00:00Z', { kind: 'key' }),
  ]),
  log('coordinator', [
    record('coordinator', 'job-a', 'psi-guest-set', '2026-01-01T00:00:03Z', {
      direction: 'received',
      peer: 'brand',
      kind: 'psi-blinded',
      sealed: true,
      bytes: 5000,
    }),
    record('coordinator', 'job-a', 'psi-guest-set', '2026-01-01T00:00:04Z', {
      peer: 'partner',
      kind: 'psi-blinded',
      sealed: true,
      bytes: 5000,
    }),
    record('coordinator', 'job-a', 'made-up-step', '2026-01-01T00:00:05Z'),
  ]),
];

describe('the audit view', () => {
  it('lists the jobs in the logs, most recent first, with their nodes', () => {
    expect(auditJobs(logs)).toEqual([
      {
        job: 'job-b',
        records: 1,
        nodes: ['brand'],
        firstTime: '2026-02-01T00:00:00Z',
        lastTime: '2026-02-01T00:00:00Z',
      },
      {
        job: 'job-a',
        records: 6,
        nodes: ['brand', 'coordinator'],
        firstTime: '2026-01-01T00:00:01Z',
        lastTime: '2026-01-01T00:00:09Z',
      },
    ]);
  });

  it("groups a job's records by step in the order they first appear, with the catalog's meaning", () => {
    const steps = auditSteps(logs, 'job-a');

    expect(steps.map((s) => s.step)).toEqual(['party-key', 'psi-guest-set', 'made-up-step', 'dp']);
    expect(steps[1]).toEqual({
      step: 'psi-guest-set',
      meaning: MESSAGE_CATALOG.get('psi-guest-set')?.meaning,
      kinds: ['psi-blinded'],
      records: 3,
      bytes: 15000,
      sealed: 3,
      nodes: ['brand', 'coordinator'],
    });
    expect(steps[2]?.meaning).toBe(
      '"made-up-step" is not in the message catalog: no protocol step of this Tandem sends it',
    );
    expect(steps[3]?.meaning).toBe(STATEMENT_MEANING);
  });

  it("lists one step's records in time order, with where each was found, up to a limit", () => {
    const { records, total } = auditRecords(logs, 'job-a', 'psi-guest-set', 2);

    expect(total).toBe(3);
    expect(records.map((r) => [r.node, r.direction, r.peer, r.file, r.line])).toEqual([
      ['brand', 'sent', 'coordinator', 'brand.audit.jsonl', 2],
      ['coordinator', 'received', 'brand', 'coordinator.audit.jsonl', 1],
    ]);
    expect(auditRecords(logs, 'job-a', 'dp').records[0]?.claim).toEqual({ type: 'dp', job: 'job-a', epsilon: 3 });
  });
});
