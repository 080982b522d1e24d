/**
 * The job report as one self-contained HTML page for a brand marketer:
 * what the model is worth, what federation added, and what crossed between
 * the parties. Charts are inline SVG (report/charts.ts); there is no script
 * and nothing is loaded from anywhere, which the page's Content Security
 * Policy enforces: it allows only its own stylesheet, by hash.
 */
import { createHash } from 'node:crypto';
import { aucChart, gainChart, liftChart, lossChart, rocChart } from './charts.ts';
import {
  count,
  decimal,
  duration,
  escapeXml,
  isShown,
  list,
  percent,
  signed,
  times,
  when,
  type Num,
} from './format.ts';
import { auditCommandFor } from './privacy.ts';
import { COLOURS, type Bar } from './svg.ts';
import type { ComparisonRow, JobReport, TopK } from './job-report.ts';

const CSS = `
body{font:16px/1.55 system-ui,-apple-system,"Segoe UI",sans-serif;color:#1d2327;max-width:62rem;margin:2rem auto;padding:0 1rem}
h1{font-size:1.7rem;margin:0 0 .2rem}h2{margin-top:2.4rem;border-bottom:1px solid #ccd;padding-bottom:.2rem}h3{margin:1.6rem 0 .3rem}
.sub{color:#555;margin-top:0}.banner{padding:.9rem 1.1rem;border-radius:6px;margin:1rem 0}
.ok{background:#e7f5ea;border:1px solid #7cbf8a}.warn{background:#fff6e0;border:1px solid #e0b64c}.info{background:#eef3fb;border:1px solid #9db6df}
.headline{font-size:1.25rem;font-weight:600}
.kpis{display:flex;flex-wrap:wrap;gap:.8rem;margin:1rem 0}.kpi{flex:1 1 11rem;border:1px solid #dde;border-radius:6px;padding:.6rem .8rem}
.kpi .v{font-size:1.6rem;font-weight:700}.kpi .l{font-size:.88rem;color:#444}
table{border-collapse:collapse;width:100%;margin:.4rem 0 1rem}th,td{text-align:left;padding:.35rem .5rem;border-bottom:1px solid #e3e3ea;vertical-align:top}
th{background:#f4f5f8;font-weight:600}td.n{text-align:right;white-space:nowrap}th.n{text-align:right}
.better{font-weight:700}code{font-size:.9em;background:#f4f5f8;padding:0 .2em;border-radius:3px}
.small{font-size:.88rem;color:#444}.means{margin:.2rem 0 .6rem}
figure{margin:1rem 0 1.6rem}figcaption{max-width:40rem}svg.chart{max-width:100%;height:auto;display:block}
table.confusion{width:auto}table.confusion td{text-align:right;min-width:3.5rem}
.h0{background:#ffffff}.h1{background:#e8f0fb}.h2{background:#cfe0f6}.h3{background:#a9c6ee}.h4{background:#7ea8e2}.h5{background:#5289d6;color:#fff}
.diag{font-weight:700}
@media print{body{margin:0}figure,.banner{break-inside:avoid}}
`;

const CSS_HASH = createHash('sha256').update(CSS).digest('base64');

/** The page's Content Security Policy: nothing may load, and only this stylesheet may apply. */
export const REPORT_CSP = `default-src 'none'; style-src 'sha256-${CSS_HASH}'; img-src 'none'; base-uri 'none'; form-action 'none'`;

const e = escapeXml;

const hostsOf = (r: JobReport): string[] => r.parties.filter((p) => p.role === 'host').map((p) => p.name);
const federatedLabel = (r: JobReport): string =>
  r.validationScoresShared ? `With ${list(hostsOf(r))}` : 'Federated (your part only)';

/** The top-k figure for a fraction, if the list has it. */
const at = (list: readonly TopK[] | undefined, fraction: number): number | null =>
  list?.find((t) => Math.abs(t.fraction - fraction) < 1e-9)?.value ?? null;

