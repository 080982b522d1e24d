/** `tandem model export | score-pool`: a party's exported model, and lookalike batch scoring with it. */
import { join, relative } from 'node:path';
import type { CommandModule } from 'yargs';
import { loadPartyConfig } from '../../party/config.ts';
import { loadNodeIdentity } from '../../runtime/certs.ts';
import { coordinatorName, exportModel, loadModel, type CoSigner } from '../../serving/model-bundle.ts';
import { SIGNATURE_ALGORITHM } from '../../protocol/serving/model-manifest.ts';
import { AdminClient } from '../../runtime/admin-client.ts';
import { readModelPart } from '../../models/lr/part.ts';
import { scorePool } from '../../serving/batch-scoring.ts';

type ExportArgs = { config: string; job: string; out: string | undefined; json: boolean };
type ScorePoolArgs = { config: string; model: string; pool: string; out: string; id: string; delimiter: string; top: number | undefined; json: boolean };

/**
 * Writes this node's part of a finished job as a model bundle signed by this
 * node and co-signed by the coordinator (over mTLS, with this node's
 * certificate), then loads it back as `tandem serve` would.
 */
export async function runModelExport(args: { config: string; job: string; out?: string | undefined }): Promise<{ dir: string; files: readonly string[]; role: string; jobId: string; coordinator: string }> {
  const config = await loadPartyConfig(args.config);
  const identity = await loadNodeIdentity(config.node.certs);
  const part = await readModelPart(config.node.dataDir, args.job);
  const outDir = args.out ?? join(config.node.dataDir, 'jobs', args.job, 'export');
  const admin = await AdminClient.connect({ config: args.config });
  try {
    const coSign: CoSigner = async (manifest) => {
      const r = await admin.signExport(JSON.stringify(manifest), args.job);
      return { name: r.coordinator, certificate: r.certificate, algorithm: SIGNATURE_ALGORITHM, value: Buffer.from(r.signature).toString('base64') };
    };
    const { dir, files, manifest } = await exportModel({ part, identity, outDir, coSign });
    await loadModel(dir, { caPem: identity.caPem, party: identity.name, coordinator: coordinatorName(config) });
    return { dir, files, role: manifest.role, jobId: manifest.jobId, coordinator: manifest.coordinatorSignature?.name ?? '' };
  } finally {
    admin.close();
  }
}

export const modelCommand: CommandModule<object, object> = {
  command: 'model <command>',
  describe: 'Export a trained model part, and batch-score a pool with it',
  builder: (y) =>
    y
      .command<ExportArgs>({
        command: 'export',
        describe: "Write this node's part of a finished job as a bundle (TF.js LayersModel, preprocessing, manifest) signed by this node and co-signed by the coordinator",
        builder: (b) =>
          b
            .option('config', { type: 'string', demandOption: true, describe: "this party node's YAML config" })
            .option('job', { type: 'string', demandOption: true, describe: 'the job id (see `tandem job list`)' })
            .option('out', { type: 'string', describe: 'output directory [default: <dataDir>/jobs/<job>/export]' })
            .option('json', { type: 'boolean', default: false, describe: 'print JSON for machines' })
            .example('$0 model export --config examples/default-credit/brand.yaml --job job-1a2b3c --out models/brand', ''),
        handler: async (args) => {
          const result = await runModelExport(args);
          process.stdout.write(args.json ? `${JSON.stringify(result)}\n` : `exported ${result.role} part of ${result.jobId} to ${relative(process.cwd(), result.dir) || '.'} (co-signed by ${result.coordinator}): ${result.files.join(', ')}\n`);
        },
      })
      .command<ScorePoolArgs>({
        command: 'score-pool',
        describe: "Score every row of a pool file with this party's part (streamed) and write the ranked audience (rank,id,score)",
        builder: (b) =>
          b
            .option('config', { type: 'string', demandOption: true, describe: "this party node's YAML config (its CA verifies the model)" })
            .option('model', { type: 'string', demandOption: true, describe: 'a directory written by `tandem model export`' })
            .option('pool', { type: 'string', demandOption: true, describe: 'CSV (optionally .gz) with an id column and the model\'s input columns' })
            .option('out', { type: 'string', demandOption: true, describe: 'the audience CSV to write' })
            .option('id', { type: 'string', default: 'id', describe: 'the pool file\'s id column' })
            .option('delimiter', { type: 'string', default: ',', describe: 'field separator' })
            .option('top', { type: 'number', describe: 'write only the best N rows [default: all]' })
            .option('json', { type: 'boolean', default: false, describe: 'print JSON for machines' })
            .example('$0 model score-pool --config partner.yaml --model models/partner --pool pool.csv.gz --out audience.csv --top 100000', ''),
        handler: async (args) => {
          const config = await loadPartyConfig(args.config);
          const identity = await loadNodeIdentity(config.node.certs);
          const model = await loadModel(args.model, { caPem: identity.caPem, party: identity.name, coordinator: coordinatorName(config) });
          const result = await scorePool({ model, poolFile: args.pool, outFile: args.out, idColumn: args.id, delimiter: args.delimiter, top: args.top });
          process.stdout.write(args.json ? `${JSON.stringify(result)}\n` : `scored ${result.rows} rows in ${result.seconds.toFixed(1)} s (${Math.round(result.rowsPerSecond)} rows/s); wrote the best ${result.written} to ${args.out}\n`);
        },
      })
      .demandCommand(1, 'Name a model command: export or score-pool.'),
  handler: () => undefined,
};
