/**
 * The report's short privacy summary: what crossed a party boundary in a
 * hetero-LR job, in which form, and who learns what from it. It restates
 * docs/threat-model.md ("What travels", L1–L11) for a non-engineer; the
 * per-message evidence is `tandem audit report`, which reads the signed
 * audit logs instead of trusting this summary.
 */
import { count, list } from './format.ts';

export type PrivacyItem = {
  /** The kind of information. */
  readonly what: string;
  /** How it crossed, in a few words ("never sent", "blinded", "encrypted"...). */
  readonly form: string;
  /** One or two sentences: what anyone learns from it. */
  readonly detail: string;
  /** The leakage in docs/threat-model.md this item is, if any. */
  readonly threatModel?: string;
};

export type PrivacyFacts = {
  readonly jobId: string;
  readonly guest: string;
  readonly hosts: readonly string[];
  readonly aligned: number | null;
  readonly validation: number | null;
  readonly validationScoresShared: boolean;
  /** Null: the job ran without differential privacy. */
  readonly epsilon: number | null;
  readonly delta: number | null;
};

/** The items, in the order a reader meets them in a job. */
export function privacySummary(f: PrivacyFacts): PrivacyItem[] {
  const hosts = f.hosts.length === 0 ? 'the partner' : list(f.hosts);
  const dp = f.epsilon !== null;
  const bound = dp
    ? `Differential privacy bounds this: ε = ${f.epsilon.toPrecision(3)}${f.delta === null ? '' : `, δ = ${f.delta.toExponential(0)}`} for any one person.`
    : 'This job ran without differential privacy, so there is no formal bound (ε = ∞).';
  return [
    {
      what: 'Customer ids',
      form: 'blinded, sealed',
      detail: `Matched by private set intersection: every id was hashed and blinded with a secret key before it left its owner. You and ${hosts} learn only who is in both lists${f.aligned === null ? '' : ` (${count(f.aligned)} people)`} and the size of each other's list; ${hosts} also learn${f.hosts.length === 1 ? 's' : ''} which of those people were held out for testing.`,
      threatModel: 'L1, L3',
    },
    {
      what: `Your outcome labels and features`,
      form: 'never sent',
      detail: `For each training batch ${hosts} received the model's errors on their rows encrypted (CKKS) under a key only the coordinator holds, and sealed so that the coordinator, which relays them, cannot read them.`,
    },
    {
      what: `${hosts}'s features`,
      form: 'never sent',
      detail: `You received only encrypted values computed from ${hosts}'s part of the model, which you cannot decrypt.`,
    },
    {
      what: 'Model weights',
      form: 'never sent',
      detail: 'Each party keeps its own part of the model; scoring a person needs every party.',
    },
    {
      what: 'Gradients',
      form: 'masked, noised totals',
      detail: `Each party learns, once per batch, how to update its own part of the model: a total over the batch, decrypted by the coordinator only under a random mask. As in every vertical federated model, this can reveal a person's label in rare cases. ${bound}`,
      threatModel: 'L5',
    },
    f.validationScoresShared
      ? {
          what: 'Test scores',
          form: 'one number per test person',
          detail: `You received ${hosts}'s part of the score for each of the ${f.validation === null ? '' : `${count(f.validation)} `}held-out test people, so that you could measure the model${dp ? ', with noise added for differential privacy' : ''}. No training person's score was sent.`,
          threatModel: 'L6',
        }
      : {
          what: 'Test scores',
          form: 'not shared',
          detail: `Kept by ${hosts}: the figures in this report measure your part of the model only.`,
        },
    {
      what: 'What the coordinator saw',
      form: 'aggregates only',
      detail: `The job settings, message sizes and timing, ${dp ? '' : 'the training loss per epoch, '}and the final figures in this report, without the per-person cut-offs of the ROC curve. Nothing about any single person.`,
      threatModel: 'L8, L10',
    },
  ];
}

/** The command that checks, message by message, what left each party in this job. */
export function auditCommandFor(jobId: string): string {
  return `tandem audit report --job ${jobId} --ca ca.crt --certs-dir certs <each node's audit log>`;
}