/** The one sentence a reader should take away. */
export function headline(r: JobReport): string {
  const fed = r.federated?.auc ?? null;
  const alone = r.guestOnly?.auc ?? null;
  const partners = list(hostsOf(r));
  if (!r.validationScoresShared) {
    return `The partners kept their test scores, so this report measures your part of the federated model only (AUC ${decimal(fed)}).`;
  }
  if (isShown(fed) && isShown(alone)) {
    const gain = fed - alone;
    if (gain > 0.0005)
      return `Adding ${partners}'s data raised your model's AUC from ${decimal(alone)} with your data alone to ${decimal(fed)} (${signed(gain)}).`;
    if (gain >= -0.0005)
      return `Adding ${partners}'s data left your model's AUC where your data alone puts it: ${decimal(alone)} alone, ${decimal(fed)} federated.`;
    return `In this job the federated model ranked people less well than your data alone: AUC ${decimal(fed)} federated against ${decimal(alone)} alone (${signed(gain)}).${r.training.epochs === null ? '' : ` It trained for ${r.training.epochs} epoch${r.training.epochs === 1 ? '' : 's'}.`}`;
  }
  if (isShown(fed))
    return `The federated model, trained with ${partners}, reaches an AUC of ${decimal(fed)} on held-out people.`;
  if (r.multiclass !== null) {
    const accuracy = r.multiclass.accuracy;
    const aloneAccuracy = r.guestOnly?.accuracy ?? null;
    if (isShown(accuracy) && isShown(aloneAccuracy))
      return `Adding ${partners}'s data changed the share of held-out people put in their true class from ${percent(aloneAccuracy)} with your data alone to ${percent(accuracy)} (${signed(accuracy - aloneAccuracy)}).`;
    return `The federated model, trained with ${partners}, puts ${percent(accuracy)} of held-out people in the right class.`;
  }
  // Lookalike: no labels for the pool, so the measure is how many held-out seeds the model ranks near the top of it.
  const recall20 = at(r.federated?.recallAtK, 0.2);
  if (isShown(recall20))
    return `Ranking ${partners}'s pool with the lookalike model puts ${percent(recall20, 0)} of your held-out seeds in its top 20% (random ranking: 20%, lift ${times(at(r.federated?.liftAtK, 0.2) ?? recall20 / 0.2, 1)}). The audience stays with ${partners}; you receive no ids.`;
  return 'This job has no evaluation results.';
}

/** Green when federation helped, blue when it changed nothing, amber when it did worse or cannot be judged. */
export function resultTone(r: JobReport): 'ok' | 'info' | 'warn' {
  const byAccuracy = r.multiclass !== null;
  const fed = (byAccuracy ? r.multiclass?.accuracy : r.federated?.auc) ?? null;
  const alone = (byAccuracy ? r.guestOnly?.accuracy : r.guestOnly?.auc) ?? null;
  if (!r.validationScoresShared) return 'warn';
  if (!isShown(fed) || !isShown(alone)) return 'info';
  return fed - alone > 0.0005 ? 'ok' : fed - alone >= -0.0005 ? 'info' : 'warn';
}

function kpis(r: JobReport): string {
  const cards: [string, string][] = [];
  if (isShown(r.federated?.auc)) cards.push([decimal(r.federated.auc), `AUC, ${federatedLabel(r).toLowerCase()}`]);
  if (isShown(r.guestOnly?.auc)) cards.push([decimal(r.guestOnly.auc), `AUC, ${aloneLabel(r, 'your')}`]);
  const lift10 = at(r.federated?.liftAtK, 0.1);
  if (isShown(lift10)) cards.push([times(lift10, 1), 'lift in the top 10% of scores']);
  const recall20 = at(r.federated?.recallAtK, 0.2);
  if (isShown(recall20)) cards.push([percent(recall20, 0), 'of positives found in the top 20%']);
  if (r.multiclass !== null) cards.push([percent(r.multiclass.accuracy), 'classified correctly']);
  if (cards.length === 0) return '';
  return `<div class="kpis">${cards.map(([v, l]) => `<div class="kpi"><div class="v">${e(v)}</div><div class="l">${e(l)}</div></div>`).join('')}</div>`;
}

