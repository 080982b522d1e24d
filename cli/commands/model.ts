/** `tandem model export | score-pool`: a party's exported model, and lookalike batch scoring with it. */
import { join, relative } from 'node:path';
import type { CommandModule } from 'yargs';
import { loadPartyConfig } from '../../party/config.ts';
import { loadNodeIdentity } from '../../runtime/certs.ts';
import { exportModel, loadModel } from '../../serving/model-bundle.ts';
import { readModelPart } from '../../serving/model-part.ts';
import { scorePool } from '../../serving/batch-scoring.ts';

type ExportArgs = { config: string; job: string; out: string | undefined; json: boolean };
type ScorePoolArgs = { config: string; model: string; pool: string; out: string; id: string; delimiter: string; top: number | undefined; json: boolean };

/** Writes this node's part of a finished job as a signed model bundle. */
export async function runModelExport(args: { config: string; job: string; out?: string | undefined }): Promise<{ dir: string; files: readonly string[]; role: string; jobId: string }> {
  const config = await loadPartyConfig(args.config);
  const identity = await loadNodeIdentity(config.node.certs);
  const part = await readModelPart(config.node.dataDir, args.job);
  const outDir = args.out ?? join(config.node.dataDir, 'jobs', args.job, 'export');
  const { dir, files, manifest } = await exportModel({ part, identity, outDir });
  return { dir, files, role: manifest.role, jobId: manifest.jobId };
}

export const modelCommand: CommandModule<object, object> = {
  command: 'model <command>',
  describe: 'Export a trained model part, and batch-score a pool with it',
  builder: (y) =>
    y
      .command<ExportArgs>({
        command: 'export',
        describe: "Write this node's part of a finished job as a signed bundle (TF.js LayersModel, preprocessing, manifest)",
        builder: (b) =>
          b
            .option('config', { type: 'string', demandOption: true, describe: "this party node's YAML config" })
            .option('job', { type: 'string', demandOption: true, describe: 'the job id (see `tandem job list`)' })
            .option('out', { type: 'string', describe: 'output directory [default: <dataDir>/jobs/<job>/export]' })
            .option('json', { type: 'boolean', default: false, describe: 'print JSON for machines' })
            .example('$0 model export --config examples/default-credit/brand.yaml --job job-1a2b3c --out models/brand', ''),
        handler: async (args) => {
          const result = await runModelExport(args);
          process.stdout.write(args.json ? `${JSON.stringify(result)}\n` : `exported ${result.role} part of ${result.jobId} to ${relative(process.cwd(), result.dir) || '.'}: ${result.files.join(', ')}\n`);
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
          const model = await loadModel(args.model, { caPem: identity.caPem, party: identity.name });
          const result = await scorePool({ model, poolFile: args.pool, outFile: args.out, idColumn: args.id, delimiter: args.delimiter, top: args.top });
          process.stdout.write(args.json ? `${JSON.stringify(result)}\n` : `scored ${result.rows} rows in ${result.seconds.toFixed(1)} s (${Math.round(result.rowsPerSecond)} rows/s); wrote the best ${result.written} to ${args.out}\n`);
        },
      })
      .demandCommand(1, 'Name a model command: export or score-pool.'),
  handler: () => undefined,
};
