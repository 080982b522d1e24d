/**
 * Stopping nodes (issue #19): a party node or coordinator given SIGTERM
 * while idle says so in its log and is gone within 2 s (a party used to
 * linger ~17 s with its gRPC call open, saying nothing).
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exampleParties } from '../support/federation.ts';
import { startProcessFederation, type ProcessFederation } from '../support/processes.ts';

async function until(what: string, check: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('stopping nodes', () => {
  let fed: ProcessFederation;
  beforeAll(async () => {
    fed = await startProcessFederation(exampleParties('breast'));
  });
  afterAll(async () => {
    await fed.close();
  });

  it(
    'stops an idle party node and the coordinator on SIGTERM within 2 s, each with a log line',
    { timeout: 60_000 },
    async () => {
      const log = (name: string): Promise<string> =>
        readFile(join(fed.dir, 'logs', `${name}.log`), 'utf8').catch(() => '');
      await until('the brand to connect', async () => (await log('brand')).includes('connected to the coordinator'));
      for (const name of ['brand', 'coordinator']) {
        const node = fed.nodes.get(name)!;
        const gone = node.exited();
        const sent = Date.now();
        node.child.kill('SIGTERM');
        await gone;
        expect(Date.now() - sent, `${name} took too long to stop`).toBeLessThan(2000);
        expect(await log(name)).toMatch(/stopped/);
      }
    },
  );
});
