import type { CommandModule } from 'yargs';

/** Every top-level command. Each module decodes flags, calls one domain function, prints. */
export const commands: readonly CommandModule[] = [];
