/**
 * `tandem job report` end to end: a real job on breast, the report written
 * at the guest by the command run as its own process, and the page opened in
 * headless Chromium (Debian's `chromium`, driven by playwright-core) with
 * every request but the report file itself refused and recorded.
 *
 * The command is run through a small yargs CLI that mounts the command
 * module under `job`, exactly as `tandem job report` parses it, so this test
 * does not depend on the command's registration in cli/commands/job.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { parse, stringify } from 'yaml';
import {
  exampleParties,
  lrSpec,
  partyConfigFile,
  runJob,
  startFederation,
  type Federation,
} from '../support/federation.ts';
import { guestSplitSeed, pooledReference } from '../../examples/pooled-reference.ts';
import type { JobReport } from '../../report/job-report.ts';

const ROOT = join(import.meta.dirname, '..', '..');
/** Debian's package (`apt-get install chromium`); .ci/run installs it. */
const CHROMIUM = '/usr/bin/chromium';

const CLI_SOURCE = `
import yargs from '${pathToFileURL(join(ROOT, 'node_modules/yargs/index.mjs')).href}';
import { jobReportCommand } from '${pathToFileURL(join(ROOT, 'cli/commands/report.ts')).href}';
import { reportFailure } from '${pathToFileURL(join(ROOT, 'cli/exit.ts')).href}';
try {
  await yargs(process.argv.slice(2)).strict()
    .command({ command: 'job <command>', builder: (y) => y.command(jobReportCommand).demandCommand(1), handler: () => undefined })
    .demandCommand(1).fail((message, error) => { throw error ?? new Error(message); }).parseAsync();
} catch (error) {
  process.exitCode = reportFailure(error);
}
`;

type Run = { code: number | null; stdout: string; stderr: string };

/** Runs the CLI without blocking: the coordinator it asks lives in this process. */
function cli(file: string, args: readonly string[]): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--disable-warning=ExperimentalWarning', file, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

type ChartInfo = {
  id: string;
  width: number;
  height: number;
  paths: { series: string; length: number; vertices: number; dashed: boolean }[];
  bars: number[];
};

/** What the browser drew, measured in the page (a string, so this file needs no DOM types). */
const MEASURE_CHARTS = `[...document.querySelectorAll('svg.chart')].map((svg) => ({
  id: svg.dataset.chart,
  width: svg.getBoundingClientRect().width,
  height: svg.getBoundingClientRect().height,
  paths: [...svg.querySelectorAll('path[data-series]')].map((p) => ({ series: p.dataset.series, length: p.getTotalLength(), vertices: (p.getAttribute('d').match(/[ML]/g) || []).length, dashed: p.hasAttribute('stroke-dasharray') })),
  bars: [...svg.querySelectorAll('rect[data-value]')].map((r) => r.getBoundingClientRect().width),
}))`;

/** Opens a file with every other request refused; returns what the page asked for and what it logged. */
async function open(
  browser: Browser,
  file: string,
): Promise<{ page: Page; requests: string[]; blocked: string[]; console: string[] }> {
  const url = pathToFileURL(file).href;
  const page = await browser.newPage();
  const requests: string[] = [];
  const blocked: string[] = [];
  const console: string[] = [];
  page.on('request', (r) => requests.push(r.url()));
  page.on('console', (m) => console.push(`${m.type()}: ${m.text()}`));
  await page.route('**/*', async (route) => {
    if (route.request().url() === url) return route.continue();
    blocked.push(route.request().url());
    return route.abort('blockedbyclient');
  });
  await page.goto(url, { waitUntil: 'load' });
  return { page, requests, blocked, console };
}

