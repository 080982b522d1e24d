/**
 * `tandem health --config <node.yaml>`: a container healthcheck. A
 * coordinator is healthy when its own port accepts a TLS connection; a
 * party (which opens no port) when it can reach its coordinator's.
 */
import { connect } from 'node:tls';
import type { CommandModule } from 'yargs';
import { readFile } from 'node:fs/promises';
import { parse } from 'yaml';
import { loadCoordinatorConfig } from '../../coordinator/config.ts';
import { loadPartyConfig } from '../../party/config.ts';
import { interpolateEnv } from '../../runtime/config-file.ts';
import { TandemError } from '../../protocol/errors.ts';

type HealthArgs = { config: string | undefined; url: string | undefined; timeout: number };

function reachable(host: string, port: number, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    // Only the TCP + TLS handshake start matters: no certificate is presented or checked.
    const socket = connect({ host, port, rejectUnauthorized: false, timeout: timeoutMs });
    const fail = (why: string): void => {
      socket.destroy();
      reject(new TandemError('PEER_UNAVAILABLE', `${host}:${port} is not reachable: ${why}`));
    };
    socket.once('secureConnect', () => {
      socket.end();
      resolve();
    });
    // The coordinator asks for a client certificate and may close the handshake: still alive.
    socket.once('error', (error: NodeJS.ErrnoException) =>
      error.code === 'ECONNREFUSED' || error.code === 'ENOTFOUND' || error.code === 'EHOSTUNREACH'
        ? fail(error.code)
        : resolve(),
    );
    socket.once('timeout', () => fail(`no answer within ${timeoutMs} ms`));
  });
}

export const healthCommand: CommandModule<object, HealthArgs> = {
  command: 'health',
  describe: 'Exit 0 if this node is serving (coordinator) or can reach its coordinator (party); for healthchecks',
  builder: (y) =>
    y
      .option('config', { type: 'string', describe: "the node's YAML config file (coordinator or party)" })
      .option('url', {
        type: 'string',
        describe:
          'instead: an HTTP endpoint that must answer 200, e.g. http://127.0.0.1:8080/healthz of a scoring endpoint',
      })
      .option('timeout', { type: 'number', default: 3000, describe: 'milliseconds to wait' })
      .check((a) => (a.config === undefined) !== (a.url === undefined) || 'give --config or --url, not both'),
  handler: async (args) => {
    if (args.url !== undefined) {
      const response = await fetch(args.url, { signal: AbortSignal.timeout(args.timeout) }).catch((error: unknown) => {
        throw new TandemError('PEER_UNAVAILABLE', `${args.url} is not reachable: ${(error as Error).message}`);
      });
      if (response.status !== 200) throw new TandemError('PEER_UNAVAILABLE', `${args.url} answered ${response.status}`);
      process.stdout.write(`${args.url}: ok\n`);
      return;
    }
    const file = args.config as string;
    const raw = parse(interpolateEnv(await readFile(file, 'utf8'), file)) as Record<string, unknown> | null;
    if (raw !== null && 'coordinator' in raw && typeof raw['coordinator'] === 'object') {
      const config = await loadCoordinatorConfig(file);
      const port = Number(config.listen.split(':').at(-1));
      await reachable('127.0.0.1', port, args.timeout);
      process.stdout.write(`coordinator ${config.name}: listening on ${port}\n`);
      return;
    }
    const config = await loadPartyConfig(file);
    const [host = '', port = '0'] = config.node.coordinator.split(/:(?=\d+$)/);
    await reachable(host.replace(/^\[|\]$/g, ''), Number(port), args.timeout);
    process.stdout.write(`party ${config.node.name}: coordinator ${config.node.coordinator} reachable\n`);
  },
};
