/**
 * Operational logs on stderr: lines for people when stderr is a terminal,
 * one JSON object per line otherwise (a file, a pipe, a log collector), or
 * as `--log-format` says. Pretty lines are formatted in this thread and
 * written synchronously, so the last lines before an exit are not lost in a
 * transport worker. Fields are allow-listed: anything not listed is dropped
 * before writing, in either format, so a careless `log.info({ row })` cannot
 * leak ids, features or key material. The privacy audit log is a separate
 * sink (audit/log.ts), not a level here.
 */
import pino, { type Logger } from 'pino';
import pretty from 'pino-pretty';

export type { Logger } from 'pino';

/** The only fields a log line may carry. */
const ALLOWED = new Set([
  'role',
  'node',
  'job',
  'round',
  'party',
  'peer',
  'step',
  'kind',
  'bytes',
  'epoch',
  'epochs',
  'loss',
  'phase',
  'stage',
  'code',
  'err',
  'address',
  'port',
  'durationMs',
  'rows',
  'count',
  'file',
  'attempt',
  'delayMs',
  'status',
  'version',
  'features',
  'batches',
  'auc',
  'metrics',
  'config',
  'reason',
  'hosts',
  'parties',
  'size',
  'ciphertexts',
]);

function allowListed(object: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(object)) {
    if (ALLOWED.has(key)) out[key] = value;
  }
  return out;
}

/** Type, message and code; the stack only for internal errors, which are bugs to report. */
function serializeError(e: unknown): unknown {
  if (!(e instanceof Error)) return e;
  const code = (e as { code?: unknown }).code;
  const internal = code === undefined || code === 'INTERNAL';
  const cause = (e as { cause?: unknown }).cause;
  const stack = cause instanceof Error ? cause.stack : e.stack;
  return internal ? { type: e.name, message: e.message, code, stack } : { type: e.name, message: e.message, code };
}

/** `pretty`: a line per event for people; `json`: one JSON object per line, for machines. */
export const LOG_FORMATS = ['pretty', 'json'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

/** The format when none is asked for: pretty on a terminal, JSON anywhere else. */
export function defaultLogFormat(stream: { readonly isTTY?: boolean } = process.stderr): LogFormat {
  return stream.isTTY === true ? 'pretty' : 'json';
}

/** `--log-format`, for every command that creates a logger (yargs option). */
export const logFormatOption = {
  type: 'string',
  choices: LOG_FORMATS,
  describe:
    'log lines for people (pretty, the default on a terminal) or one JSON object per line (json, the default otherwise)',
} as const;

export type LoggerOptions = {
  /** @default 'info' */
  readonly level?: string;
  /** Logs go to stderr; this is how they are written. @default defaultLogFormat(process.stderr) */
  readonly format?: LogFormat | undefined;
  readonly role: 'coordinator' | 'party' | 'cli';
  /** Omitted when the node's name is only known once its config is loaded (it adds it with `child`). */
  readonly node?: string | undefined;
};

export function createLogger(options: LoggerOptions): Logger {
  const base = options.node === undefined ? { role: options.role } : { role: options.role, node: options.node };
  const config: pino.LoggerOptions = {
    level: options.level ?? 'info',
    base,
    formatters: { log: allowListed },
    serializers: { err: serializeError },
  };
  if ((options.format ?? defaultLogFormat()) === 'pretty') {
    return pino(
      config,
      pretty({
        destination: 2,
        sync: true,
        singleLine: true,
        ignore: 'pid,hostname,role',
        translateTime: 'SYS:HH:MM:ss.l',
      }),
    );
  }
  return pino(config, pino.destination({ dest: 2, sync: true }));
}

/** A logger that writes nothing (tests, library use). */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
