/**
 * `tandem console` for a party node, end to end: a real federation (real
 * mTLS and CKKS), the brand's console run as its own process, and Debian's
 * Chromium signing in with the printed link, checking the dataset, submitting
 * a job from the form, watching its progress arrive as server-sent events,
 * reading the report inside the console, listing the exported model and a
 * running scoring endpoint with its metrics, and
 * verifying the three nodes' audit logs from the auditor's page.
 *
 * Screenshots of each page go to $TANDEM_CONSOLE_SCREENSHOTS when it is set
 * (docs/console/ for the README), else to the test's directory.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cp, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { exampleParties, partyConfigFile, startFederation, type Federation } from '../support/federation.ts';
import { consoleRequest, startConsoleProcess, type ConsoleProcess } from '../support/console.ts';
import { openConsoleBrowser, type ConsoleBrowser } from '../support/browser.ts';
import { runModelExport } from '../../cli/commands/model.ts';
import { MESSAGE_CATALOG } from '../../jobs/catalog.ts';
import { startConsole, type ConsoleServer } from '../../console/server.ts';
import { silentLogger } from '../../runtime/logger.ts';
import { startServing } from '../../serving/serve.ts';
import { bearerToken } from '../support/serving.ts';

const SHOT_LIMIT_BYTES = 200 * 1024;

describe('tandem console at a party node', () => {
  let fed: Federation;
  let consoleProcess: ConsoleProcess;
  let browser: ConsoleBrowser;
  let shots: string;
  let jobId = '';
  let origin: string;

  const shot = async (name: string): Promise<void> => {
    const size = await browser.screenshot(join(shots, `${name}.png`));
    expect(size, name).toBeLessThan(SHOT_LIMIT_BYTES);
  };
  const text = (selector: string): Promise<string> => browser.page.locator(selector).innerText();

  beforeAll(async () => {
    fed = await startFederation({ parties: exampleParties('breast'), coordinator: { admins: ['admin', 'brand'] } });
    shots = process.env['TANDEM_CONSOLE_SCREENSHOTS'] ?? join(fed.dir, 'screenshots');
    await mkdir(shots, { recursive: true });
    const audit = ['coordinator', 'brand', 'partner'].map((n) => join(fed.dir, n, 'audit'));
    consoleProcess = await startConsoleProcess(['--config', partyConfigFile(fed, 'brand'), '--audit-logs', ...audit]);
    origin = new URL(consoleProcess.link).origin;
    browser = await openConsoleBrowser({ caFile: fed.certs('brand').ca, hosts: ['brand'] });
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await consoleProcess?.stop();
    await fed?.close();
  });

  it("prints a login link for the node by name, and signs in with it over TLS with the node's certificate", async () => {
    expect(consoleProcess.link).toMatch(/^https:\/\/brand:\d+\/login\?token=[\w-]{43}$/);
    expect(consoleProcess.stdout()).toContain('Tandem console for brand (party node)');
    const response = await browser.page.goto(consoleProcess.link);
    expect(response?.status()).toBe(200);
    expect(browser.page.url()).toBe(`${origin}/`); // the token is gone from the address bar
    expect(await response?.securityDetails()).toMatchObject({
      subjectName: 'brand',
      issuer: expect.stringMatching(/^Tandem dev CA/) as unknown,
    });
    await browser.page.waitForSelector('#nav a[data-page="jobs"]');
    expect(await text('#who')).toBe('brand · party node');
    // The link worked once: another browser (here, a plain client) cannot use it again.
    const again = await consoleRequest(
      consoleProcess.port,
      'brand',
      fed.certs('brand').ca,
      new URL(consoleProcess.link).pathname + new URL(consoleProcess.link).search,
    );
    expect(again.status).toBe(401);
    // SIGHUP prints a fresh link, which works once too.
    consoleProcess.child.kill('SIGHUP');
    await expect
      .poll(() => /New login link: (\S+)/.exec(consoleProcess.stdout())?.[1], { timeout: 10_000 })
      .toMatch(/^https:\/\/brand:\d+\/login\?token=/);
    const fresh = new URL(/New login link: (\S+)/.exec(consoleProcess.stdout())?.[1] ?? '');
    expect(fresh.search).not.toBe(new URL(consoleProcess.link).search);
    const ok = await consoleRequest(consoleProcess.port, 'brand', fed.certs('brand').ca, fresh.pathname + fresh.search);
    expect(ok.status).toBe(303);
  });

  it('loads the dataset as a job would and shows its schema', async () => {
    await browser.page.goto(`${origin}/#/datasets`);
    await browser.page.click('a.card[data-dataset="d"]');
    await browser.page.waitForSelector('#schema table');
    expect(await browser.page.getAttribute('.banner.ok', 'data-rows')).toBe('569');
    const rows = await browser.page.locator('#schema tbody tr').allInnerTexts();
    expect(rows).toHaveLength(12); // id, y and 10 features
    expect(rows[2]).toMatch(/^x0\tfeature\tnumeric\t0\t—/);
    await shot('datasets');
  });

  it('submits a job from the form, after the form shows a spec error with its field and fix', async () => {
    await browser.page.goto(`${origin}/#/submit`);
    await browser.page.waitForSelector('#spec-form');
    await browser.page.fill('input[name="name"]', 'console-lr');
    await browser.page.fill('input[name="partnerDataset"]', 'd');
    await browser.page.fill('input[name="maxEpochs"]', '6');
    await browser.page.click('#check');
    await browser.page.waitForSelector('#spec-ok');
    expect(await text('#spec-ok')).toContain('brand as guest with "d", partner as host with "d"');
    await shot('submit');

    const good = await browser.page.inputValue('textarea.yaml');
    await browser.page.fill('textarea.yaml', good.replace('training: { maxEpochs: 6 }', 'training: { maxEpochs: 0 }'));
    await browser.page.click('#check');
    await browser.page.waitForSelector('#result .banner.bad');
    expect(await browser.page.getAttribute('#result .banner.bad', 'data-code')).toBe('JOB_SPEC_INVALID');
    expect(await text('#result')).toMatch(/training\.maxEpochs: must be at least 1.*Fix:/s);

    await browser.page.fill(
      'textarea.yaml',
      good.replace('training: { maxEpochs: 6 }', 'training: { maxEpochs: 6, tolerance: 0 }'),
    );
    await browser.page.click('#submit');
    await browser.page.waitForURL(/#\/jobs\/job-[0-9a-f]{10}$/);
    jobId = /job-[0-9a-f]{10}/.exec(browser.page.url())?.[0] ?? '';
    expect(jobId).not.toBe('');
  });

  it("shows the job's progress move as the coordinator pushes it, over one event stream and no polling", async () => {
    const before = browser.requests.length;
    const seen: { phase: string; epoch: number; of: number; events: number }[] = [];
    const deadline = Date.now() + 180_000;
    let stage = '';
    let shotTaken = false;
    while (Date.now() < deadline) {
      const p = await browser.page
        .locator('#progress')
        .evaluate((el) => ({ ...(el as unknown as { dataset: Record<string, string> }).dataset }));
      stage = p['stage'] ?? '';
      const state = {
        phase: p['phase'] ?? '',
        epoch: Number(p['epoch']),
        of: Number(p['maxEpochs']),
        events: Number(p['events']),
      };
      if (seen.at(-1)?.phase !== state.phase || seen.at(-1)?.epoch !== state.epoch) seen.push(state);
      if (!shotTaken && state.phase === 'training' && state.of === 6 && state.epoch >= 3) {
        await shot('job-progress');
        shotTaken = true;
      }
      if (stage !== 'running') break;
      await browser.page.waitForTimeout(100);
    }
    expect(stage).toBe('completed');
    // Training epochs out of the job's 6 (the coordinator counts PSI in steps out of 2 before that).
    const epochs = seen.filter((s) => s.phase === 'training' && s.of === 6).map((s) => s.epoch);
    expect(new Set(epochs).size, JSON.stringify(seen)).toBeGreaterThanOrEqual(3);
    expect(epochs, JSON.stringify(seen)).toEqual([...epochs].sort((a, b) => a - b));
    expect(seen.map((s) => s.phase)).toEqual(expect.arrayContaining(['training']));
    expect(seen.at(-1)?.events).toBeGreaterThan(5);
    // One event stream; the job itself is read twice (when the page opened and when the stream said it ended), never polled.
    const paths = browser.requests.map((u) => new URL(u).pathname);
    expect(paths.filter((p) => p === `/api/jobs/${jobId}/events`)).toHaveLength(1);
    expect(paths.filter((p) => p === `/api/jobs/${jobId}`)).toHaveLength(2);
    expect(paths.slice(before).filter((p) => p.startsWith('/api/') && !p.startsWith(`/api/jobs/${jobId}`))).toEqual([]);
  }, 240_000);

  it("shows the job's report inside the console", async () => {
    const frame = browser.page.frameLocator('iframe.report');
    await frame.locator('h1').waitFor();
    const body = await frame.locator('body').innerText();
    const admin = await fed.admin();
    const summary = JSON.parse((await admin.get(jobId)).summaryJson) as { brand: { metrics: { auc: number } } };
    admin.close();
    expect(body).toContain(summary.brand.metrics.auc.toFixed(3));
    expect(body).toContain('console-lr');
    expect(await browser.page.locator('#progress').getAttribute('data-stage')).toBe('completed');
    await browser.page.locator('#report').scrollIntoViewIfNeeded();
    await shot('job-report');
  });

  it('lists the exported model, verified, and a tampered copy as refused', async () => {
    const exported = await runModelExport({ config: partyConfigFile(fed, 'brand'), job: jobId });
    const tampered = join(fed.dir, 'brand', 'tampered');
    await cp(exported.dir, tampered, { recursive: true });
    const scoring = join(tampered, 'scoring.json');
    await writeFile(scoring, (await readFile(scoring, 'utf8')).replace(/"rowClip":/, '"rowClip" :'));
    await browser.page.goto(`${origin}/#/models`);
    await browser.page.waitForSelector('tr[data-model]');
    expect(await browser.page.getAttribute(`tr[data-model="jobs/${jobId}/export"]`, 'data-verified')).toBe('true');
    expect(await browser.page.getAttribute('tr[data-model="tampered"]', 'data-verified')).toBe('false');
    expect(await text('tr[data-model="tampered"]')).toMatch(/CONFIG_INVALID[\s\S]*changed after export/);
    expect(await text('main')).toContain('No scoring endpoint of this node is running');
    // A running endpoint of the exported model, and one request it refused: the console finds it and reads its metrics.
    const serving = await startServing({ modelDir: exported.dir, configFile: partyConfigFile(fed, 'brand'), port: 0 });
    try {
      const token = await bearerToken(serving.tokens?.file ?? '');
      const refused = await fetch(`http://127.0.0.1:${serving.port}/v1/score`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}` },
        body: '{"features":{"no such column":1}}',
      });
      expect(refused.status).toBe(400);
      await browser.page.reload();
      const row = `tr[data-endpoint="${process.pid}-${serving.port}"]`;
      await browser.page.waitForSelector(row);
      expect(await browser.page.getAttribute(row, 'data-role')).toBe('guest');
      expect(await text(row)).toMatch(new RegExp(`public 127\\.0\\.0\\.1:${serving.port} \\(token\\)[\\s\\S]*score 1`));
      expect(await text(`${row} .chip.bad`)).toBe('1');
      await shot('models');
    } finally {
      await serving.close();
    }
    await browser.page.reload();
    await browser.page.waitForSelector('tr[data-model]');
    expect(await text('main')).toContain('No scoring endpoint of this node is running');
  });

  it("verifies the three nodes' audit logs from the auditor's page, and browses records by step with their meaning", async () => {
    await browser.page.goto(`${origin}/#/audit`);
    await browser.page.click(`tr[data-job="${jobId}"] a`);
    await browser.page.waitForSelector('tr[data-step]');
    const step = 'psi-guest-set';
    expect(await text(`tr[data-step="${step}"] .meaning`)).toBe(MESSAGE_CATALOG.get(step)?.meaning);
    await browser.page.click('#verify');
    await browser.page.waitForSelector('#verdict');
    expect(await browser.page.getAttribute('#verdict', 'data-ok')).toBe('true');
    expect(await browser.page.getAttribute('tr[data-party="brand"]', 'data-clean')).toBe('true');
    expect(await browser.page.getAttribute('tr[data-party="partner"]', 'data-clean')).toBe('true');
    expect(await text('#epsilon')).toMatch(/not enabled/);
    await browser.page.evaluate('window.scrollTo(0, 0)');
    await shot('audit');
    await browser.page.click(`tr[data-step="${step}"]`);
    await browser.page.waitForSelector('#records tr[data-seq]');
    const nodes = await browser.page
      .locator('#records tr[data-seq]')
      .evaluateAll((rows) => rows.map((r) => (r as unknown as { dataset: { node: string } }).dataset.node));
    expect(new Set(nodes)).toEqual(new Set(['brand', 'coordinator', 'partner'])); // sent by the guest, relayed, received by the host
  });

  it('tells a node that is not an admin why it cannot submit', async () => {
    let partner: ConsoleServer | undefined;
    try {
      partner = await startConsole({ config: partyConfigFile(fed, 'partner'), log: silentLogger() });
      const r = await consoleRequest(
        partner.port,
        'partner',
        fed.certs('partner').ca,
        '/api/submit',
        fed.certs('partner'),
      );
      expect(r.json).toMatchObject({
        allowed: false,
        reason: expect.stringMatching(/^partner is not an admin at coordinator/) as unknown,
      });
    } finally {
      await partner?.close();
    }
  });

  it("logged nothing the page's policy refused, and asked nothing of anyone but the console", () => {
    expect(browser.messages.filter((m) => /Content Security Policy|Refused/.test(m))).toEqual([]);
    expect(browser.requests.filter((u) => new URL(u).origin !== origin)).toEqual([]);
  });
});
