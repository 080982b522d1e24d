import { execFile, execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { defaultLogFormat } from './logger.ts';

const LOGGER = join(import.meta.dirname, 'logger.ts');

/** A child process that logs one event with an allowed and a forbidden field, then exits at once. */
const SCRIPT = (format: string | undefined): string => `
import { createLogger } from ${JSON.stringify(LOGGER)};
const log = createLogger({ role: 'party', node: 'brand'${format === undefined ? '' : `, format: ${JSON.stringify(format)}`} });
log.info({ job: 'job-1', rows: 3, id: 'customer-42' }, 'aligned');
process.exit(0);
`;

function stderrOf(format: string | undefined): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      ['--input-type=module', '-e', SCRIPT(format)],
      { env: { ...process.env, NO_COLOR: '1' } },
      (error, _stdout, stderr) =>
        error === null ? resolve(stderr) : reject(new Error(`the logging child failed: ${stderr}`, { cause: error })),
    );
  });
}

/** `script` (util-linux) runs a command on a pseudo-terminal, as a person's shell would. */
function hasScript(): boolean {
  try {
    execFileSync('script', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

describe('createLogger', () => {
  it('writes one JSON object per line when stderr is not a terminal, with only allow-listed fields', async () => {
    const stderr = await stderrOf(undefined);

    const lines = stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0] ?? '')).toMatchObject({
      level: 30,
      role: 'party',
      node: 'brand',
      job: 'job-1',
      rows: 3,
      msg: 'aligned',
    });
    expect(stderr).not.toContain('customer-42');
  });

  it('writes a line for people with format pretty, still dropping fields not on the list, and loses nothing at an immediate exit', async () => {
    const stderr = await stderrOf('pretty');

    expect(stderr).toMatch(/^\[\d\d:\d\d:\d\d\.\d{3}\] INFO: aligned \{"node":"brand","job":"job-1","rows":3\}\n$/);
    expect(stderr).not.toContain('customer-42');
  });

  it('writes JSON when asked, whatever stderr is', async () => {
    expect(JSON.parse(await stderrOf('json'))).toMatchObject({ msg: 'aligned' });
  });

  it('defaults to pretty on a terminal and JSON elsewhere', () => {
    expect([defaultLogFormat({ isTTY: true }), defaultLogFormat({ isTTY: false }), defaultLogFormat({})]).toEqual([
      'pretty',
      'json',
      'json',
    ]);
  });

  it.skipIf(!hasScript())(
    'is pretty on a real terminal (a pseudo-terminal from `script`) and JSON there with --log-format json',
    () => {
      const run = (format: string | undefined): string => {
        const command = `${process.execPath} --input-type=module -e ${shellQuote(SCRIPT(format))}`;
        return execFileSync('script', ['-qec', command, '/dev/null'], {
          encoding: 'utf8',
          env: { ...process.env, NO_COLOR: '1' },
        });
      };

      expect(run(undefined)).toMatch(/INFO: aligned \{"node":"brand","job":"job-1","rows":3\}/);
      expect(JSON.parse(run('json').trim())).toMatchObject({ msg: 'aligned', node: 'brand' });
    },
  );
});

function shellQuote(text: string): string {
  return `'${text.replaceAll("'", "'\\''")}'`;
}