/** Bold for the best value of a row ("better" decides the direction). */
function comparisonTable(r: JobReport): string {
  if (r.comparison.length === 0) return '';
  const withCentral = r.centralised !== null;
  const cell = (row: ComparisonRow, v: number | null): string => {
    // The better of the two models the guest can have; the pooled reference is not one of them.
    const values = [row.guestOnly, row.federated].filter(isShown);
    const best = row.better === 'higher' ? Math.max(...values) : Math.min(...values);
    return `<td class="n${isShown(v) && values.length > 1 && v === best && v !== row.centralised ? ' better' : ''}">${e(decimal(v))}</td>`;
  };
  const reference = (v: number | null): string => `<td class="n">${v === null ? '—' : e(decimal(v))}</td>`;
  const head = `<tr><th>measure</th><th class="n">your data alone</th><th class="n">${e(federatedLabel(r).toLowerCase())}</th>${withCentral ? '<th class="n">all data pooled (reference)</th>' : ''}<th>what it means</th></tr>`;
  const rows = r.comparison.map(
    (row) =>
      `<tr><td>${e(row.metric)}</td>${cell(row, row.guestOnly)}${cell(row, row.federated)}${withCentral ? reference(row.centralised) : ''}<td class="small">${e(row.meaning)}</td></tr>`,
  );
  const note = withCentral
    ? '<p class="small">“All data pooled” is a model trained with every party’s data in one place. Tandem never does that; the figure was supplied for reference, from a test or benchmark where pooling is allowed.</p>'
    : '';
  return `<table>${head}${rows.join('')}</table>${note}`;
}

function recallTable(r: JobReport): string {
  const fed = r.federated;
  if (fed === null || fed.recallAtK.length === 0) return '';
  const alone = r.guestOnly;
  const rows = fed.recallAtK.map((t) => {
    const lift = at(fed.liftAtK, t.fraction);
    return (
      `<tr><td>top ${e(percent(t.fraction, 0))}</td><td class="n">${e(count(t.rows))}</td>` +
      `<td class="n">${e(percent(at(alone?.recallAtK, t.fraction)))}</td><td class="n">${e(percent(t.value))}</td>` +
      `<td class="n">${e(times(at(alone?.liftAtK, t.fraction)))}</td><td class="n">${e(times(lift))}</td></tr>`
    );
  });
  return `<h3>Recall and lift at the top of the list</h3>
<p class="means">If you target only the best-scored share of people, this is the share of all positives you reach (recall), and how many times richer in positives that group is than average (lift).</p>
<table><tr><th>people targeted</th><th class="n">test people</th><th class="n">recall, your data alone</th><th class="n">recall, ${e(federatedLabel(r).toLowerCase())}</th><th class="n">lift, your data alone</th><th class="n">lift, ${e(federatedLabel(r).toLowerCase())}</th></tr>${rows.join('')}</table>`;
}

function figure(svg: string | undefined, caption: string): string {
  return svg === undefined ? '' : `<figure>${svg}<figcaption>${caption}</figcaption></figure>`;
}

function resultSection(r: JobReport): string {
  const bars: Bar[] = [];
  if (r.guestOnly !== null)
    bars.push({ label: aloneLabel(r), value: r.guestOnly.auc ?? undefined, colour: COLOURS.guestOnly });
  if (r.federated !== null)
    bars.push({ label: federatedLabel(r), value: r.federated.auc ?? undefined, colour: COLOURS.federated });
  if (r.centralised?.auc != null)
    bars.push({ label: 'All data pooled (reference)', value: r.centralised.auc, colour: COLOURS.centralised });
  const tone = resultTone(r);
  return `<h2>What the partnership bought you</h2>
<div class="banner ${tone}"><div class="headline">${e(headline(r))}</div></div>
${kpis(r)}
${figure(bars.length > 1 ? aucChart(bars) : undefined, 'The longer the bar, the better the model puts the people with the outcome ahead of the others. All models are measured on the same held-out people, whom none of them was trained on.')}
${r.multiclass === null ? '<p class="small">“Positives” are the people with the outcome you labelled (for example, buyers); “negatives” are everyone else.</p>' : ''}
${comparisonTable(r)}`;
}

