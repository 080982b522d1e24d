/**
 * The Coordinator service for grpc-js, built from the generated protobufjs
 * types (no runtime .proto loading). Adapter code: only files under
 * runtime/, coordinator/ and party/ that end in grpc-*.ts import grpc-js.
 */
import * as grpc from '@grpc/grpc-js';
import { tandem } from '../protocol/generated/tandem.js';
import { TandemError, asTandemError } from '../protocol/errors.ts';
import type { compileWireLimits } from '../protocol/wire/chunking.ts';

type Codec<T> = { encode(message: T): { finish(shared?: boolean): Uint8Array }; decode(bytes: Uint8Array): T };

/**
 * The encoded bytes as a Buffer without copying them: the writer's own buffer
 * (`finish(true)`; the writer is dropped right after) is already a Buffer under
 * Node. Each 1 MB chunk frame was copied twice more before it reached the socket.
 */
function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function method<Req, Res>(
  name: string,
  req: Codec<Req>,
  res: Codec<Res>,
  requestStream: boolean,
  responseStream: boolean,
) {
  return {
    path: `/tandem.v1.Coordinator/${name}`,
    requestStream,
    responseStream,
    requestSerialize: (m: Req) => asBuffer(req.encode(m).finish(true)),
    requestDeserialize: (b: Buffer) => req.decode(b),
    responseSerialize: (m: Res) => asBuffer(res.encode(m).finish(true)),
    responseDeserialize: (b: Buffer) => res.decode(b),
  };
}

const v1 = tandem.v1;

export const coordinatorService = {
  connect: method('Connect', v1.Frame, v1.Frame, true, true),
  submitJob: method('SubmitJob', v1.SubmitJobRequest, v1.JobStatus, false, false),
  getJob: method('GetJob', v1.JobRef, v1.JobStatus, false, false),
  watchJob: method('WatchJob', v1.JobRef, v1.JobStatus, false, true),
  listJobs: method('ListJobs', v1.ListJobsRequest, v1.ListJobsResponse, false, false),
  cancelJob: method('CancelJob', v1.JobRef, v1.JobStatus, false, false),
  signExport: method('SignExport', v1.SignExportRequest, v1.SignExportResponse, false, false),
  describeFederation: method('DescribeFederation', v1.DescribeFederationRequest, v1.FederationView, false, false),
} satisfies grpc.ServiceDefinition;

export const CoordinatorClient = grpc.makeGenericClientConstructor(coordinatorService, 'Coordinator');

/** Channel options: messages are chunks, so the gRPC limit only needs to fit one chunk plus headers. */
export function grpcOptions(limits: ReturnType<typeof compileWireLimits>): grpc.ChannelOptions {
  const max = limits.maxChunkBytes + 1024 * 1024;
  return {
    'grpc.max_receive_message_length': max,
    'grpc.max_send_message_length': max,
    'grpc.keepalive_time_ms': 20_000,
    'grpc.keepalive_timeout_ms': 10_000,
    'grpc.keepalive_permit_without_calls': 1,
    'grpc.http2.min_ping_interval_without_data_ms': 10_000,
  };
}

/** What a remote caller sees of an error: the catalogued status and public text, never internals. */
export function toServiceError(error: unknown): Partial<grpc.ServiceError> {
  const e = asTandemError(error);
  const metadata = new grpc.Metadata();
  metadata.set('tandem-error-code', e.code);
  return {
    code: e.grpcStatus,
    details: e instanceof TandemError && e.code !== 'INTERNAL' ? e.publicMessage : 'internal error',
    metadata,
  };
}

/** Rebuilds a TandemError on the client side from a gRPC error. */
export function fromServiceError(error: grpc.ServiceError, what: string): TandemError {
  const code = error.metadata?.get('tandem-error-code')[0];
  if (typeof code === 'string' && code !== '') {
    return new TandemError(code as TandemError['code'], `${what}: ${error.details}`, { publicMessage: error.details });
  }
  if (error.code === grpc.status.UNAVAILABLE) {
    return new TandemError(
      'PEER_UNAVAILABLE',
      `${what}: the coordinator is unreachable (${error.details}). Fix: check the address and that it is running, and that the certificates are from the same CA`,
    );
  }
  if (error.code === grpc.status.DEADLINE_EXCEEDED)
    return new TandemError('PEER_TIMEOUT', `${what}: the coordinator did not answer in time`);
  return new TandemError('INTERNAL', `${what}: ${error.details}`);
}

/** A method of another service in the `tandem.v1` package. */
function serviceMethod<Req, Res>(service: string, name: string, req: Codec<Req>, res: Codec<Res>) {
  return { ...method(name, req, res, false, false), path: `/tandem.v1.${service}/${name}` };
}

/** The Scoring service of `tandem serve` (serving/grpc-server.ts): the HTTP/JSON scoring API over gRPC with mTLS. */
export const scoringService = {
  score: serviceMethod('Scoring', 'Score', v1.ScoreRequest, v1.ScoreResponse),
  scoreBatch: serviceMethod('Scoring', 'ScoreBatch', v1.ScoreBatchRequest, v1.ScoreBatchResponse),
  health: serviceMethod('Scoring', 'Health', v1.HealthRequest, v1.HealthResponse),
  modelInfo: serviceMethod('Scoring', 'ModelInfo', v1.ModelInfoRequest, v1.ModelInfoResponse),
} satisfies grpc.ServiceDefinition;

export const ScoringClient = grpc.makeGenericClientConstructor(scoringService, 'Scoring');
