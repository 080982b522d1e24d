/**
 * The coordinator's gRPC edge: mTLS server, handlers that authenticate the
 * caller by certificate, call one domain function and encode the answer.
 */
import * as grpc from '@grpc/grpc-js';
import type { tandem } from '../protocol/generated/tandem.js';
import { coordinatorService, grpcOptions, toServiceError } from '../runtime/grpc-service.ts';
import { peerName, serverCredentials } from '../runtime/grpc-tls.ts';
import type { NodeIdentity } from '../runtime/certs.ts';
import type { Logger } from '../runtime/logger.ts';
import type { WireLimits } from '../protocol/wire/chunking.ts';
import type { Hub } from './hub.ts';
import type { JobService } from './jobs.ts';
import type { JobRecord, JobStore } from './job-store.ts';
import { signExport } from './export-signing.ts';
import { describeFederation } from './federation-view.ts';
import type { AuditLog } from '../audit/log.ts';

export type CoordinatorServer = { readonly port: number; close(): Promise<void> };

export function jobStatus(job: JobRecord): tandem.v1.JobStatus.$Properties {
  return {
    jobId: job.jobId,
    name: job.name,
    kind: job.kind,
    stage: job.stage,
    phase: job.phase,
    parties: [...job.parties],
    epoch: job.epoch,
    maxEpochs: job.maxEpochs,
    unit: job.unit,
    loss: job.loss,
    message: job.message,
    summaryJson: job.summaryJson,
    createdAtMs: job.createdAtMs,
    updatedAtMs: job.updatedAtMs,
    specYaml: job.specYaml,
  };
}

type Unary<Req> = grpc.ServerUnaryCall<
  Req,
  | tandem.v1.JobStatus.$Properties
  | tandem.v1.ListJobsResponse.$Properties
  | tandem.v1.SignExportResponse.$Properties
  | tandem.v1.FederationView.$Properties
>;

export async function startCoordinatorServer(options: {
  readonly listen: string;
  readonly identity: NodeIdentity;
  readonly hub: Hub;
  readonly jobs: JobService;
  /** Read by SignExport (the job a manifest names) and DescribeFederation (the jobs). */
  readonly store: Pick<JobStore, 'get' | 'list'>;
  /** For DescribeFederation: who may submit jobs, and the registered parties (undefined: any name the CA signed). @default none, any */
  readonly admins?: readonly string[] | undefined;
  readonly parties?: readonly string[] | undefined;
  /** Where SignExport states each co-signing. */
  readonly audit?: Pick<AuditLog, 'state'> | undefined;
  readonly log: Logger;
  readonly limits: WireLimits;
}): Promise<CoordinatorServer> {
  const { hub, jobs, log, identity } = options;
  const server = new grpc.Server(grpcOptions(options.limits));

  /** Authenticates, runs, and maps failures to a public status. */
  function unary<Req>(name: string, run: (caller: string, request: Req) => unknown) {
    return (call: Unary<Req>, callback: grpc.sendUnaryData<never>): void => {
      Promise.resolve()
        .then(() => run(peerName(call, identity), call.request))
        .then((result) => callback(null, result as never))
        .catch((error: unknown) => {
          log.warn({ step: name, err: error }, 'admin call refused');
          callback(toServiceError(error), null);
        });
    };
  }

  server.addService(coordinatorService, {
    connect: (call: grpc.ServerDuplexStream<tandem.v1.Frame, tandem.v1.Frame.$Properties>) => {
      let party: string;
      try {
        party = peerName(call, identity);
      } catch (error) {
        call.emit('error', toServiceError(error));
        return;
      }
      hub.accept(party, call, call.getPeer());
    },
    submitJob: unary<tandem.v1.SubmitJobRequest>('submit', async (caller, r) =>
      jobStatus(await jobs.submit(caller, r.specYaml, r.specFile)),
    ),
    getJob: unary<tandem.v1.JobRef>('get', (caller, r) => jobStatus(jobs.get(caller, r.jobId))),
    listJobs: unary<tandem.v1.ListJobsRequest>('list', (caller, r) => ({
      jobs: jobs.list(caller, r.limit).map(jobStatus),
    })),
    cancelJob: unary<tandem.v1.JobRef>('cancel', (caller, r) => jobStatus(jobs.cancel(caller, r.jobId))),
    signExport: unary<tandem.v1.SignExportRequest>('sign-export', (caller, r) =>
      signExport(caller, r.manifestJson, { identity, job: (id) => options.store.get(id), audit: options.audit }),
    ),
    describeFederation: unary<tandem.v1.DescribeFederationRequest>('describe-federation', (caller, r) =>
      describeFederation(caller, r, {
        coordinator: identity.name,
        admins: options.admins ?? [],
        parties: options.parties,
        isConnected: (p) => hub.isConnected(p),
        jobs: (n) => options.store.list(n),
        status: jobStatus,
      }),
    ),
    watchJob: (call: grpc.ServerWritableStream<tandem.v1.JobRef, tandem.v1.JobStatus.$Properties>) => {
      try {
        const stop = jobs.watch(peerName(call, identity), call.request.jobId, (job) => {
          call.write(jobStatus(job));
          if (['completed', 'failed', 'cancelled'].includes(job.stage)) call.end();
        });
        call.on('cancelled', stop);
        call.on('close', stop);
      } catch (error) {
        call.emit('error', toServiceError(error));
      }
    },
  });

  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync(options.listen, serverCredentials(identity), (error, bound) =>
      error === null ? resolve(bound) : reject(error),
    );
  });
  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        hub.close();
        server.tryShutdown(() => resolve());
        setTimeout(() => {
          server.forceShutdown();
          resolve();
        }, 2000).unref();
      }),
  };
}
