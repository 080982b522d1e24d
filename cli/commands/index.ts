import type { CommandModule } from 'yargs';
import { coordinatorCommand, partyCommand } from './serve-node.ts';
import { jobCommand } from './job.ts';
import { certsCommand } from './certs.ts';
import { demoCommand } from './demo.ts';
import { auditCommand } from './audit.ts';
import { partyCheckCommand } from './party-check.ts';
import { healthCommand } from './health.ts';
import { modelCommand } from './model.ts';
import { serveCommand } from './serve.ts';
import { dataCommand } from './data.ts';
import { consoleCommand } from './console.ts';

/** Every top-level command. Each module decodes flags, calls one domain function, prints. */
export const commands: readonly CommandModule[] = [
  coordinatorCommand as CommandModule,
  partyCommand as CommandModule,
  jobCommand,
  certsCommand,
  demoCommand as CommandModule,
  auditCommand,
  partyCheckCommand as CommandModule,
  healthCommand as CommandModule,
  modelCommand,
  serveCommand as CommandModule,
  dataCommand,
  consoleCommand as CommandModule,
];
