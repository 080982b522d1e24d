/**
 * What a console knows about the node it stands next to: the node's config
 * (a party node's or the coordinator's, told apart by their top-level key),
 * its verified identity (whose certificate the console serves and dials the
 * coordinator with), and one admin client to the coordinator, made on first
 * use and kept, so that the console starts and serves its pages even while
 * the coordinator is down.
 */
import { readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { parse } from 'yaml';
import { ConfigError } from '../protocol/errors.ts';
import { loadPartyConfig, type PartyConfig } from '../party/config.ts';
import { loadCoordinatorConfig, type CoordinatorConfig } from '../coordinator/config.ts';
import { loadNodeIdentity, type NodeIdentity } from '../runtime/certs.ts';
import { AdminClient, type ClientFlags } from '../runtime/admin-client.ts';

export type NodeContext = (
  | { readonly kind: 'party'; readonly config: PartyConfig }
  | { readonly kind: 'coordinator'; readonly config: CoordinatorConfig }
) & {
  readonly file: string;
  readonly name: string;
  readonly identity: NodeIdentity;
  /** The federation CA certificate's file. */
  readonly caFile: string;
  /** Where the federation's node certificates are, for checking audit logs: the directory of this node's certificate. */
  readonly certsDir: string;
  /** The coordinator's admin API with this node's certificate. */
  admin(): Promise<AdminClient>;
  close(): void;
};

export type NodeContextOptions = {
  /** A party node's or the coordinator's YAML config. */
  readonly config: string;
  /** With a coordinator config: where to dial it. @default its portFile's port, else its listen address (0.0.0.0 dialled as 127.0.0.1) */
  readonly coordinatorAddress?: string | undefined;
};

/**
 * Loads the config and the identity it names.
 * @throws ConfigError CONFIG_NOT_FOUND / CONFIG_INVALID as the node itself would at start, or when the file is neither kind of config
 */
export async function loadNodeContext(options: NodeContextOptions): Promise<NodeContext> {
  const file = options.config;
  const text = await readFile(file, 'utf8').catch((error: unknown) => {
    throw new ConfigError(
      'CONFIG_NOT_FOUND',
      {
        file,
        field: '',
        problem: `cannot be read (${(error as NodeJS.ErrnoException).code ?? String(error)})`,
        fix: 'pass the node config the party or coordinator starts with (--config)',
      },
      { cause: error },
    );
  });
  let top: unknown;
  try {
    top = parse(text);
  } catch {
    top = undefined; // the loader below reports the syntax error with its line
  }
  const isCoordinator = typeof top === 'object' && top !== null && 'coordinator' in top && !('node' in top);
  const node = isCoordinator
    ? ({ kind: 'coordinator', config: await loadCoordinatorConfig(file) } as const)
    : ({ kind: 'party', config: await loadPartyConfig(file) } as const);
  const certs = node.kind === 'party' ? node.config.node.certs : node.config.certs;
  const name = node.kind === 'party' ? node.config.node.name : node.config.name;
  const identity = await loadNodeIdentity(certs);
  if (identity.name !== name) {
    const field = node.kind === 'party' ? 'node.name' : 'coordinator.name';
    throw new ConfigError('CONFIG_INVALID', {
      file,
      field,
      problem: `is "${name}" but the certificate is for "${identity.name}"`,
      fix: `set ${field}: ${identity.name}`,
    });
  }
  let client: Promise<AdminClient> | undefined;
  const flags = async (): Promise<ClientFlags> => {
    if (node.kind === 'party') return { config: file };
    return {
      coordinator: options.coordinatorAddress ?? (await coordinatorAddress(node.config)),
      ...node.config.certs,
      coordinatorName: node.config.name,
    };
  };
  return {
    ...node,
    file,
    name,
    identity,
    caFile: certs.ca,
    certsDir: dirname(certs.cert),
    admin: () => {
      client ??= flags().then((f) => AdminClient.connect(f));
      // A failed connect is not kept: the next page load tries again.
      client.catch(() => (client = undefined));
      return client;
    },
    close: () =>
      void client?.then(
        (c) => c.close(),
        () => undefined,
      ),
  };
}

/** Where a coordinator listens, as this machine dials it. */
async function coordinatorAddress(config: CoordinatorConfig): Promise<string> {
  const [host = '127.0.0.1', listenPort = '0'] = [
    config.listen.replace(/:\d+$/, ''),
    /:(\d+)$/.exec(config.listen)?.[1],
  ];
  const dial = host === '0.0.0.0' || host === '::' || host === '[::]' ? '127.0.0.1' : host;
  if (config.portFile !== undefined) {
    const port = (await readFile(config.portFile, 'utf8').catch(() => '')).trim();
    if (/^\d+$/.test(port)) return `${dial}:${port}`;
  }
  if (listenPort === '0') {
    throw new ConfigError('CONFIG_INVALID', {
      file: 'coordinator config',
      field: 'coordinator.listen',
      problem: 'picks a free port (0) and no portFile says which one it got',
      fix: 'set coordinator.portFile, or pass tandem console --coordinator host:port',
    });
  }
  return `${dial}:${listenPort}`;
}
