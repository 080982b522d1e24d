/** `tandem serve`: a party's scoring endpoints, until SIGINT/SIGTERM (then a graceful drain). */
import { writeFile } from 'node:fs/promises';
import type { CommandModule } from 'yargs';
import { TandemError } from '../../protocol/errors.ts';
import { createLogger } from '../../runtime/logger.ts';
import { startServing } from '../../serving/serve.ts';

type ServeArgs = {
  model: string; config: string; listen: string; port: number; 'peer-port': number; 'grpc-port': number | undefined; 'host-endpoint': string[]; 'host-timeout-ms': number;
  'shutdown-grace-ms': number; threshold: number; audience: string | undefined; 'allow-caller': string[] | undefined; 'port-file': string | undefined; 'log-level': string;
};

/** `name=https://host:port` pairs → a map. */
export function parseHostEndpoints(pairs: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const pair of pairs) {
    const at = pair.indexOf('=');
    if (at <= 0) throw new TandemError('ARGUMENT_INVALID', `--host-endpoint ${pair}: expected name=https://host:port, e.g. partner=https://10.0.0.7:8443`);
    out[pair.slice(0, at)] = pair.slice(at + 1);
  }
  return out;
}

export const serveCommand: CommandModule<object, ServeArgs> = {
  command: 'serve',
  describe: 'Serve an exported model: scoring, health, model info and Prometheus metrics over HTTP/JSON (and gRPC with --grpc-port); hosts also answer the guest over mTLS',
  builder: (y) =>
    y
      .option('model', { type: 'string', demandOption: true, describe: 'a directory written by `tandem model export`' })
      .option('config', { type: 'string', demandOption: true, describe: "this party node's YAML config (certificates; a host's dataset)" })
      .option('listen', { type: 'string', default: '127.0.0.1', describe: 'address to listen on' })
      .option('port', { type: 'number', default: 8080, describe: 'public HTTP port (0: pick a free one)' })
      .option('peer-port', { type: 'number', default: 8443, describe: 'host only: mTLS port the guest calls (0: pick a free one)' })
      .option('grpc-port', { type: 'number', describe: 'also serve gRPC (service tandem.v1.Scoring, mTLS with federation certificates) on this port (0: pick a free one)' })
      .option('host-endpoint', { type: 'string', array: true, default: [] as string[], describe: 'guest only: name=https://host:peer-port, once per host' })
      .option('host-timeout-ms', { type: 'number', default: 250, describe: 'guest only: per-host timeout; then the answer falls back' })
      .option('shutdown-grace-ms', { type: 'number', default: 10_000, describe: 'on SIGTERM, how long in-flight requests may finish' })
      .option('threshold', { type: 'number', default: 0.5, describe: 'probability at or above which a visitor is in the positive segment' })
      .option('audience', { type: 'string', describe: 'host only: a ranked audience from `tandem model score-pool`, for membership tests' })
      .option('allow-caller', { type: 'string', array: true, describe: 'certificate name (CN) allowed to score over mTLS (gRPC Score/ScoreBatch, a host\'s partial scores), once per name [default: the parties of the model\'s job]' })
      .option('port-file', { type: 'string', describe: 'write {"port","peerPort","grpcPort"} here once listening' })
      .option('log-level', { type: 'string', default: 'info', choices: ['debug', 'info', 'warn', 'error'] })
      .example('$0 serve --model models/partner --config partner.yaml --port 8081 --peer-port 8443', 'a host')
      .example('$0 serve --model models/brand --config brand.yaml --port 8080 --host-endpoint partner=https://10.0.0.7:8443', 'the guest'),
  handler: async (args) => {
    const log = createLogger({ role: 'party', level: args['log-level'] });
    const serving = await startServing({
      modelDir: args.model, configFile: args.config, listen: args.listen, port: args.port, peerPort: args['peer-port'], grpcPort: args['grpc-port'],
      hostEndpoints: parseHostEndpoints(args['host-endpoint']), hostTimeoutMs: args['host-timeout-ms'], shutdownGraceTimeMs: args['shutdown-grace-ms'],
      threshold: args.threshold, audienceFile: args.audience, allowedCallers: args['allow-caller'], log,
    });
    const ports = {
      port: serving.port, ...(serving.peerPort === undefined ? {} : { peerPort: serving.peerPort }), ...(serving.grpcPort === undefined ? {} : { grpcPort: serving.grpcPort }),
    };
    if (args['port-file'] !== undefined) await writeFile(args['port-file'], `${JSON.stringify(ports)}\n`);
    process.stdout.write(`${JSON.stringify({ serving: serving.model.manifest.role, job: serving.model.manifest.jobId, ...ports })}\n`);
    await new Promise<void>((resolve) => {
      const stop = (): void => {
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
        void serving.close().finally(resolve);
      };
      process.on('SIGINT', stop);
      process.on('SIGTERM', stop);
    });
  },
};
