/** `tandem coordinator start` and `tandem party start`: long-running nodes that stop cleanly on SIGINT/SIGTERM. */
import type { CommandModule } from 'yargs';
import { createLogger, logFormatOption, type LogFormat } from '../../runtime/logger.ts';
import { startCoordinator } from '../../coordinator/node.ts';
import { startPartyNode } from '../../party/node.ts';

type StartArgs = { config: string; 'log-level': string; 'log-format': LogFormat | undefined };

function untilSignal(close: () => Promise<void>): Promise<void> {
  return new Promise<void>((resolve) => {
    const stop = (): void => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      void close().finally(resolve);
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}

const startOptions = {
  config: { type: 'string', demandOption: true, describe: "the node's YAML config file" },
  'log-level': {
    type: 'string',
    default: 'info',
    choices: ['debug', 'info', 'warn', 'error'],
    describe: 'log verbosity',
  },
  'log-format': logFormatOption,
} as const;

export const coordinatorCommand: CommandModule<object, StartArgs> = {
  command: 'coordinator <action>',
  describe: 'Run the coordinator (job store, key holder, relay)',
  builder: (y) =>
    y
      .positional('action', { choices: ['start'] as const, describe: 'what to do' })
      .options(startOptions)
      .example('$0 coordinator start --config examples/default-credit/coordinator.yaml', 'start a coordinator'),
  handler: async (args) => {
    const log = createLogger({
      role: 'coordinator',
      node: 'coordinator',
      level: args['log-level'],
      format: args['log-format'],
    });
    const node = await startCoordinator(args.config, log);
    await untilSignal(() => node.close());
  },
};

export const partyCommand: CommandModule<object, StartArgs> = {
  command: 'party <action>',
  describe: 'Run a party node (dials out to the coordinator; opens no port)',
  builder: (y) =>
    y
      .positional('action', { choices: ['start'] as const, describe: 'what to do' })
      .options(startOptions)
      .example('$0 party start --config examples/default-credit/brand.yaml', "start the brand's party node"),
  handler: async (args) => {
    const log = createLogger({ role: 'party', level: args['log-level'], format: args['log-format'] });
    const node = await startPartyNode(args.config, { log });
    const fatal = node.stopped.then((error) => {
      throw error;
    });
    await Promise.race([untilSignal(() => node.close()), fatal]);
  },
};