function dataSection(r: JobReport): string {
  const roleText = (role: 'guest' | 'host', name: string): string =>
    role === 'guest' ? `guest: holds the outcome labels${name === r.job.guest ? ' (you)' : ''}` : 'host: adds features';
  const parties = r.parties
    .map(
      (p) =>
        `<tr><td>${e(p.name)}</td><td>${e(roleText(p.role, p.name))}</td><td><code>${e(p.dataset)}</code></td><td class="n">${e(p.features === null ? 'not known here' : count(p.features))}</td></tr>`,
    )
    .join('');
  const d = r.data;
  const positives =
    isShown(d.validationPositives) && isShown(d.validation) && d.validation > 0
      ? `, of whom ${count(d.validationPositives)} positive (${percent(d.validationPositives / d.validation)})`
      : '';
  const c = r.coordinator;
  const status = c.reached
    ? `<p>The coordinator reports this job <strong>${e(c.stage)}</strong>${c.submittedAt === null ? '' : `; submitted ${e(when(c.submittedAt))}`}${c.endedAt === null || c.stage === 'running' ? '' : `, ended ${e(when(c.endedAt))}`}${c.submittedAt !== null && c.endedAt !== null ? ` (${e(duration((Date.parse(c.endedAt) - Date.parse(c.submittedAt)) / 1000))})` : ''}.</p>`
    : `<p class="small">The coordinator was not asked or did not answer (${e(c.reason)}), so the job's timing and the partners' feature counts are not shown. Everything else comes from your own node.</p>`;
  return `<h2>Who took part, and how much data</h2>
<table><tr><th>party</th><th>role</th><th>dataset</th><th class="n">features</th></tr>${parties}</table>
<table><tr><th>people</th><th class="n">count</th></tr>
<tr><td>in both your list and ${e(list(hostsOf(r)))}'s (matched by private set intersection)</td><td class="n">${e(count(d.aligned))}</td></tr>
<tr><td>used to train the model</td><td class="n">${e(count(d.train))}</td></tr>
<tr><td>held out to test it${e(positives)}</td><td class="n">${e(count(d.validation))}</td></tr></table>
<p class="means">Every figure in this report is measured on the held-out people: the model never saw their outcomes while training.</p>
${status}`;
}

function trainingSection(r: JobReport): string {
  const t = r.training;
  const unit = r.federatedModel === 'trees' ? 'round' : 'epoch';
  const epochs =
    t.epochs === null
      ? ''
      : `The model trained for ${t.epochs} ${unit}${t.epochs === 1 ? '' : 's'}${t.maxEpochs !== null && t.maxEpochs > t.epochs ? ` of the ${t.maxEpochs} allowed: it stopped early because the loss had stopped improving` : ''}.`;
  const chart = lossChart(t.losses);
  const body =
    chart === undefined
      ? `<p>${r.dp === null ? 'No training loss was recorded for this job.' : 'No training loss is shown: under differential privacy the loss is never decrypted, so training always runs every epoch.'}</p>`
      : figure(
          chart,
          'The training loss measures how wrong the model still is on the training people after each pass over the data; it should fall and then level off.',
        );
  return `<h2>Training</h2><p>${e(epochs)}</p>${body}${importanceTable(r)}`;
}

/** Trees: which features carried the splits, by share of total gain (the partners' columns only in aggregate). */
function importanceTable(r: JobReport): string {
  if (r.importance === null || r.importance.length === 0) return '';
  const rows = r.importance
    .slice(0, 15)
    .map(
      (i) =>
        `<tr><td>${e(i.host ? `${i.name}'s columns (together)` : i.name)}</td><td class="n">${e(percent(i.share))}</td></tr>`,
    );
  return `<h3>What the trees split on</h3><p class="means">Each feature's share of the total gain of all splits. A partner's columns count together: their names stay with the partner.</p><table><tr><th>feature</th><th class="n">share of gain</th></tr>${rows.join('')}</table>`;
}

function rankingSection(r: JobReport): string {
  const label = federatedLabel(r);
  const roc = r.curves.roc === null ? undefined : rocChart(r.curves.roc, label);
  const gain = r.curves.gain === null ? undefined : gainChart(r.curves.gain, label);
  const lift = r.curves.gain === null ? undefined : liftChart(r.curves.gain, label, r.data.validation ?? undefined);
  const recall = recallTable(r);
  if (roc === undefined && gain === undefined && recall === '') return '';
  return `<h2>How well it ranks people</h2>
${figure(roc, 'ROC curve: as you lower the bar for calling someone positive, how many of the true positives you find (up) against how many negatives you pick up by mistake (right); the closer the curve hugs the top-left corner, the better, and the dashed diagonal is guessing.')}
${figure(gain, 'Cumulative gain: if you contact the best-scored share of people on the horizontal axis, you reach the share of all positives on the vertical axis; the dashed line is what picking people at random would reach.')}
${figure(lift, 'Lift: how many times more positives the targeted group holds than a random group of the same size; 1× (dashed) is no better than random.')}
${recall}`;
}

