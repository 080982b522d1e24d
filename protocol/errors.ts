/**
 * The one catalog of Tandem's failures. Every error a node can raise has a
 * stable code here, mapped to a gRPC status (what a remote peer sees), a CLI
 * exit code (sysexits.h) and a public summary. The detailed message stays in
 * the local log; across a node boundary only `publicMessage` travels.
 *
 * `docs/errors.md` documents every code; a test fails if one is missing.
 */

/** gRPC status numbers, kept here so pure modules need not import grpc-js. */
export const GrpcStatus = {
  CANCELLED: 1,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  ALREADY_EXISTS: 6,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  FAILED_PRECONDITION: 9,
  ABORTED: 10,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  DATA_LOSS: 15,
  UNAUTHENTICATED: 16,
} as const;

type Entry = { readonly grpcStatus: number; readonly exitCode: number; readonly summary: string };

export const ERROR_CATALOG = {
  ARGUMENT_INVALID: {
    grpcStatus: GrpcStatus.INVALID_ARGUMENT,
    exitCode: 64,
    summary: 'a command-line argument is invalid',
  },
  CONFIG_INVALID: { grpcStatus: GrpcStatus.INVALID_ARGUMENT, exitCode: 78, summary: 'a configuration file is invalid' },
  CONFIG_NOT_FOUND: { grpcStatus: GrpcStatus.NOT_FOUND, exitCode: 66, summary: 'a configuration file was not found' },
  JOB_SPEC_INVALID: {
    grpcStatus: GrpcStatus.INVALID_ARGUMENT,
    exitCode: 78,
    summary: 'the job specification is invalid',
  },
  DATA_FILE_NOT_FOUND: { grpcStatus: GrpcStatus.NOT_FOUND, exitCode: 66, summary: 'a data file was not found' },
  DATA_MALFORMED: { grpcStatus: GrpcStatus.INVALID_ARGUMENT, exitCode: 65, summary: 'a data file is malformed' },
  DATA_COLUMN_MISSING: {
    grpcStatus: GrpcStatus.INVALID_ARGUMENT,
    exitCode: 65,
    summary: 'a configured column is missing from the data',
  },
  DATA_VALUE_INVALID: { grpcStatus: GrpcStatus.INVALID_ARGUMENT, exitCode: 65, summary: 'a data value is invalid' },
  DATA_ID_MISSING: { grpcStatus: GrpcStatus.INVALID_ARGUMENT, exitCode: 65, summary: 'a row has an empty id' },
  DATA_ID_DUPLICATE: { grpcStatus: GrpcStatus.INVALID_ARGUMENT, exitCode: 65, summary: 'an id appears more than once' },
  DATA_LABEL_INVALID: {
    grpcStatus: GrpcStatus.INVALID_ARGUMENT,
    exitCode: 65,
    summary: 'a label value is not allowed',
  },
  DATA_SCHEMA_MISMATCH: {
    grpcStatus: GrpcStatus.INVALID_ARGUMENT,
    exitCode: 65,
    summary: 'the data does not match the expected schema',
  },
  PSI_EMPTY_INTERSECTION: {
    grpcStatus: GrpcStatus.FAILED_PRECONDITION,
    exitCode: 65,
    summary: 'the parties share no ids',
  },
  PSI_INPUT_INVALID: {
    grpcStatus: GrpcStatus.INVALID_ARGUMENT,
    exitCode: 76,
    summary: 'a private set intersection message is malformed',
  },
  JOB_NOT_FOUND: { grpcStatus: GrpcStatus.NOT_FOUND, exitCode: 66, summary: 'no such job' },
  JOB_NOT_PARTICIPANT: {
    grpcStatus: GrpcStatus.PERMISSION_DENIED,
    exitCode: 77,
    summary: 'this node is not a party to the job',
  },
  JOB_STATE_CONFLICT: {
    grpcStatus: GrpcStatus.FAILED_PRECONDITION,
    exitCode: 75,
    summary: 'the job is not in a state that allows this',
  },
  JOB_CANCELLED: { grpcStatus: GrpcStatus.CANCELLED, exitCode: 75, summary: 'the job was cancelled' },
  JOB_FAILED: { grpcStatus: GrpcStatus.ABORTED, exitCode: 70, summary: 'the job failed' },
  AUTH_CERTIFICATE_REJECTED: {
    grpcStatus: GrpcStatus.UNAUTHENTICATED,
    exitCode: 77,
    summary: 'the peer certificate was rejected',
  },
  AUTH_NOT_ALLOWED: {
    grpcStatus: GrpcStatus.PERMISSION_DENIED,
    exitCode: 77,
    summary: 'the caller is not allowed to do this',
  },
  AUTH_SESSION_REQUIRED: {
    grpcStatus: GrpcStatus.UNAUTHENTICATED,
    exitCode: 77,
    summary: 'sign in to the console first',
  },
  AUTH_REQUIRED: { grpcStatus: GrpcStatus.UNAUTHENTICATED, exitCode: 77, summary: 'the request is not authenticated' },
  CERTS_EXIST: { grpcStatus: GrpcStatus.ALREADY_EXISTS, exitCode: 73, summary: 'certificates already exist' },
  SESSION_DUPLICATE: {
    grpcStatus: GrpcStatus.ALREADY_EXISTS,
    exitCode: 75,
    summary: 'this party is already connected',
  },
  STORE_CORRUPT: { grpcStatus: GrpcStatus.DATA_LOSS, exitCode: 74, summary: "the coordinator's job store is damaged" },
  NODE_ALREADY_RUNNING: {
    grpcStatus: GrpcStatus.ALREADY_EXISTS,
    exitCode: 75,
    summary: 'another node already runs on this data directory',
  },
  PROTOCOL_VERSION_MISMATCH: {
    grpcStatus: GrpcStatus.FAILED_PRECONDITION,
    exitCode: 76,
    summary: 'the peers speak different protocol versions',
  },
  PROTOCOL_STAGE: {
    grpcStatus: GrpcStatus.FAILED_PRECONDITION,
    exitCode: 76,
    summary: 'a message arrived at the wrong protocol stage',
  },
  MESSAGE_TOO_LARGE: {
    grpcStatus: GrpcStatus.RESOURCE_EXHAUSTED,
    exitCode: 76,
    summary: 'a message exceeds the size limit',
  },
  RATE_LIMITED: {
    grpcStatus: GrpcStatus.RESOURCE_EXHAUSTED,
    exitCode: 75,
    summary: 'too many requests; try again later',
  },
  ROUTE_NOT_FOUND: { grpcStatus: GrpcStatus.NOT_FOUND, exitCode: 64, summary: 'no such endpoint' },
  MESSAGE_CORRUPT: {
    grpcStatus: GrpcStatus.INVALID_ARGUMENT,
    exitCode: 76,
    summary: 'a message is corrupt or malformed',
  },
  SEAL_OPEN_FAILED: {
    grpcStatus: GrpcStatus.INVALID_ARGUMENT,
    exitCode: 76,
    summary: 'a sealed payload failed authentication',
  },
  CIPHERTEXT_INVALID: {
    grpcStatus: GrpcStatus.INVALID_ARGUMENT,
    exitCode: 76,
    summary: 'a ciphertext does not match the job parameters',
  },
  PEER_UNAVAILABLE: { grpcStatus: GrpcStatus.UNAVAILABLE, exitCode: 69, summary: 'a peer is unavailable' },
  PEER_TIMEOUT: { grpcStatus: GrpcStatus.DEADLINE_EXCEEDED, exitCode: 75, summary: 'a peer did not answer in time' },
  NODE_VERSION_UNSUPPORTED: {
    grpcStatus: GrpcStatus.FAILED_PRECONDITION,
    exitCode: 70,
    summary: 'this Node.js version is not supported',
  },
  INTERNAL: { grpcStatus: GrpcStatus.INTERNAL, exitCode: 70, summary: 'an internal error occurred' },
} as const satisfies Record<string, Entry>;

