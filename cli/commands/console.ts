/**
 * `tandem console`: a web console next to a party node or the coordinator,
 * in its own process. It prints a one-time login link (a fresh one on
 * SIGHUP) and serves HTTPS with the node's certificate until SIGINT/SIGTERM.
 * What it shows and who may open it: docs/console.md.
 */
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import type { CommandModule } from 'yargs';
import { createLogger } from '../../runtime/logger.ts';
import { TandemError } from '../../protocol/errors.ts';
import { startConsole, type ConsoleServer } from '../../console/server.ts';

type ConsoleArgs = {
  config: string;
  listen: string;
  port: number;
  'audit-logs': string[];
  'audit-certs-dir': string | undefined;
  'client-cert': string[];
  coordinator: string | undefined;
  'url-host': string | undefined;
  'log-level': string;
};

const LOOPBACK = /^(127\.|::1$|localhost$)/;

/** A line to print when the link's host will not reach this console from this machine's browser. */
async function reachabilityNote(server: ConsoleServer, listen: string): Promise<string | undefined> {
  const host = new URL(server.origin).hostname;
  if (isIP(host) !== 0 || host === 'localhost') return undefined;
  const address = await lookup(host).then(
    (r) => r.address,
    () => undefined,
  );
  if (address === undefined) {
    return `note: "${host}" does not resolve on this machine, and the browser must reach the console by the name on its certificate. Add "${LOOPBACK.test(listen) ? '127.0.0.1' : listen} ${host}" to /etc/hosts (see docs/console.md).`;
  }
  if (LOOPBACK.test(listen) && !LOOPBACK.test(address))
    return `note: "${host}" resolves to ${address}, but the console listens on ${listen} only.`;
  return undefined;
}

export async function runConsole(args: ConsoleArgs): Promise<void> {
  if (!Number.isInteger(args.port) || args.port < 0 || args.port > 65535)
    throw new TandemError('ARGUMENT_INVALID', `--port must be a whole number from 0 to 65535, got ${args.port}`);
  const log = createLogger({ role: 'cli', level: args['log-level'] });
  const server = await startConsole({
    config: args.config,
    listen: args.listen,
    port: args.port,
    auditLogs: args['audit-logs'],
    auditCertsDir: args['audit-certs-dir'],
    clientCertNames: args['client-cert'].length > 0 ? args['client-cert'] : undefined,
    coordinatorAddress: args.coordinator,
    urlHost: args['url-host'],
    log,
  });
  const { node } = server;
  const out = (text: string): boolean => process.stdout.write(`${text}\n`);
  out(`Tandem console for ${node.name} (${node.kind === 'party' ? 'party node' : 'coordinator'}) at ${server.origin}`);
  out(`  TLS certificate: ${node.name}, from the federation CA (SHA-256 ${node.identity.fingerprintSha256})`);
  out(
    `  also open to client certificates of: ${(args['client-cert'].length > 0 ? args['client-cert'] : [node.name]).join(', ')}`,
  );
  if (args['audit-logs'].length > 0) out(`  audit logs: ${args['audit-logs'].join(', ')}`);
  const note = await reachabilityNote(server, args.listen);
  if (note !== undefined) out(note);
  if (!LOOPBACK.test(args.listen))
    out(
      `note: listening on ${args.listen}: other machines can reach the console (each still needs a login link or an allowed certificate).`,
    );
  out('');
  out('Open this link to sign in; it works once (kill -HUP this process for another):');
  out('');
  out(`    ${server.loginLink()}`);
  out('');
  await new Promise<void>((resolve) => {
    const hangUp = (): void => void out(`New login link: ${server.loginLink()}`);
    const stop = (): void => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      process.off('SIGHUP', hangUp);
      void server.close().finally(resolve);
    };
    process.on('SIGHUP', hangUp);
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}

export const consoleCommand: CommandModule<object, ConsoleArgs> = {
  command: 'console',
  describe:
    "Serve a web console next to a party node or the coordinator: datasets, jobs with live progress, reports, models, the job form; the federation's parties and failures; audit logs to verify",
  builder: (y) =>
    y
      .option('config', {
        type: 'string',
        demandOption: true,
        describe: "the party node's or the coordinator's YAML config (its certificate serves the console)",
      })
      .option('listen', {
        type: 'string',
        default: '127.0.0.1',
        describe: 'address to listen on (loopback: only this machine)',
      })
      .option('port', { type: 'number', default: 0, describe: 'port (0 picks a free one)' })
      .option('audit-logs', {
        type: 'string',
        array: true,
        default: [] as string[],
        describe: 'audit logs (files, or directories holding *.audit.jsonl) to verify and browse on the Audit page',
      })
      .option('audit-certs-dir', {
        type: 'string',
        describe: "directory with <node>.crt of each log's node [default: the directory of this node's certificate]",
      })
      .option('client-cert', {
        type: 'string',
        array: true,
        default: [] as string[],
        describe: "names whose federation certificate opens the console without a link [default: this node's own name]",
      })
      .option('coordinator', {
        type: 'string',
        describe:
          'with a coordinator config: the host:port to reach it at [default: its portFile, else its listen address]',
      })
      .option('url-host', {
        type: 'string',
        describe: "host name in the printed links; one the node's certificate names [default: the node's name]",
      })
      .option('log-level', {
        type: 'string',
        default: 'info',
        choices: ['debug', 'info', 'warn', 'error'],
        describe: 'log verbosity (stderr)',
      })
      .example('$0 console --config examples/default-credit/brand.yaml', "the brand's console (open the printed link)")
      .example(
        '$0 console --config coordinator.yaml --audit-logs .tandem/*/audit',
        "the platform partner's console, with the auditor's page",
      ),
  handler: (args) => runConsole(args),
};
