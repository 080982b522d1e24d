/**
 * `tandem certs init`: a development CA and node certificates; `tandem certs
 * add`: one more identity from that CA. Adding an operator used to mean
 * `init --force`, which replaces the CA and so invalidates every node's
 * certificate and every exported model; `add` leaves the CA alone, and
 * `init` says so when it finds one.
 */
import { existsSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { CommandModule } from 'yargs';
import { TandemError } from '../../protocol/errors.ts';
import { addCertificate, initCertificates, type WrittenFile } from '../../runtime/certificate-authority.ts';
import { table } from '../render.ts';

type AddArgs = { name: string; out: string; hosts: string[]; days: number; force: boolean };

type InitArgs = {
  out: string;
  parties: string[];
  coordinator: string;
  extra: string[];
  hosts: string[];
  days: number;
  force: boolean;
};

/** `--parties a,b` and `--parties a --parties b` both mean [a, b]. */
const list = (values: readonly (string | number)[]): string[] =>
  values
    .flatMap((v) => String(v).split(','))
    .map((v) => v.trim())
    .filter((v) => v !== '');

const PRODUCTION_NOTE = [
  'These are DEVELOPMENT certificates. ca.key can mint identities for this federation:',
  'keep it off the nodes, and give each node only ca.crt, <node>.crt and <node>.key.',
  'For production, bring your own CA: each node needs ca.crt (the CA), <node>.crt and',
  '<node>.key (ECDSA P-256, PKCS#8), signed directly by that CA, with CN = the node name.',
].join('\n');

const REPLACED_CA = (dir: string): string =>
  [
    `Replaced the CA in ${dir}. Every certificate the old CA signed (nodes, admins, operators) and every`,
    'model exported under it no longer verifies: give every node its new files and export the models again.',
  ].join('\n');

function filesTable(files: readonly WrittenFile[]): string {
  return table(
    ['node', 'file', 'contents', 'mode'],
    files.map((f) => [f.node, relative(process.cwd(), f.path) || f.path, f.kind, f.mode.toString(8).padStart(4, '0')]),
  );
}

/** `certs init` on a directory that holds a CA: point at `certs add`, which keeps it. */
function explainExisting(error: unknown, out: string): unknown {
  if (!(error instanceof TandemError) || error.code !== 'CERTS_EXIST' || !existsSync(join(out, 'ca.key'))) return error;
  const files = (error.details['files'] as string[] | undefined) ?? [];
  const listed = files.length > 3 ? `${files.slice(0, 3).join(', ')} and ${files.length - 3} more` : files.join(', ');
  return new TandemError(
    'CERTS_EXIST',
    `${listed} already exist${files.length === 1 ? 's' : ''}, with a CA (ca.key). Fix: to add an identity signed by this CA, run \`tandem certs add <name> --out ${out}\`; for a separate federation, choose another --out directory; --force replaces the CA, after which every certificate it signed and every model exported under it no longer verifies`,
    { details: error.details, cause: error },
  );
}

export const certsCommand: CommandModule<object, object> = {
  command: 'certs <command>',
  describe: 'Make certificates for a development federation',
  builder: (y) =>
    y
      .command<InitArgs>({
        command: 'init',
        describe: 'Create a dev CA plus a key and certificate for the coordinator, every party and any extra client',
        builder: (b) =>
          b
            .option('parties', {
              type: 'string',
              array: true,
              demandOption: true,
              coerce: list,
              describe: 'party node names (comma list or repeated); each becomes a certificate CN',
            })
            .option('out', { type: 'string', default: './certs', describe: 'directory to write the PEM files to' })
            .option('coordinator', { type: 'string', default: 'coordinator', describe: "the coordinator's node name" })
            .option('extra', {
              type: 'string',
              array: true,
              default: [],
              coerce: list,
              describe: 'more client identities, e.g. an admin who submits jobs',
            })
            .option('hosts', {
              type: 'string',
              array: true,
              default: ['localhost', '127.0.0.1'],
              coerce: list,
              describe: 'DNS names and IPs the coordinator is reached at (SANs on its certificate)',
            })
            .option('days', { type: 'number', default: 365, describe: 'validity in days' })
            .option('force', {
              type: 'boolean',
              default: false,
              describe:
                'overwrite existing files, the CA included: every certificate it signed and every model exported under it stop verifying (to add one identity, use `certs add`)',
            })
            .example(
              '$0 certs init --parties brand,partner --extra admin --out ./certs',
              'CA, coordinator, brand, partner and admin in ./certs',
            )
            .example(
              '$0 certs init --parties brand,partner --hosts localhost,127.0.0.1,coord.example.com',
              'also valid when the coordinator is dialled as coord.example.com',
            )
            .epilogue(PRODUCTION_NOTE),
        handler: async (args) => {
          const replacing = args.force && existsSync(join(args.out, 'ca.crt'));
          const files = await initCertificates({
            outDir: args.out,
            parties: args.parties,
            coordinator: args.coordinator,
            extraNames: args.extra,
            hosts: args.hosts,
            validityDays: args.days,
            force: args.force,
          }).catch((error: unknown) => {
            throw explainExisting(error, args.out);
          });
          const until = new Date(Date.now() + args.days * 86_400_000).toISOString().slice(0, 10);
          process.stdout.write(
            `Wrote ${files.length} files, valid until ${until}:\n\n${filesTable(files)}\n\n${replacing ? `${REPLACED_CA(args.out)}\n\n` : ''}${PRODUCTION_NOTE}\n`,
          );
        },
      })
      .command<AddArgs>({
        command: 'add <name>',
        describe:
          'Issue a key and certificate for one more identity (an operator, an admin, a new party) from the CA in --out, keeping the CA',
        builder: (b) =>
          b
            .positional('name', {
              type: 'string',
              demandOption: true,
              describe: 'the node name: the certificate CN and the file names',
            })
            .option('out', {
              type: 'string',
              default: './certs',
              describe: 'the directory certs init wrote (it must hold ca.crt and ca.key)',
            })
            .option('hosts', {
              type: 'string',
              array: true,
              default: [],
              coerce: list,
              describe: 'DNS names and IPs it is reached at, if it serves (SANs)',
            })
            .option('days', { type: 'number', default: 365, describe: "validity in days (never past the CA's)" })
            .option('force', {
              type: 'boolean',
              default: false,
              describe: "replace this name's existing key and certificate (never the CA)",
            })
            .example(
              '$0 certs add operator --out ./certs',
              'an operator who may submit jobs once coordinator.yaml lists it in admins',
            ),
        handler: async (args) => {
          const { files, validUntil } = await addCertificate({
            outDir: args.out,
            name: args.name,
            hosts: args.hosts,
            validityDays: args.days,
            force: args.force,
          });
          process.stdout.write(
            `Wrote ${files.length} files, valid until ${validUntil.toISOString().slice(0, 10)}, signed by ${relative(process.cwd(), join(args.out, 'ca.crt')) || join(args.out, 'ca.crt')} (unchanged):\n\n${filesTable(files)}\n\nGive ${args.name}.key only to ${args.name}. To let it submit jobs, add it to admins in coordinator.yaml; to make it a party, to parties.\n`,
          );
        },
      })
      .demandCommand(1, 'Name a certs command: init or add.'),
  handler: () => undefined,
};