export type ErrorCode = keyof typeof ERROR_CATALOG;

export type TandemErrorOptions = {
  /** Text safe to send to a remote peer. @default the catalog summary */
  readonly publicMessage?: string;
  /** Structured context for the local log (never sent to a peer). */
  readonly details?: Readonly<Record<string, unknown>>;
  readonly cause?: unknown;
};

/** Base class: a typed, catalogued failure. `message` is for the local user. */
export class TandemError extends Error {
  readonly code: ErrorCode;
  readonly publicMessage: string;
  readonly details: Readonly<Record<string, unknown>>;

  constructor(code: ErrorCode, message: string, options: TandemErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.publicMessage = options.publicMessage ?? ERROR_CATALOG[code].summary;
    this.details = options.details ?? {};
  }

  get grpcStatus(): number {
    return ERROR_CATALOG[this.code].grpcStatus;
  }

  get exitCode(): number {
    return ERROR_CATALOG[this.code].exitCode;
  }
}

/** A configuration or job file failed validation. Names the file, the field and the fix. */
export class ConfigError extends TandemError {
  readonly file: string;
  readonly field: string;
  readonly fix: string;

  constructor(
    code: 'CONFIG_INVALID' | 'CONFIG_NOT_FOUND' | 'JOB_SPEC_INVALID',
    where: { file: string; field: string; problem: string; fix: string },
    options: TandemErrorOptions = {},
  ) {
    const at = where.field === '' ? where.file : `${where.file}: ${where.field}`;
    super(code, `${at}: ${where.problem}. Fix: ${where.fix}`, options);
    this.file = where.file;
    this.field = where.field;
    this.fix = where.fix;
  }
}

