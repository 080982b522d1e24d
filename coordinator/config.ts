/**
 * The coordinator's YAML config: schema (unknown keys rejected), defaults,
 * paths resolved against the file's directory, frozen.
 */
import { dirname, resolve } from 'node:path';
import { z } from 'zod';
import { loadConfigFile } from '../runtime/config-file.ts';

const NAME = /^[a-z][a-z0-9-]{0,62}$/;

export const coordinatorConfigSchema = z.strictObject({
  coordinator: z.strictObject({
    /** Must match the CN of the coordinator's certificate. @default coordinator */
    name: z.string().regex(NAME).optional(),
    /** host:port to listen on; port 0 picks a free one. @default 0.0.0.0:7443 */
    listen: z
      .string()
      .regex(/^[^\s:]+:\d{1,5}$/, 'must be host:port')
      .optional(),
    /** Job store and audit log live here. */
    dataDir: z.string().min(1),
    certs: z.strictObject({ ca: z.string().min(1), cert: z.string().min(1), key: z.string().min(1) }),
    /** Certificate names allowed to submit and cancel jobs. */
    admins: z.array(z.string().regex(NAME)).min(1),
    /** Registered parties; omit to admit any name the CA signed. */
    parties: z.array(z.string().regex(NAME)).optional(),
    /** @default 5000 */
    heartbeatIntervalMs: z.number().int().min(100).optional(),
    /** How long a party of a running job may stay disconnected before the job fails, naming it. @default 60000 */
    peerGraceMs: z.number().int().min(100).optional(),
    /** Write the bound port to this file (for scripts that start on port 0). */
    portFile: z.string().optional(),
  }),
  limits: z
    .strictObject({
      /** Largest chunk accepted; senders use 1 MiB chunks. @default 4194304 (4 MiB) */
      maxChunkBytes: z
        .number()
        .int()
        .min(1024 * 1024)
        .max(64 * 1024 * 1024)
        .optional(),
      /** @default 1073741824 (1 GiB) */
      maxMessageBytes: z
        .number()
        .int()
        .min(1024)
        .max(4 * 1024 * 1024 * 1024 - 1)
        .optional(),
    })
    .optional(),
});

export type CoordinatorConfig = {
  readonly name: string;
  readonly listen: string;
  readonly dataDir: string;
  readonly certs: { readonly ca: string; readonly cert: string; readonly key: string };
  readonly admins: readonly string[];
  readonly parties: readonly string[] | undefined;
  readonly heartbeatIntervalMs: number;
  readonly peerGraceMs: number;
  readonly portFile: string | undefined;
  readonly maxChunkBytes: number;
  readonly maxMessageBytes: number;
};

export async function loadCoordinatorConfig(file: string): Promise<CoordinatorConfig> {
  const raw = await loadConfigFile(file, coordinatorConfigSchema);
  const base = dirname(resolve(file));
  const at = (p: string): string => resolve(base, p);
  const c = raw.coordinator;
  return Object.freeze({
    name: c.name ?? 'coordinator',
    listen: c.listen ?? '0.0.0.0:7443',
    dataDir: at(c.dataDir),
    certs: Object.freeze({ ca: at(c.certs.ca), cert: at(c.certs.cert), key: at(c.certs.key) }),
    admins: c.admins,
    parties: c.parties,
    heartbeatIntervalMs: c.heartbeatIntervalMs ?? 5000,
    peerGraceMs: c.peerGraceMs ?? 60_000,
    portFile: c.portFile === undefined ? undefined : at(c.portFile),
    maxChunkBytes: raw.limits?.maxChunkBytes ?? 4 * 1024 * 1024,
    maxMessageBytes: raw.limits?.maxMessageBytes ?? 1024 * 1024 * 1024,
  });
}
