/** `tandem certs init`: a development CA and node certificates. */
import { relative } from 'node:path';
import type { CommandModule } from 'yargs';
import { initCertificates } from '../../runtime/certs.ts';
import { table } from '../render.ts';

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
  values.flatMap((v) => String(v).split(',')).map((v) => v.trim()).filter((v) => v !== '');

const PRODUCTION_NOTE = [
  'These are DEVELOPMENT certificates. ca.key can mint identities for this federation:',
  'keep it off the nodes, and give each node only ca.crt, <node>.crt and <node>.key.',
  'For production, bring your own CA: each node needs ca.crt (the CA), <node>.crt and',
  '<node>.key (ECDSA P-256, PKCS#8), signed directly by that CA, with CN = the node name.',
].join('\n');

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
            .option('parties', { type: 'string', array: true, demandOption: true, coerce: list, describe: 'party node names (comma list or repeated); each becomes a certificate CN' })
            .option('out', { type: 'string', default: './certs', describe: 'directory to write the PEM files to' })
            .option('coordinator', { type: 'string', default: 'coordinator', describe: "the coordinator's node name" })
            .option('extra', { type: 'string', array: true, default: [], coerce: list, describe: 'more client identities, e.g. an admin who submits jobs' })
            .option('hosts', { type: 'string', array: true, default: ['localhost', '127.0.0.1'], coerce: list, describe: "DNS names and IPs the coordinator is reached at (SANs on its certificate)" })
            .option('days', { type: 'number', default: 365, describe: 'validity in days' })
            .option('force', { type: 'boolean', default: false, describe: 'overwrite existing files' })
            .example('$0 certs init --parties brand,partner --extra admin --out ./certs', 'CA, coordinator, brand, partner and admin in ./certs')
            .example('$0 certs init --parties brand,partner --hosts localhost,127.0.0.1,coord.example.com', 'also valid when the coordinator is dialled as coord.example.com')
            .epilogue(PRODUCTION_NOTE),
        handler: async (args) => {
          const files = await initCertificates({
            outDir: args.out,
            parties: args.parties,
            coordinator: args.coordinator,
            extraNames: args.extra,
            hosts: args.hosts,
            validityDays: args.days,
            force: args.force,
          });
          const rows = files.map((f) => [f.node, relative(process.cwd(), f.path) || f.path, f.kind, f.mode.toString(8).padStart(4, '0')]);
          const until = new Date(Date.now() + args.days * 86_400_000).toISOString().slice(0, 10);
          process.stdout.write(`Wrote ${files.length} files, valid until ${until}:\n\n${table(['node', 'file', 'contents', 'mode'], rows)}\n\n${PRODUCTION_NOTE}\n`);
        },
      })
      .demandCommand(1, 'Name a certs command: init.'),
  handler: () => undefined,
};