describe('tandem job report', () => {
  let fed: Federation;
  let browser: Browser;
  let cliFile: string;
  let jobId: string;
  let brand: string;
  let guestSummary: {
    rows: { aligned: number; train: number; validation: number };
    metrics: { auc: number; recallAtK: { value: number }[] };
    guestOnly: { metrics: { auc: number } };
  };
  let centralisedAuc: number;
  let out: string;
  let report: JobReport;
  let stdout: string;

  beforeAll(async () => {
    if (!existsSync(CHROMIUM))
      throw new Error(
        `${CHROMIUM} is missing: install Debian's chromium (apt-get install -y chromium); .ci/run does this when it runs as root`,
      );
    browser = await chromium.launch({ executablePath: CHROMIUM });
    fed = await startFederation({ parties: exampleParties('breast') });
    cliFile = await fed.write('report-cli.mjs', CLI_SOURCE);
    const spec = lrSpec({ training: { maxEpochs: 5 } });
    const result = await runJob(fed, spec);
    expect(result.stage, result.message).toBe('completed');
    jobId = result.jobId;
    brand = partyConfigFile(fed, 'brand');
    guestSummary = result.summaries['brand'] as typeof guestSummary;
    // The centralised reference: exact LR on the pooled data, which only a test may compute.
    const files = new Map([
      ['brand', brand],
      ['partner', partyConfigFile(fed, 'partner')],
    ]);
    centralisedAuc = (
      await pooledReference(await fed.write('reference.yaml', spec), files, await guestSplitSeed(brand, jobId))
    ).newtonAuc;

    out = join(fed.dir, 'reports');
    const run = await cli(cliFile, [
      'job',
      'report',
      jobId,
      '--config',
      brand,
      '--out',
      out,
      '--centralised-auc',
      String(centralisedAuc),
    ]);
    expect(run.code, run.stderr).toBe(0);
    stdout = run.stdout;
    report = JSON.parse(await readFile(join(out, `${jobId}.report.json`), 'utf8')) as JobReport;
  }, 240_000);

  afterAll(async () => {
    await browser?.close();
    await fed?.close();
  });

  it('writes the HTML and the JSON, and prints their paths and the headline', () => {
    expect(existsSync(join(out, `${jobId}.report.html`))).toBe(true);
    expect(stdout).toContain(`${jobId}.report.html`);
    expect(stdout).toContain(`${jobId}.report.json`);
    expect(stdout).toMatch(/AUC/);
  });

  it("reports the job as the guest saw it, with the coordinator's view and the given centralised AUC", () => {
    expect(report.format).toBe('tandem-job-report/1');
    expect(report.job).toMatchObject({ id: jobId, name: 'test-lr', guest: 'brand' });
    expect(report.data).toMatchObject(guestSummary.rows);
    expect(report.federated?.auc).toBe(guestSummary.metrics.auc);
    expect(report.guestOnly?.auc).toBe(guestSummary.guestOnly.metrics.auc);
    expect(report.centralised).toEqual({ auc: centralisedAuc, accuracy: null });
    expect(report.training.losses).toHaveLength(report.training.epochs ?? -1);
    // From the coordinator: the stage, the epoch limit and the host's feature count (breast: 10 + 20 columns).
    expect(report.coordinator).toMatchObject({ reached: true, stage: 'completed', maxEpochs: 5 });
    expect(report.parties).toEqual([
      { name: 'brand', role: 'guest', dataset: 'd', features: 10 },
      { name: 'partner', role: 'host', dataset: 'd', features: 20 },
    ]);
    expect(JSON.stringify(report)).not.toContain('thresholds');
  });

  it('renders in Chromium: every chart drawn with real paths, the key numbers shown, no request but the file', async () => {
    const file = join(out, `${jobId}.report.html`);
    const { page, requests, blocked, console } = await open(browser, file);
    try {
      expect(requests).toEqual([pathToFileURL(file).href]);
      expect(blocked).toEqual([]);
      expect(console.filter((line) => line.startsWith('error'))).toEqual([]);

      const charts = await page.evaluate<ChartInfo[]>(MEASURE_CHARTS);
      expect(charts.map((c) => c.id)).toEqual(['auc', 'roc', 'gain', 'lift', 'loss']);
      for (const c of charts) {
        expect(c.width, c.id).toBeGreaterThan(300);
        expect(c.height, c.id).toBeGreaterThan(100);
      }
      // The curves: one solid path each, long and with many vertices (113 validation rows).
      for (const id of ['roc', 'gain', 'lift']) {
        const solid = charts.find((c) => c.id === id)?.paths.filter((p) => !p.dashed) ?? [];
        expect(solid, id).toHaveLength(1);
        expect(solid[0]?.vertices, id).toBeGreaterThan(20);
        expect(solid[0]?.length, id).toBeGreaterThan(400);
      }
      const loss = charts.find((c) => c.id === 'loss')?.paths[0];
      expect(loss?.vertices).toBe(report.training.epochs);
      expect(loss?.length).toBeGreaterThan(200);
      // Three AUC bars, each visibly long (all three models are far above 0.5 on breast).
      const bars = charts.find((c) => c.id === 'auc')?.bars ?? [];
      expect(bars).toHaveLength(3);
      for (const w of bars) expect(w).toBeGreaterThan(100);

      // The stylesheet applied: the CSP's hash matches it.
      expect(await page.evaluate<string>('getComputedStyle(document.body).maxWidth')).toBe('992px');

      const text = await page.evaluate<string>('document.body.innerText');
      for (const n of [guestSummary.metrics.auc, guestSummary.guestOnly.metrics.auc, centralisedAuc])
        expect(text).toContain(n.toFixed(3));
      for (const n of [guestSummary.rows.aligned, guestSummary.rows.train, guestSummary.rows.validation])
        expect(text).toContain(String(n));
      expect(text).toContain(`${(100 * (guestSummary.metrics.recallAtK[3]?.value ?? Number.NaN)).toFixed(1)}%`);
      expect(text).toContain('all data pooled (reference)');
      expect(text).toContain('Differential privacy: not enabled');
      expect(text).toContain(`tandem audit report --job ${jobId}`);
    } finally {
      await page.close();
    }
  });

  it('the network check works: a planted image is blocked by the CSP, and seen by the check once the CSP is removed', async () => {
    const html = await readFile(join(out, `${jobId}.report.html`), 'utf8');
    const planted = html.replace(/<body[^>]*>/, (body) => `${body}<img src="http://127.0.0.1:9/pixel.png" alt="">`);
    const withCsp = join(fed.dir, 'planted-with-csp.html');
    const withoutCsp = join(fed.dir, 'planted-without-csp.html');
    await writeFile(withCsp, planted);
    await writeFile(withoutCsp, planted.replace(/<meta http-equiv="Content-Security-Policy"[^>]*>/, ''));

    const guarded = await open(browser, withCsp);
    expect(guarded.blocked).toEqual([]);
    expect(guarded.console.join('\n')).toMatch(/Content Security Policy/);
    await guarded.page.close();

    const bare = await open(browser, withoutCsp);
    expect(bare.blocked).toEqual(['http://127.0.0.1:9/pixel.png']);
    await bare.page.close();
  });

  it('works without the coordinator: --offline, and an unreachable one', async () => {
    const offline = await cli(cliFile, [
      'job',
      'report',
      jobId,
      '--config',
      brand,
      '--out',
      join(fed.dir, 'offline'),
      '--offline',
      '--json',
    ]);
    expect(offline.code, offline.stderr).toBe(0);
    const o = JSON.parse(offline.stdout) as { html: string; report: JobReport };
    expect(o.report.coordinator).toEqual({ reached: false, reason: 'not asked (--offline)' });
    expect(o.report.federated?.auc).toBe(guestSummary.metrics.auc);
    expect(existsSync(o.html)).toBe(true);

    const config = parse(await readFile(brand, 'utf8')) as { node: Record<string, unknown> };
    const away = await fed.write(
      'brand-away.yaml',
      stringify({ ...config, node: { ...config.node, coordinator: '127.0.0.1:1' } }),
    );
    await mkdir(join(fed.dir, 'away'), { recursive: true });
    const unreachable = await cli(cliFile, [
      'job',
      'report',
      jobId,
      '--config',
      away,
      '--out',
      join(fed.dir, 'away'),
      '--coordinator-timeout',
      '3000',
    ]);
    expect(unreachable.code, unreachable.stderr).toBe(0);
    expect(unreachable.stderr).toContain('the coordinator did not answer');
    const written = JSON.parse(await readFile(join(fed.dir, 'away', `${jobId}.report.json`), 'utf8')) as JobReport;
    expect(written.coordinator.reached).toBe(false);
  });

  it('refuses at a host and for an unknown job, naming the fix', async () => {
    const host = await cli(cliFile, ['job', 'report', jobId, '--config', partyConfigFile(fed, 'partner'), '--offline']);
    expect(host.code).toBe(64);
    expect(host.stderr).toContain("run this command with brand's node config");
    const unknown = await cli(cliFile, ['job', 'report', 'job-0000000000', '--config', brand]);
    expect(unknown.code).toBe(66);
    expect(unknown.stderr).toContain('JOB_NOT_FOUND');
  });
});
