import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { buildJobReport, parseReportSource, type JobReport } from './job-report.ts';
import { dpText, headline, renderJobReportHtml, REPORT_CSP, resultTone } from './html.ts';
import { binaryModelPart, COORDINATOR, multiclassModelPart, unbalancedTag, viaJson } from './test-fixtures.ts';

const build = (part: Record<string, unknown>, options: Partial<Parameters<typeof buildJobReport>[1]> = {}): JobReport =>
  buildJobReport(parseReportSource(viaJson(part), 'model-part.json'), {
    coordinator: COORDINATOR,
    generatedAt: '2026-05-02T09:00:00.000Z',
    ...options,
  });

/** The report with chosen AUCs for the guest alone and the federated model. */
function withAucs(alone: number, federated: number, extra: Record<string, unknown> = {}): JobReport {
  const part = binaryModelPart();
  const s = part['summary'] as {
    metrics: Record<string, unknown>;
    guestOnly: { features: number; metrics: Record<string, unknown> };
  };
  return build(
    binaryModelPart({
      summary: {
        metrics: { ...s.metrics, auc: federated },
        guestOnly: { ...s.guestOnly, metrics: { ...s.guestOnly.metrics, auc: alone } },
        ...extra,
      },
    }),
  );
}

/** The page's visible text, roughly: no style sheet, tags as spaces, entities decoded. */
const text = (html: string): string =>
  html
    .replace(/<style>[\s\S]*?<\/style>/g, ' ')
    .replace(/<[^>]+>/g, ' ')
    .replace(
      /&(#39|quot|lt|gt|amp);/g,
      (_, k: string) => ({ '#39': "'", quot: '"', lt: '<', gt: '>', amp: '&' })[k] ?? '',
    )
    .replace(/\s+/g, ' ');

describe('renderJobReportHtml', () => {
  const report = withAucs(0.65, 0.71);
  const html = renderJobReportHtml(report);

  it('is a well-formed page with a CSP that allows only its own stylesheet, by hash', () => {
    expect(html.startsWith('<!doctype html>')).toBe(true);
    expect(unbalancedTag(html)).toBeUndefined();
    const style = /<style>([\s\S]*?)<\/style>/.exec(html)?.[1] ?? '';
    const hash = createHash('sha256').update(style).digest('base64');
    expect(REPORT_CSP).toContain(`style-src 'sha256-${hash}'`);
    expect(REPORT_CSP).toMatch(/^default-src 'none';/);
    expect(html).toContain(
      `<meta http-equiv="Content-Security-Policy" content="${REPORT_CSP.replace(/'/g, '&#39;')}">`,
    );
  });

  it('loads nothing and runs nothing', () => {
    expect(html).not.toMatch(/<script|<link|<img|<iframe|<object|\bsrc=|\bhref=|url\(|@import|\bstyle="/i);
    // The SVG namespace is a name, not something fetched.
    expect(html.replaceAll('xmlns="http://www.w3.org/2000/svg"', '')).not.toMatch(/https?:\/\/|\/\/[a-z0-9.-]+\//i);
  });

  it('draws the five charts and says what each one means', () => {
    const charts = [...html.matchAll(/<svg [^>]*data-chart="(\w+)"/g)].map((m) => m[1]);
    expect(charts).toEqual(['auc', 'roc', 'gain', 'lift', 'loss']);
    expect(html.match(/<figcaption>/g)).toHaveLength(5);
  });

  it('shows the key numbers', () => {
    const t = text(html);
    expect(t).toContain("raised your model's AUC from 0.650 with your data alone to 0.710 (+0.060)");
    for (const n of ['1,000', '800', '200', '0.650', '0.710', 'spring-campaign', 'job-0123456789'])
      expect(t).toContain(n);
    for (const k of report.federated?.recallAtK ?? []) expect(t).toContain(`top ${Math.round(k.fraction * 100)}%`);
    expect(t).toContain('Differential privacy: not enabled');
    expect(t).toContain('tandem audit report --job job-0123456789');
    expect(t).not.toContain('all data pooled');
  });

  it('adds the centralised column only when given', () => {
    const withCentral = renderJobReportHtml(build(binaryModelPart(), { centralisedAuc: 0.7234 }));
    expect(text(withCentral)).toContain('all data pooled (reference)');
    expect(text(withCentral)).toContain('0.723');
    expect(withCentral).toContain('All data pooled (reference)');
  });

  it('escapes names from the model part', () => {
    const evil = renderJobReportHtml(build({ ...binaryModelPart(), jobName: '<img src=x onerror=alert(1)>' }));
    expect(evil).not.toContain('<img');
    expect(evil).toContain('&lt;img src=x onerror=alert(1)&gt;');
  });

  it('renders a confusion matrix for a multi-class job, shading each row by share', () => {
    const mc = renderJobReportHtml(build(multiclassModelPart()));
    expect(unbalancedTag(mc)).toBeUndefined();
    expect(mc).toContain('<table class="confusion">');
    for (const c of ['coffee', 'milk powder', 'candy']) expect(mc).toContain(`<th class="n">${c}</th>`);
    // Row "candy": 1, 7, 12 of 20 → shades 0, 2, 3; the diagonal is bold.
    expect(mc).toContain(
      '<tr><th>candy</th><td class="h0">1</td><td class="h2">7</td><td class="h3 diag">12</td></tr>',
    );
    expect(text(mc)).toContain('Accuracy 75.0%, macro-F1 0.732');
    expect(mc).not.toContain('data-chart="roc"');
    // Nothing binary-only: no ranking section, no AUC card, no "positives".
    expect(mc).not.toContain('How well it ranks people');
    expect(mc).not.toContain('AUC, with partner');
    expect(mc).not.toContain('“Positives”');
    expect(text(mc)).toContain('The share of people put in their true class.');
  });

  it('explains a missing loss curve under DP, and states ε', () => {
    const dp = build(
      binaryModelPart({ summary: { losses: [], dp: { epsilon: 1.5, delta: 1e-5, budget: 2, noiseMultiplier: 1.1 } } }),
    );
    const page = renderJobReportHtml(dp);
    expect(page).not.toContain('data-chart="loss"');
    expect(text(page)).toContain('under differential privacy the loss is never decrypted');
    expect(dpText(dp)).toBe(
      'Differential privacy: ε = 1.50 spent of a budget of 2.00, δ = 1e-5. The smaller ε, the less the model can reveal about any one person.',
    );
  });

  it('without the coordinator, says so and shows the rest', () => {
    const offline = build(binaryModelPart(), { coordinator: { reached: false, reason: 'no answer within 5000 ms' } });
    const page = text(renderJobReportHtml(offline));
    expect(page).toContain('did not answer (no answer within 5000 ms)');
    expect(page).toContain('not known here');
    expect(page).toContain(`with your data alone to ${offline.federated?.auc?.toFixed(3)}`);
  });
});

describe('headline', () => {
  it('tells a gain, no change and a loss honestly', () => {
    expect(headline(withAucs(0.65, 0.71))).toBe(
      "Adding partner's data raised your model's AUC from 0.650 with your data alone to 0.710 (+0.060).",
    );
    expect(resultTone(withAucs(0.65, 0.71))).toBe('ok');
    expect(headline(withAucs(0.7, 0.7002))).toContain("left your model's AUC where your data alone puts it");
    expect(resultTone(withAucs(0.7, 0.7002))).toBe('info');
    expect(headline(withAucs(0.997, 0.991))).toBe(
      'In this job the federated model ranked people less well than your data alone: AUC 0.991 federated against 0.997 alone (−0.006). It trained for 4 epochs.',
    );
    expect(resultTone(withAucs(0.997, 0.991))).toBe('warn');
  });

  it('compares a cold-start model with the guest alone by accuracy', () => {
    const part = multiclassModelPart();
    const summary = part['summary'] as Record<string, unknown>;
    const mc = build({
      ...part,
      summary: { ...summary, guestOnly: { features: 9, metrics: { accuracy: 0.6, macroF1: 0.55 } } },
    });
    expect(headline(mc)).toBe(
      "Adding partner's data changed the share of held-out people put in their true class from 60.0% with your data alone to 75.0% (+0.150).",
    );
    expect(resultTone(mc)).toBe('ok');
  });

  it('reads a lookalike job by the held-out seeds it finds at the top of the pool', () => {
    const lookalike = build({
      ...binaryModelPart(),
      summary: {
        role: 'guest',
        kind: 'lookalike',
        rows: { aligned: 2000, train: 1600, validation: 400 },
        metrics: {
          recallAtK: [
            { fraction: 0.1, value: 0.3 },
            { fraction: 0.2, value: 0.49 },
          ],
          liftAtK: [{ fraction: 0.2, value: 2.45 }],
        },
      },
    });
    expect(headline(lookalike)).toBe(
      "Ranking partner's pool with the lookalike model puts 49% of your held-out seeds in its top 20% (random ranking: 20%, lift 2.5×). The audience stays with partner; you receive no ids.",
    );
  });

  it('does not claim a comparison when the hosts kept their scores', () => {
    const kept = withAucs(0.65, 0.66, { validationScoresShared: false });
    expect(headline(kept)).toContain('measures your part of the federated model only');
    expect(resultTone(kept)).toBe('warn');
  });
});
