/**
 * The admin side of the coordinator API for the CLI and the console: submit,
 * status, list, cancel and watch jobs, and describe the federation, over
 * mTLS with the caller's certificate.
 */
import type * as grpc from '@grpc/grpc-js';
import { readFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import type { tandem } from '../protocol/generated/tandem.js';
import { CoordinatorClient, fromServiceError, grpcOptions } from './grpc-service.ts';
import { channelCredentials } from './grpc-tls.ts';
import { loadNodeIdentity } from './certs.ts';
import { compileWireLimits } from '../protocol/wire/chunking.ts';
import { ConfigError } from '../protocol/errors.ts';
import { loadPartyConfig } from '../party/config.ts';

export type JobStatus = tandem.v1.JobStatus;
export type FederationView = tandem.v1.FederationView;

type RawClient = grpc.Client & Record<string, (...args: unknown[]) => unknown>;

export type ClientFlags = {
  readonly config?: string | undefined;
  readonly coordinator?: string | undefined;
  readonly ca?: string | undefined;
  readonly cert?: string | undefined;
  readonly key?: string | undefined;
  /** Expected CN of the coordinator's certificate when it differs from the host dialled. @default 'coordinator' for an IP address */
  readonly coordinatorName?: string | undefined;
};

export class AdminClient {
  readonly #client: RawClient;

  private constructor(client: RawClient) {
    this.#client = client;
  }

  /** From a node config (`--config`) or explicit `--coordinator --ca --cert --key`. */
  static async connect(flags: ClientFlags): Promise<AdminClient> {
    let address = flags.coordinator;
    let certs =
      flags.ca !== undefined && flags.cert !== undefined && flags.key !== undefined
        ? { ca: flags.ca, cert: flags.cert, key: flags.key }
        : undefined;
    let serverName = flags.coordinatorName;
    if (flags.config !== undefined) {
      const config = await loadPartyConfig(flags.config);
      address ??= config.node.coordinator;
      certs ??= config.node.certs;
      serverName ??= config.node.coordinatorName;
    }
    if (address === undefined || certs === undefined) {
      throw new ConfigError('CONFIG_NOT_FOUND', {
        file: 'command line',
        field: '--config',
        problem: 'no coordinator address or certificates given',
        fix: 'pass --config <node.yaml>, or --coordinator host:port --ca --cert --key',
      });
    }
    const identity = await loadNodeIdentity(certs);
    const options: Record<string, unknown> = { ...grpcOptions(compileWireLimits()) };
    // TLS cannot send an IP address as the server name; name the certificate we expect instead.
    serverName ??= isIP(address.replace(/:\d+$/, '').replace(/^\[|\]$/g, '')) === 0 ? undefined : 'coordinator';
    if (serverName !== undefined) options['grpc.ssl_target_name_override'] = serverName;
    const client = new CoordinatorClient(address, channelCredentials(identity), options) as unknown as RawClient;
    return new AdminClient(client);
  }

  #unary<T>(method: string, request: object, what: string): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const deadline = new Date(Date.now() + 30_000);
      this.#client[method]?.(request, { deadline }, (error: grpc.ServiceError | null, response: T) => {
        if (error !== null) reject(fromServiceError(error, what));
        else resolve(response);
      });
    });
  }

  async submit(specFile: string): Promise<JobStatus> {
    const specYaml = await readFile(specFile, 'utf8').catch(() => {
      throw new ConfigError('CONFIG_NOT_FOUND', {
        file: specFile,
        field: '',
        problem: 'cannot read the job spec',
        fix: 'check the path',
      });
    });
    return this.submitText(specYaml, specFile);
  }

  /** Submits a spec's YAML text; `specFile` only names it in errors. */
  submitText(specYaml: string, specFile: string): Promise<JobStatus> {
    return this.#unary('submitJob', { specYaml, specFile }, `submitting ${specFile}`);
  }

  /** Who this certificate is at the coordinator; the coordinator's own certificate also gets parties and jobs. */
  describeFederation(jobLimit = 50): Promise<FederationView> {
    return this.#unary('describeFederation', { jobLimit }, 'describing the federation');
  }

  get(jobId: string): Promise<JobStatus> {
    return this.#unary('getJob', { jobId }, `reading job ${jobId}`);
  }

  list(limit: number): Promise<JobStatus[]> {
    return this.#unary<tandem.v1.ListJobsResponse>('listJobs', { limit }, 'listing jobs').then(
      (r) => r.jobs as JobStatus[],
    );
  }

  cancel(jobId: string): Promise<JobStatus> {
    return this.#unary('cancelJob', { jobId }, `cancelling job ${jobId}`);
  }

  /** Has the coordinator co-sign the manifest of this node's exported model part (serving/model-bundle.ts). */
  signExport(manifestJson: string, jobId: string): Promise<tandem.v1.SignExportResponse> {
    return this.#unary('signExport', { manifestJson }, `having the coordinator co-sign the export of job ${jobId}`);
  }

  /** Streams status updates until the job ends (or `signal` aborts); resolves with the final status. */
  watch(jobId: string, onStatus: (status: JobStatus) => void, signal?: AbortSignal): Promise<JobStatus> {
    return new Promise<JobStatus>((resolve, reject) => {
      let last: JobStatus | undefined;
      const call = this.#client.watchJob?.({ jobId }) as grpc.ClientReadableStream<JobStatus>;
      signal?.addEventListener('abort', () => call.cancel(), { once: true });
      call.on('data', (status: JobStatus) => {
        last = status;
        onStatus(status);
      });
      call.on('error', (error: grpc.ServiceError) => reject(fromServiceError(error, `watching job ${jobId}`)));
      call.on('end', () =>
        last === undefined ? reject(new Error('the watch ended without a status')) : resolve(last),
      );
    });
  }

  close(): void {
    this.#client.close();
  }
}

export const FINAL = ['completed', 'failed', 'cancelled'];
