/**
 * The shape of the console's route tables: each view (party, coordinator,
 * auditor) is a list of routes that decode a request, call one domain
 * function and return JSON; console/server.ts puts them behind the session
 * check and the cross-site rules.
 */
import type { FastifyReply, FastifyRequest, FastifySchema } from 'fastify';
import type { Logger } from '../runtime/logger.ts';
import type { NodeContext } from './node-context.ts';

export type ConsoleRoute = {
  readonly method: 'GET' | 'POST';
  readonly url: string;
  /** JSON schema of params, query and body; Fastify refuses what does not match with a 400. */
  readonly schema?: FastifySchema;
  readonly handler: (request: FastifyRequest, reply: FastifyReply) => unknown;
};

/** What every route table gets. */
export type RouteContext = {
  readonly node: NodeContext;
  readonly log: Logger;
  /** Audit log files given with --audit-logs. */
  readonly auditLogs: readonly string[];
  /** Where `<node>.crt` of every node is. */
  readonly auditCertsDir: string;
};

/** A job id as the coordinator makes them; anything else is refused before it reaches a path or a call. */
export const JOB_ID_PATTERN = '^job-[0-9a-f]{10}$';

export const jobParams = { type: 'object', required: ['id'], properties: { id: { type: 'string', pattern: JOB_ID_PATTERN } } } as const;

/** A POST body holding a job spec's YAML. */
export const specBody = { type: 'object', required: ['specYaml'], additionalProperties: false, properties: { specYaml: { type: 'string', minLength: 1, maxLength: 65536 } } } as const;
