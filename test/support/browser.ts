/**
 * Debian's Chromium for console tests, driven by playwright-core: headless,
 * a fresh profile, no background traffic, the node's name resolved to
 * loopback (as an /etc/hosts line would), and certificate errors ignored
 * only for certificates issued by the given federation CA (its public key
 * pinned), so the page is still served over real TLS with the node's own
 * certificate. Every request the page makes is recorded.
 */
import { createHash, X509Certificate } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

/** Debian's package (`apt-get install chromium`); .ci/run installs it. */
export const CHROMIUM = '/usr/bin/chromium';

export type ConsoleBrowser = {
  readonly context: BrowserContext;
  readonly page: Page;
  /** Every URL the pages requested, in order. */
  readonly requests: string[];
  /** Console messages of the pages (`type: text`). */
  readonly messages: string[];
  /** Saves a PNG of the page and returns its size in bytes. */
  screenshot(file: string): Promise<number>;
  close(): Promise<void>;
};

/** SHA-256 of a certificate's SubjectPublicKeyInfo, base64: what Chromium's SPKI allow-list takes. */
export function spkiHash(certPem: string): string {
  const der = new X509Certificate(certPem).publicKey.export({ type: 'spki', format: 'der' });
  return createHash('sha256').update(der).digest('base64');
}

export async function openConsoleBrowser(options: {
  readonly caFile: string;
  readonly hosts: readonly string[];
}): Promise<ConsoleBrowser> {
  if (!existsSync(CHROMIUM))
    throw new Error(`${CHROMIUM} is missing: install Debian's chromium (apt-get install -y chromium)`);
  const profile = await mkdtemp(join(tmpdir(), 'tandem-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1180, height: 760 },
    deviceScaleFactor: 1,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      `--host-resolver-rules=${options.hosts.map((h) => `MAP ${h} 127.0.0.1`).join(', ')}, EXCLUDE localhost`,
      `--ignore-certificate-errors-spki-list=${spkiHash(await readFile(options.caFile, 'utf8'))}`,
    ],
  });
  const requests: string[] = [];
  const messages: string[] = [];
  context.on('request', (r) => requests.push(r.url()));
  context.on('console', (m) => messages.push(`${m.type()}: ${m.text()}`));
  const page = context.pages()[0] ?? (await context.newPage());
  return {
    context,
    page,
    requests,
    messages,
    screenshot: async (file) => {
      await page.screenshot({ path: file, fullPage: false });
      return (await stat(file)).size;
    },
    close: async () => {
      await context.close();
      await rm(profile, { recursive: true, force: true });
    },
  };
}
