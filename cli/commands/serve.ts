/** `tandem serve`: a party's scoring endpoints, until SIGINT/SIGTERM (then a graceful drain). */
import { writeFile } from 'node:fs/promises';
import type { CommandModule } from 'yargs';
import { TandemError } from '../../protocol/errors.ts';
import { createLogger, logFormatOption, type LogFormat } from '../../runtime/logger.ts';
import { startServing } from '../../serving/serve.ts';

type ServeArgs = {
  model: string;
  config: string;
  listen: string;
  port: number;
  'peer-listen': string;
  'peer-port': number;
  'grpc-port': number | undefined;
  'public-auth': string;
  'token-file': string | undefined;
  'host-endpoint': string[];
  'host-timeout-ms': number;
  'disclose-membership': boolean;
  'lookup-rate': number;
  'lookup-burst': number;
  'audit-log': string | undefined;
  'max-connections': number;
  'request-timeout-ms': number;
  'shutdown-grace-ms': number;
  threshold: number;
  audience: string | undefined;
  'allow-caller': string[] | undefined;
  'port-file': string | undefined;
  'log-level': string;
  'log-format': LogFormat | undefined;
};

/** `name=https://host:port` pairs → a map. */
export function parseHostEndpoints(pairs: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const pair of pairs) {
    const at = pair.indexOf('=');
    if (at <= 0)
      throw new TandemError(
        'ARGUMENT_INVALID',
        `--host-endpoint ${pair}: expected name=https://host:port, e.g. partner=https://10.0.0.7:8443`,
      );
    out[pair.slice(0, at)] = pair.slice(at + 1);
  }
  return out;
}

