/**
 * Operational logs: pino JSON on stderr, pretty when stderr is a terminal.
 * Fields are allow-listed: anything not listed is dropped before writing, so
 * a careless `log.info({ row })` cannot leak ids, features or key material.
 * The privacy audit log is a separate sink (audit-log.ts), not a level here.
 */
import pino, { type Logger } from 'pino';

export type { Logger } from 'pino';

/** The only fields a log line may carry. */
const ALLOWED = new Set([
  'role', 'node', 'job', 'round', 'party', 'peer', 'step', 'kind', 'bytes', 'epoch', 'epochs', 'loss', 'phase', 'stage',
  'code', 'err', 'address', 'port', 'durationMs', 'rows', 'count', 'file', 'attempt', 'delayMs', 'status', 'version',
  'features', 'batches', 'auc', 'metrics', 'config', 'reason', 'hosts', 'parties', 'size', 'ciphertexts',
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

export type LoggerOptions = {
  /** @default 'info' */
  readonly level?: string;
  /** Pretty-print for people. @default process.stderr.isTTY */
  readonly pretty?: boolean;
  readonly role: 'coordinator' | 'party' | 'cli';
  /** Omitted when the node's name is only known once its config is loaded (it adds it with `child`). */
  readonly node?: string | undefined;
};

export function createLogger(options: LoggerOptions): Logger {
  const base = options.node === undefined ? { role: options.role } : { role: options.role, node: options.node };
  const pretty = options.pretty ?? process.stderr.isTTY;
  const config: pino.LoggerOptions = {
    level: options.level ?? 'info',
    base,
    formatters: { log: allowListed },
    serializers: { err: serializeError },
  };
  if (pretty) {
    return pino({ ...config, transport: { target: 'pino-pretty', options: { destination: 2, colorize: true, ignore: 'pid,hostname,role', translateTime: 'SYS:HH:MM:ss.l' } } });
  }
  return pino(config, pino.destination({ dest: 2, sync: true }));
}

/** A logger that writes nothing (tests, library use). */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
