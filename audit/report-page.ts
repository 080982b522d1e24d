/**
 * The `tandem audit report` page (audit/report.ts builds the report):
 * one self-contained HTML file, no scripts and no network, and the number
 * formats both the page and the report's sentences use.
 */
import type { AuditReport, KindGroup, PartyReport, PrivacyBudget } from './report-types.ts';

/** ε for people: three significant digits, rounded up so the figure shown never understates what was spent. */
export function formatEpsilon(epsilon: number): string {
  if (!Number.isFinite(epsilon) || epsilon <= 0) return String(epsilon);
  const unit = 10 ** (Math.floor(Math.log10(epsilon)) - 2);
  const up = Math.ceil(Number((epsilon / unit).toPrecision(12))) * unit;
  return String(Number(up.toPrecision(3)));
}

/** `1.2 MB`-style sizes for people; the exact byte count sits beside it. */
export function formatBytes(bytes: number): string {
  if (bytes < 1000) return `${bytes} B`;
  const units = ['kB', 'MB', 'GB', 'TB'];
  let value = bytes / 1000;
  let k = 0;
  while (value >= 1000 && k < units.length - 1) {
    value /= 1000;
    k += 1;
  }
  return `${value.toFixed(value < 10 ? 2 : 1)} ${units[k] ?? ''}`;
}

const escapeHtml = (text: string): string =>
  text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c);

const CSS = `
body{font:16px/1.5 system-ui,-apple-system,"Segoe UI",sans-serif;color:#1d2327;max-width:60rem;margin:2rem auto;padding:0 1rem}
h1{font-size:1.6rem;margin-bottom:.2rem}h2{margin-top:2.2rem;border-bottom:1px solid #ccd;padding-bottom:.2rem}h3{margin:1.2rem 0 .4rem}
.sub{color:#555}.banner{padding:.8rem 1rem;border-radius:6px;margin:1rem 0}
.ok{background:#e7f5ea;border:1px solid #7cbf8a}.warn{background:#fff6e0;border:1px solid #e0b64c}.bad{background:#fde8e8;border:1px solid #d77}
.verdict{font-size:1.15rem;font-weight:600}
table{border-collapse:collapse;width:100%;margin:.4rem 0 1rem}th,td{text-align:left;padding:.35rem .5rem;border-bottom:1px solid #e3e3ea;vertical-align:top}
th{background:#f4f5f8;font-weight:600}td.n{text-align:right;white-space:nowrap}code{font-size:.9em;background:#f4f5f8;padding:0 .2em;border-radius:3px}
.small{font-size:.88rem;color:#444}dl dt{font-weight:600;margin-top:.6rem}dl dd{margin-left:1rem}
@media print{body{margin:0}.banner{break-inside:avoid}}
`;

function groupTable(groups: readonly KindGroup[]): string {
  if (groups.length === 0) return '<p>No messages.</p>';
  const rows = groups.map((g) => {
    const steps = g.steps
      .map((s) => `<li><code>${escapeHtml(s.step)}</code>: ${escapeHtml(s.meaning)} (${s.messages})</li>`)
      .join('');
    const sealed =
      g.toParties === 0
        ? 'not needed: for the coordinator'
        : `${g.sealedToParties === g.toParties ? 'all' : `<strong>${g.sealedToParties} of ${g.toParties}</strong>`} sent to parties${g.toParties < g.messages ? `; ${g.messages - g.toParties} for the coordinator` : ''}`;
    const to = Object.entries(g.recipients)
      .map(([name, n]) => `${escapeHtml(name)} (${n})`)
      .join(', ');
    return (
      `<tr><td><strong>${escapeHtml(g.kind)}</strong><div class="small">${escapeHtml(g.meaning)}</div><ul class="small">${steps}</ul></td>` +
      `<td class="n">${g.messages}</td><td class="n" title="${g.bytes} bytes">${formatBytes(g.bytes)}</td><td>${sealed}</td><td>${to}</td></tr>`
    );
  });
  return `<table><thead><tr><th>What left (kind)</th><th>Messages</th><th>Size</th><th>Sealed</th><th>To</th></tr></thead><tbody>${rows.join('')}</tbody></table>`;
}

function partySection(p: PartyReport): string {
  const tone = p.verdict.noRowLevelPlaintext
    ? p.groups.some((g) => g.kind === 'partial-score')
      ? 'warn'
      : 'ok'
    : 'bad';
  const role =
    p.role === 'unknown'
      ? ''
      : ` <span class="sub">(${p.role === 'guest' ? 'guest: holds the labels' : 'host: holds features only'})</span>`;
  const source =
    p.source === 'own log'
      ? `From ${escapeHtml(p.party)}'s own log.`
      : `${escapeHtml(p.party)}'s own log was not given: from what the others recorded receiving from it.`;
  const disclosed =
    p.disclosures.length === 0
      ? ''
      : `<h3>What the recipients learn, by design</h3><ul>${p.disclosures.map((d) => `<li>${escapeHtml(d)}</li>`).join('')}</ul>`;
  return `<section><h2>${escapeHtml(p.party)}${role}</h2>
<div class="banner ${tone}"><div class="verdict">${escapeHtml(p.verdict.text)}</div></div>
<p>${p.messages} messages, ${formatBytes(p.bytes)} in total left ${escapeHtml(p.party)} in this job. <span class="small">${source}</span></p>
${groupTable(p.groups)}${disclosed}</section>`;
}