function multiclassSection(r: JobReport): string {
  const m = r.multiclass;
  if (m === null) return '';
  const head = `<tr><th>true class ↓ / predicted →</th>${m.classes.map((c) => `<th class="n">${e(c)}</th>`).join('')}</tr>`;
  const rows = m.confusion.map((row, t) => {
    const total = row.reduce((a, b) => a + b, 0);
    const cells = row
      .map(
        (n, p) =>
          `<td class="h${total === 0 ? 0 : Math.round((5 * n) / total)}${p === t ? ' diag' : ''}">${e(count(n))}</td>`,
      )
      .join('');
    return `<tr><th>${e(m.classes[t] ?? String(t))}</th>${cells}</tr>`;
  });
  const summary = `Accuracy ${percent(m.accuracy)}${isShown(m.macroF1) ? `, macro-F1 ${decimal(m.macroF1)} (the average of each class's balance of precision and recall, so small classes count as much as large ones)` : ''}.`;
  return `<h2>Classes</h2>
<p class="means">Each row is the held-out people of one true class, split by the class the model gave them: the darker the cell, the larger its share of the row, and the bold diagonal counts the people classified correctly.</p>
<table class="confusion">${head}${rows.join('')}</table><p>${e(summary)}</p>`;
}

/** ε with a "spent of budget" clause, or "not enabled". */
export function dpText(r: JobReport): string {
  if (r.dp === null) return 'Differential privacy: not enabled for this job (ε = ∞).';
  const { epsilon, delta, budget } = r.dp;
  return `Differential privacy: ε = ${isShown(epsilon) ? epsilon.toPrecision(3) : 'n/a'} spent${isShown(budget) ? ` of a budget of ${budget.toPrecision(3)}` : ''}${isShown(delta) ? `, δ = ${delta.toExponential(0)}` : ''}. The smaller ε, the less the model can reveal about any one person.`;
}

function privacySection(r: JobReport): string {
  const rows = r.privacy
    .map(
      (p) =>
        `<tr><td><strong>${e(p.what)}</strong></td><td>${e(p.form)}</td><td>${e(p.detail)}${p.threatModel === undefined ? '' : ` <span class="small">(threat model ${e(p.threatModel)})</span>`}</td></tr>`,
    )
    .join('');
  return `<h2>Privacy: what crossed between the parties</h2>
<div class="banner ${r.dp === null ? 'info' : 'ok'}">${e(dpText(r))}</div>
<table><tr><th>information</th><th>crossed as</th><th>who learns what</th></tr>${rows}</table>
<p class="small">Every message in the job travelled over mutually authenticated TLS and was recorded in each node's signed audit log. For the message-by-message record and a verdict per party, run <code>${e(auditCommandFor(r.job.id))}</code>. Every known leakage and its bound is in Tandem's threat model (<code>docs/threat-model.md</code>).</p>`;
}

const n = (x: Num): string => (isShown(x) ? String(x) : '');

/** The whole page. */
export function renderJobReportHtml(r: JobReport): string {
  const title = `Model report: ${r.job.name}`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="${e(REPORT_CSP)}">
<meta name="referrer" content="no-referrer">
<title>${e(title)}</title><style>${CSS}</style></head>
<body data-job="${e(r.job.id)}" data-auc="${n(r.federated?.auc)}">
<h1>${e(title)}</h1>
<p class="sub">Job <code>${e(r.job.id)}</code> · trained ${e(when(r.job.createdAt))} · report written ${e(when(r.generatedAt))} at ${e(r.job.guest)}, the guest</p>
${resultSection(r)}
${rankingSection(r)}
${multiclassSection(r)}
${trainingSection(r)}
${dataSection(r)}
${privacySection(r)}
<p class="small">Written by Tandem from the results held by ${e(r.job.guest)}. This page loads nothing from the network and runs no script; the same figures are in the JSON file written next to it.</p>
</body></html>
`;
}

/** "Your data alone", naming the better of the guest's own models when the job says which. */
function aloneLabel(r: JobReport, your = 'Your'): string {
  const model = r.guestOnly?.model;
  return model === null || model === undefined
    ? `${your} data alone`
    : `${your} data alone (${model === 'trees' ? 'trees' : 'LR'}, the better of your LR and trees)`;
}
