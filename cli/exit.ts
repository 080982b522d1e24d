import { TandemError } from '../protocol/errors.ts';

/**
 * Prints a failure for a person at a terminal and returns the exit code.
 * Catalogued errors print their message (which names the file, field and fix);
 * anything else is a bug, so it prints the stack to help the report.
 */
export function reportFailure(error: unknown): number {
  if (error instanceof TandemError) {
    process.stderr.write(`tandem: error ${error.code}: ${error.message}\n`);
    return error.exitCode;
  }
  if (error instanceof Error && error.constructor.name === 'UsageError') {
    process.stderr.write(`tandem: ${error.message}\nRun \`tandem --help\` for usage.\n`);
    return 64;
  }
  const text = error instanceof Error ? (error.stack ?? error.message) : String(error);
  process.stderr.write(`tandem: unexpected internal error (please report it):\n${text}\n`);
  return 70;
}
