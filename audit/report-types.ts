/** The shape of an audit report (audit/report.ts builds it, audit/report-page.ts renders it). */
import type { AuditClaim } from './log.ts';

export const REPORT_FORMAT = 'tandem-audit-report/1';

export type StepTotal = {
  readonly step: string;
  readonly meaning: string;
  readonly messages: number;
  readonly bytes: number;
};

export type KindGroup = {
  readonly kind: string;
  readonly meaning: string;
  readonly messages: number;
  /** Bytes on the wire: whole messages, headers and sealing included. */
  readonly bytes: number;
  /** How many of the messages were sealed end to end for their recipient. */
  readonly sealed: number;
  /** Messages addressed to another party (those must be sealed; the coordinator's own are not, it must read them). */
  readonly toParties: number;
  readonly sealedToParties: number;
  readonly recipients: Readonly<Record<string, number>>;
  readonly steps: readonly StepTotal[];
};

export type Verdict = {
  readonly noRowLevelPlaintext: boolean;
  /** The one line an auditor reads first. */
  readonly text: string;
  /** Why the verdict could not be given, if it could not. */
  readonly concerns: readonly string[];
};

export type PartyReport = {
  readonly party: string;
  /** Inferred from the protocol steps it sent. */
  readonly role: 'guest' | 'host' | 'unknown';
  /** Where the figures come from: the party's own log, or its peers' records of what they received from it. */
  readonly source: 'own log' | "peers' logs";
  readonly messages: number;
  readonly bytes: number;
  readonly groups: readonly KindGroup[];
  readonly verdict: Verdict;
  /** What recipients learn by design, stated plainly. */
  readonly disclosures: readonly string[];
};

export type CoordinatorReport = {
  readonly source: 'own log' | "peers' logs";
  readonly groups: readonly KindGroup[];
  readonly relayed: { readonly messages: number; readonly bytes: number; readonly unsealed: number };
};

export type AuditReport = {
  readonly format: typeof REPORT_FORMAT;
  readonly job: string;
  readonly generatedAt: string;
  readonly verification: {
    readonly checked: boolean;
    readonly ok: boolean;
    readonly problems: number;
    readonly text: string;
  };
  readonly privacyBudget: PrivacyBudget;
  readonly sources: readonly {
    readonly file: string;
    readonly node: string | undefined;
    readonly records: number;
    readonly jobRecords: number;
    readonly lastHash: string | undefined;
  }[];
  readonly parties: readonly PartyReport[];
  readonly coordinator: CoordinatorReport | undefined;
  readonly kinds: readonly { readonly kind: string; readonly meaning: string }[];
};

/** One party's signed statement of the ε a job spent, as found in its own log. */
export type DpStatement = {
  readonly party: string;
  /** The party's role as the report infers it from what it sent (not as it claims). */
  readonly role: PartyReport['role'];
  readonly file: string;
  readonly line: number;
  readonly seq: number;
  readonly time: string;
  readonly epsilon: number;
  readonly delta: number;
  readonly budget: number;
  readonly steps: number;
  readonly noiseMultiplier: number;
  readonly claim: AuditClaim;
};

/** The ε spent, if differential privacy was on: from the guest's signed statement, never from a job summary. */
export type PrivacyBudget = {
  /** Whether the job ran with differential privacy: the guest sent a `dp-plan`, or a party stated ε. */
  readonly enabled: boolean;
  /** ε spent as the guest stated it; null when DP was off or no guest statement was found. */
  readonly epsilon: number | null;
  readonly delta: number | null;
  /** The ε the job declared it would not exceed. */
  readonly budget: number | null;
  /** The party whose signed statement gives ε (the guest), or null. */
  readonly statedBy: string | null;
  /** Every statement of ε for this job in the logs given, the guest's first. */
  readonly statements: readonly DpStatement[];
  /** What an auditor should look into: statements that disagree, ε over the budget, an unverified source. */
  readonly concerns: readonly string[];
  /** One line: `ε spent: 7.94 (δ = 0.00001, budget 8)` or `ε spent: not enabled`. */
  readonly headline: string;
  readonly text: string;
};