function privacyTone(report: AuditReport): 'ok' | 'warn' | 'bad' {
  const b = report.privacyBudget;
  if (b.concerns.length > 0) return 'bad';
  return !b.enabled || (b.statedBy !== null && report.verification.ok) ? 'ok' : 'warn';
}

/** The parties' signed statements of ε, when there are any. */
function privacySection(b: PrivacyBudget): string {
  if (b.statements.length === 0) return '';
  const rows = b.statements
    .map(
      (s) =>
        `<tr><td>${escapeHtml(s.party)}${s.role === 'unknown' ? '' : ` (${s.role})`}</td><td class="n" title="${s.epsilon}">${escapeHtml(formatEpsilon(s.epsilon))}</td>` +
        `<td class="n">${s.delta}</td><td class="n">${s.budget}</td><td class="n">${s.steps}</td><td class="n">${Number(s.noiseMultiplier.toPrecision(4))}</td>` +
        `<td><code>${escapeHtml(s.file)}</code> line ${s.line}, seq ${s.seq}</td></tr>`,
    )
    .join('');
  return `<h2>Privacy budget (differential privacy)</h2>
<p>Each row is a statement a party signed into its own audit log when the job ended: the ε its privacy accountant computed for the job. The figure in the banner above is the guest's.</p>
<table><thead><tr><th>Stated by</th><th>ε spent</th><th>δ</th><th>ε budget</th><th>Noisy steps</th><th>Noise multiplier</th><th>Where</th></tr></thead><tbody>${rows}</tbody></table>`;
}

/** One self-contained page: inline CSS, no scripts, no external resources. */
export function renderAuditReportHtml(report: AuditReport): string {
  const v = report.verification;
  const vTone = !v.checked ? 'warn' : v.ok ? 'ok' : 'bad';
  const c = report.coordinator;
  const coordinator =
    c === undefined
      ? ''
      : `<section><h2>The coordinator</h2>
<p>The coordinator runs the job and holds its decryption key, but must never see data. ${c.relayed.messages > 0 ? `It passed on ${c.relayed.messages} sealed messages between the parties (${formatBytes(c.relayed.bytes)}) that it cannot open${c.relayed.unsealed > 0 ? `; <strong>${c.relayed.unsealed} of them were not sealed</strong>` : ''}.` : ''} What it sent itself:</p>
${groupTable(c.groups)}</section>`;
  const kinds = report.kinds.map((k) => `<dt>${escapeHtml(k.kind)}</dt><dd>${escapeHtml(k.meaning)}</dd>`).join('');
  const sources = report.sources
    .map(
      (s) =>
        `<tr><td>${escapeHtml(s.node ?? '?')}</td><td><code>${escapeHtml(s.file)}</code></td><td class="n">${s.jobRecords} of ${s.records}</td><td><code>${escapeHtml(s.lastHash?.slice(0, 16) ?? '-')}</code></td></tr>`,
    )
    .join('');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>Privacy audit: job ${escapeHtml(report.job)}</title><style>${CSS}</style></head><body>
<h1>Privacy audit of job ${escapeHtml(report.job)}</h1>
<p class="sub">Generated ${escapeHtml(report.generatedAt)} from the audit logs of ${report.sources.map((s) => escapeHtml(s.node ?? '?')).join(', ')}.</p>
<div class="banner ${vTone}">${escapeHtml(v.text)}</div>
<div class="banner ${privacyTone(report)}">${escapeHtml(report.privacyBudget.text)}</div>
${privacySection(report.privacyBudget)}
<h2>How to read this report</h2>
<p>Every node of the federation keeps its own tamper-evident log with one entry per message it sends or receives. This report lists, for each party, everything that left it in this job, grouped by what kind of message it was, with counts and sizes. A message is <em>sealed</em> when it was encrypted end to end for its recipient, so the coordinator that passed it on could not read it.</p>
<p><em>Row-level plaintext</em> means readable data about individual rows: identifiers, feature values or labels. The verdict "no row-level plaintext left" is given when every message that left the party is one of the protocol's protected kinds (explained at the end), every message to another party was sealed, and nothing the coordinator could decrypt was sent to it unmasked. Some things are shared on purpose, such as which rows two parties have in common; they are listed under each party rather than hidden.</p>
${report.parties.map(partySection).join('\n')}
${coordinator}
<h2>What each kind of message means</h2><dl>${kinds}</dl>
<h2>Sources</h2>
<table><thead><tr><th>Node</th><th>Log file</th><th>Entries for this job</th><th>Last entry's hash</th></tr></thead><tbody>${sources}</tbody></table>
<p class="small">Keep the last hashes: a later copy of a log that does not contain them has been cut short. Sizes are of whole messages as sent, including headers and sealing.</p>
</body></html>
`;
}
