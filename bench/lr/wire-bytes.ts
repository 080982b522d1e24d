/**
 * Bytes over the wire for one job, from the parties' audit logs
 * (<dataDir>/audit/<node>.audit.jsonl, one JSON line per message sent or
 * received, with the serialised envelope's size). A party's `sent` records
 * are what it originated (the coordinator's relay is not counted twice); what
 * the coordinator originated is what the parties `received` from it. Sizes are
 * envelope bytes: gRPC framing and TLS records add a little on top.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

type AuditLine = {
  readonly job: string;
  readonly direction: 'sent' | 'received';
  readonly peer: string;
  readonly kind: string;
  readonly step: string;
  readonly bytes: number;
};

/** Message steps grouped the way the protocol description names them. */
export const STEP_GROUPS = ['basis', 'residual', 'masked', 'decrypted', 'keys', 'psi', 'control'] as const;
export type StepGroup = (typeof STEP_GROUPS)[number];

function groupOf(step: string): StepGroup {
  if (step === 'basis') return 'basis';
  if (step === 'residual') return 'residual';
  if (step === 'decrypt') return 'masked';
  if (step === 'decrypt-result') return 'decrypted';
  if (step === 'assignment' || step === 'party-key' || step === 'key-directory') return 'keys';
  if (step.startsWith('psi-')) return 'psi';
  return 'control';
}

export type WireBytes = {
  /** Bytes originated per role: guest, host (all hosts), coordinator. */
  readonly sentBy: Record<'guest' | 'host' | 'coordinator', number>;
  readonly byGroup: Record<StepGroup, number>;
  readonly total: number;
  readonly messages: number;
};

/** `parties` maps party name to role; `dir` is the federation directory (each party's dataDir is dir/<name>). */
export async function wireBytes(
  dir: string,
  jobId: string,
  parties: ReadonlyMap<string, 'guest' | 'host'>,
): Promise<WireBytes> {
  const sentBy = { guest: 0, host: 0, coordinator: 0 };
  const byGroup = Object.fromEntries(STEP_GROUPS.map((g) => [g, 0])) as Record<StepGroup, number>;
  let messages = 0;
  for (const [name, role] of parties) {
    const text = await readFile(join(dir, name, 'audit', `${name}.audit.jsonl`), 'utf8');
    for (const line of text.split('\n')) {
      if (line.trim() === '') continue;
      const r = JSON.parse(line) as AuditLine;
      if (r.job !== jobId) continue;
      const from = r.direction === 'sent' ? role : r.peer === 'coordinator' ? 'coordinator' : undefined;
      if (from === undefined) continue; // the sender's own log counts it
      sentBy[from] += r.bytes;
      byGroup[groupOf(r.step)] += r.bytes;
      messages += 1;
    }
  }
  return { sentBy, byGroup, total: sentBy.guest + sentBy.host + sentBy.coordinator, messages };
}