/** Input data is unusable. Names the file, and the line and column where known. */
export class DataError extends TandemError {
  readonly file: string;
  readonly line: number | undefined;
  readonly column: string | undefined;

  constructor(
    code:
      | 'DATA_FILE_NOT_FOUND'
      | 'DATA_MALFORMED'
      | 'DATA_COLUMN_MISSING'
      | 'DATA_VALUE_INVALID'
      | 'DATA_ID_MISSING'
      | 'DATA_ID_DUPLICATE'
      | 'DATA_LABEL_INVALID'
      | 'DATA_SCHEMA_MISMATCH'
      | 'PSI_EMPTY_INTERSECTION',
    where: { file: string; line?: number; column?: string; problem: string; fix: string },
    options: TandemErrorOptions = {},
  ) {
    const loc = [
      where.file,
      where.line === undefined ? undefined : `line ${where.line}`,
      where.column === undefined ? undefined : `column "${where.column}"`,
    ]
      .filter((part) => part !== undefined)
      .join(', ');
    super(code, `${loc}: ${where.problem}. Fix: ${where.fix}`, options);
    this.file = where.file;
    this.line = where.line;
    this.column = where.column;
  }
}

/** A peer broke the protocol: wrong version, wrong stage, bad or oversized message. */
export class ProtocolError extends TandemError {}

/** Identity and permission failures. */
export class AuthError extends TandemError {}

/** Job lifecycle failures. */
export class JobError extends TandemError {}

/** A peer or the coordinator could not be reached, or did not answer in time. */
export class TransportError extends TandemError {}

/** Raised when a message arrives at a stage that does not expect it. */
export class ProtocolStageError extends ProtocolError {
  readonly expected: string;
  readonly received: string;

  constructor(protocol: string, expected: string, received: string) {
    super('PROTOCOL_STAGE', `${protocol}: expected stage "${expected}" but received "${received}"`, {
      publicMessage: `${protocol}: expected stage "${expected}" but received "${received}"`,
      details: { protocol, expected, received },
    });
    this.expected = expected;
    this.received = received;
  }
}

/** Wraps anything thrown into a TandemError without losing the original. */
export function asTandemError(error: unknown): TandemError {
  if (error instanceof TandemError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new TandemError('INTERNAL', message, { cause: error });
}