export const serveCommand: CommandModule<object, ServeArgs> = {
  command: 'serve',
  describe:
    "Serve an exported model: scoring, model info and Prometheus metrics for this party's operators (bearer token or client certificate) and open health, over HTTP/JSON (and gRPC with --grpc-port); hosts also answer the guest over mTLS",
  builder: (y) =>
    y
      .option('model', { type: 'string', demandOption: true, describe: 'a directory written by `tandem model export`' })
      .option('config', {
        type: 'string',
        demandOption: true,
        describe: "this party node's YAML config (certificates; a host's dataset)",
      })
      .option('listen', {
        type: 'string',
        default: '127.0.0.1',
        describe: 'address of the public HTTP port and the gRPC port',
      })
      .option('port', { type: 'number', default: 8080, describe: 'public HTTP port (0: pick a free one)' })
      .option('peer-listen', {
        type: 'string',
        default: '127.0.0.1',
        describe: 'host only: address of the mTLS peer port (where the guest reaches it)',
      })
      .option('peer-port', {
        type: 'number',
        default: 8443,
        describe: 'host only: mTLS port the guest calls (0: pick a free one)',
      })
      .option('grpc-port', {
        type: 'number',
        describe:
          'also serve gRPC (service tandem.v1.Scoring, mTLS with federation certificates) on this port (0: pick a free one)',
      })
      .option('public-auth', {
        type: 'string',
        default: 'token',
        choices: ['token', 'mtls'],
        describe:
          'how the public HTTP API authenticates: bearer tokens, or client certificates of the federation CA (HTTPS)',
      })
      .option('token-file', {
        type: 'string',
        describe:
          'bearer tokens, one per line, mode 0600; created with a random token when missing [default: <dataDir>/serving/tokens]',
      })
      .option('allow-caller', {
        type: 'string',
        array: true,
        describe:
          'a certificate name (CN) to treat as an operator of this endpoint (gRPC, and HTTPS with --public-auth mtls), once per name; never another party of the job [default: only this node]',
      })
      .option('host-endpoint', {
        type: 'string',
        array: true,
        default: [] as string[],
        describe: 'guest only: name=https://host:peer-port, once per host',
      })
      .option('host-timeout-ms', {
        type: 'number',
        default: 250,
        describe: 'guest only: per-host timeout; then the answer falls back',
      })
      .option('disclose-membership', {
        type: 'boolean',
        default: false,
        describe:
          'host only: tell the guest which users this host does not hold (it then answers "not-held") instead of answering a decoy',
      })
      .option('lookup-rate', {
        type: 'number',
        default: 5000,
        describe: 'host only: user lookups per second each caller may sustain (then 429)',
      })
      .option('lookup-burst', {
        type: 'number',
        default: 20_000,
        describe: 'host only: lookups a caller may make at once after being idle (at least 10000)',
      })
      .option('audit-log', {
        type: 'string',
        describe: 'the serving audit log [default: <dataDir>/audit/serving/<node>.audit.jsonl]',
      })
      .option('max-connections', { type: 'number', default: 512, describe: 'most open connections per HTTP port' })
      .option('request-timeout-ms', {
        type: 'number',
        default: 15_000,
        describe: 'time to receive a whole request; a slower one is cut (408)',
      })
      .option('shutdown-grace-ms', {
        type: 'number',
        default: 10_000,
        describe: 'on SIGTERM, how long in-flight requests may finish',
      })
      .option('threshold', {
        type: 'number',
        default: 0.5,
        describe: 'probability at or above which a visitor is in the positive segment',
      })
      .option('audience', {
        type: 'string',
        describe: 'host only: a ranked audience from `tandem model score-pool`, for membership tests',
      })
      .option('port-file', { type: 'string', describe: 'write {"port","peerPort","grpcPort"} here once listening' })
      .option('log-level', { type: 'string', default: 'info', choices: ['debug', 'info', 'warn', 'error'] })
      .option('log-format', logFormatOption)
      .example(
        '$0 serve --model models/partner --config partner.yaml --port 8081 --peer-listen 10.0.0.7 --peer-port 8443',
        'a host, its peer port reachable by the guest',
      )
      .example(
        '$0 serve --model models/brand --config brand.yaml --port 8080 --host-endpoint partner=https://10.0.0.7:8443',
        'the guest',
      ),
  handler: async (args) => {
    const log = createLogger({ role: 'party', level: args['log-level'], format: args['log-format'] });
    const serving = await startServing({
      modelDir: args.model,
      configFile: args.config,
      listen: args.listen,
      port: args.port,
      peerListen: args['peer-listen'],
      peerPort: args['peer-port'],
      grpcPort: args['grpc-port'],
      publicAuth: args['public-auth'] === 'mtls' ? 'mtls' : 'token',
      tokenFile: args['token-file'],
      allowedCallers: args['allow-caller'],
      hostEndpoints: parseHostEndpoints(args['host-endpoint']),
      hostTimeoutMs: args['host-timeout-ms'],
      discloseMembership: args['disclose-membership'],
      lookupRatePerSecond: args['lookup-rate'],
      lookupBurst: args['lookup-burst'],
      auditLogFile: args['audit-log'],
      maxConnections: args['max-connections'],
      requestTimeoutMs: args['request-timeout-ms'],
      shutdownGraceTimeMs: args['shutdown-grace-ms'],
      threshold: args.threshold,
      audienceFile: args.audience,
      log,
    });
    const ports = {
      port: serving.port,
      ...(serving.peerPort === undefined ? {} : { peerPort: serving.peerPort }),
      ...(serving.grpcPort === undefined ? {} : { grpcPort: serving.grpcPort }),
    };
    if (args['port-file'] !== undefined) await writeFile(args['port-file'], `${JSON.stringify(ports)}\n`);
    // The token file's path, never a token: whoever may call this endpoint reads the file.
    const tokenFile = serving.tokens === undefined ? {} : { tokenFile: serving.tokens.file };
    process.stdout.write(
      `${JSON.stringify({ serving: serving.model.manifest.role, job: serving.model.manifest.jobId, ...ports, ...tokenFile, auditLog: serving.auditLogFile })}\n`,
    );
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
