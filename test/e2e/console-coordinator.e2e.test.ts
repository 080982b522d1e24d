/**
 * `tandem console` at the coordinator (the platform partner), end to end: a
 * real federation with a registered party that never connects, a job that
 * completes and one that fails at a host, the console run as its own process
 * with the coordinator's config, and Debian's Chromium reading the parties,
 * the jobs and the failure (failing node and error code), then seeing a
 * party's disconnection arrive without reloading the page.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import {
  exampleParties,
  lrSpec,
  runJob,
  startFederation,
  type Federation,
  type JobResult,
} from '../support/federation.ts';
import { startConsoleProcess, type ConsoleProcess } from '../support/console.ts';
import { openConsoleBrowser, type ConsoleBrowser } from '../support/browser.ts';
import { ERROR_CATALOG } from '../../protocol/errors.ts';
import { AdminClient } from '../../runtime/admin-client.ts';

describe('tandem console at the coordinator', () => {
  let fed: Federation;
  let consoleProcess: ConsoleProcess;
  let browser: ConsoleBrowser;
  let shots: string;
  let completed: JobResult;
  let failed: JobResult;

  const connected = (party: string): Promise<string | null> =>
    browser.page.getAttribute(`tr[data-party="${party}"][data-connected]`, 'data-connected');

  beforeAll(async () => {
    fed = await startFederation({
      parties: exampleParties('breast'),
      idle: ['ghost'],
      coordinator: { portFile: 'coordinator.port' },
    });
    shots = process.env['TANDEM_CONSOLE_SCREENSHOTS'] ?? join(fed.dir, 'screenshots');
    await mkdir(shots, { recursive: true });
    completed = await runJob(fed, {
      name: 'overlap',
      kind: 'reach',
      parties: [
        { name: 'brand', role: 'guest', dataset: 'd' },
        { name: 'partner', role: 'host', dataset: 'd' },
      ],
    });
    failed = await runJob(
      fed,
      lrSpec({
        name: 'wrong-dataset',
        parties: [
          { name: 'brand', role: 'guest', dataset: 'd' },
          { name: 'partner', role: 'host', dataset: 'nope' },
        ],
      }),
      'wrong.yaml',
    );
    consoleProcess = await startConsoleProcess([
      '--config',
      join(fed.dir, 'coordinator.yaml'),
      '--audit-logs',
      join(fed.dir, 'coordinator', 'audit'),
    ]);
    browser = await openConsoleBrowser({ caFile: fed.certs('coordinator').ca, hosts: ['coordinator'] });
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await consoleProcess?.stop();
    await fed?.close();
  });

  it('records a failure with the failing node and the error code', () => {
    expect(completed.stage).toBe('completed');
    expect(failed.stage).toBe('failed');
    expect(failed.message).toMatch(/^partner failed at setup: .*nope.* \(error [A-Z_]+\)$/);
  });

  it("tells a party's or an admin's certificate only who it is, not the parties or the jobs", async () => {
    for (const [name, isAdmin] of [
      ['brand', false],
      ['admin', true],
    ] as const) {
      const client = await AdminClient.connect({ coordinator: fed.address, ...fed.certs(name) });
      try {
        const view = await client.describeFederation();
        expect(view).toMatchObject({
          coordinator: 'coordinator',
          caller: name,
          callerIsAdmin: isAdmin,
          full: false,
          parties: [],
          jobs: [],
          failures: [],
        });
      } finally {
        client.close();
      }
    }
  });

  it('shows the registered parties and whether each is connected, the jobs, and the failure', async () => {
    expect(consoleProcess.link).toMatch(/^https:\/\/coordinator:\d+\/login\?token=/);
    const response = await browser.page.goto(consoleProcess.link);
    expect(await response?.securityDetails()).toMatchObject({ subjectName: 'coordinator' });
    await browser.page.waitForSelector('tr[data-party="ghost"]');
    expect(await browser.page.locator('#nav a').allInnerTexts()).toEqual(['Federation', 'Audit']);
    expect(await connected('brand')).toBe('true');
    expect(await connected('partner')).toBe('true');
    expect(await connected('ghost')).toBe('false');

    const code = /\(error ([A-Z_]+)\)$/.exec(failed.message)?.[1] ?? '';
    expect(Object.keys(ERROR_CATALOG)).toContain(code);
    const failure = browser.page.locator(`tr[data-failure="${failed.jobId}"]`);
    expect(await failure.getAttribute('data-party')).toBe('partner');
    expect(await failure.getAttribute('data-code')).toBe(code);
    expect(await failure.innerText()).toMatch(/partner\tsetup\t[A-Z_]+\t.*nope/);
    expect(await browser.page.getAttribute(`tr[data-job="${completed.jobId}"]`, 'data-stage')).toBe('completed');
    expect(await browser.page.getAttribute(`tr[data-job="${failed.jobId}"]`, 'data-stage')).toBe('failed');
    await browser.screenshot(join(shots, 'federation.png')).then((size) => expect(size).toBeLessThan(200 * 1024));
  });

  it('shows a party leaving as it happens, pushed over the one event stream', async () => {
    await fed.parties.get('partner')?.close();
    fed.parties.delete('partner');
    await browser.page.waitForSelector('tr[data-party="partner"][data-connected="false"]', { timeout: 20_000 });
    expect(await connected('brand')).toBe('true');
    const paths = browser.requests.map((u) => new URL(u).pathname);
    expect(paths.filter((p) => p === '/api/federation/events')).toHaveLength(1);
    expect(paths.filter((p) => p === '/api/federation')).toEqual([]);
  });

  it("lists the coordinator's audit log on the auditor's page", async () => {
    await browser.page.goto(`${new URL(consoleProcess.link).origin}/#/audit`);
    await browser.page.waitForSelector(`tr[data-job="${completed.jobId}"]`);
    expect(await browser.page.locator(`tr[data-job="${failed.jobId}"]`).count()).toBe(1);
  });
});
