import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { commands } from './commands/index.ts';
import { reportFailure } from './exit.ts';

/** `tandem` — the one command-line entry point for every role. */
export async function main(argv: readonly string[]): Promise<void> {
  let cli = yargs(hideBin([...argv]))
    .scriptName('tandem')
    .usage('$0 <command> [options]\n\nFederated, privacy-preserving lookalike and cold-start modelling.')
    .strict()
    .demandCommand(1, 'Name a command; `tandem --help` lists them.')
    .recommendCommands()
    .wrap(Math.min(110, process.stdout.columns || 100))
    .epilogue('Each command has its own --help. Docs: README.md')
    .fail((message, error) => {
      if (error !== undefined && error !== null) throw error;
      throw new UsageError(message);
    });
  for (const command of commands) cli = cli.command(command);
  await cli.parseAsync();
}

/** A bad command line: exit code 64 (EX_USAGE). */
export class UsageError extends Error {}

// Everything a node writes (keys, models, messages, its job store's WAL) is for its own user only:
// files 0600, directories 0700, whatever umask the shell had. Library code also passes modes explicitly.
process.umask(0o077);

try {
  await main(process.argv);
} catch (error) {
  process.exitCode = reportFailure(error);
}
