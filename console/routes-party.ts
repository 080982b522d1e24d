/**
 * The party node's view: its datasets (loaded and checked as a job would),
 * its jobs as the coordinator shows them to this node's certificate, live
 * progress pushed from the coordinator's WatchJob stream to the page as
 * server-sent events, each job's report (built from the guest's model part
 * exactly as `tandem job report` builds it), its exported models and its
 * running scoring endpoints with their metrics (serving/running.ts), and the
 * job form — offered only when this node is an admin at the coordinator.
 *
 * The form's spec is checked here by the function `tandem job submit` meets
 * at the coordinator (jobs/spec.ts: the schema of protocol/job-spec.ts, the
 * model family's own `model:` schema, the cross-field rules), so the form
 * shows the same error, field and fix before anything is sent; then this node's own part is checked as
 * `tandem party-check --job` does (its dataset must exist here). The
 * coordinator checks the rest (registered parties) when the spec is
 * submitted, and its errors are shown as they come.
 */
import { stat } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { parse } from 'yaml';
import { ConfigError, JobError, TandemError } from '../protocol/errors.ts';
import { validateJobSpecText } from '../jobs/spec.ts';
import type { DatasetConfig, PartyConfig } from '../party/config.ts';
import { buildJobReport, type CoordinatorView } from '../report/job-report.ts';
import { coordinatorViewOf, readReportSource } from '../report/files.ts';
import { modelPartFile } from '../models/model-part.ts';
import { renderJobReportHtml, REPORT_CSP } from '../report/html.ts';
import { coordinatorName } from '../serving/model-bundle.ts';
import { runningEndpoints, scrapeEndpoint } from '../serving/running.ts';
import { FINAL, type JobStatus } from '../runtime/admin-client.ts';
import { inspectDataset, type DatasetSchema } from './dataset-schema.ts';
import { findExportedModels } from './models.ts';
import { errorBody, jobParams, openEventStream, specBody, type ConsoleRoute, type RouteContext } from './http.ts';

/** A job as the pages show it, with this node's part in it. */
export type JobView = {
  readonly jobId: string;
  readonly name: string;
  readonly kind: string;
  readonly stage: string;
  readonly phase: string;
  readonly parties: readonly string[];
  readonly epoch: number;
  readonly maxEpochs: number;
  readonly loss: number;
  readonly message: string;
  readonly createdAtMs: number;
  readonly updatedAtMs: number;
  /** This node's role, from the spec; empty when the spec does not name it. */
  readonly role: string;
  /** Whether this node holds the job's report (it is the guest and has the model part). */
  readonly report: boolean;
};

export function partyRoutes(ctx: RouteContext, config: PartyConfig): ConsoleRoute[] {
  const dataDir = config.node.dataDir;
  const me = config.node.name;
  const schemas = new Map<string, { key: string; schema: Promise<DatasetSchema> }>();

  const view = (s: JobStatus): JobView => {
    let role = '';
    try {
      const spec = parse(s.specYaml) as { parties?: { name?: unknown; role?: unknown }[] } | null;
      const named = spec?.parties?.find((p) => p.name === me)?.role;
      if (typeof named === 'string') role = named;
    } catch {
      // A spec the coordinator accepted is valid YAML; without it the role stays unknown.
    }
    return {
      jobId: s.jobId,
      name: s.name,
      kind: s.kind,
      stage: s.stage,
      phase: s.phase,
      parties: s.parties,
      epoch: s.epoch,
      maxEpochs: s.maxEpochs,
      loss: s.loss,
      message: s.message,
      createdAtMs: Number(s.createdAtMs),
      updatedAtMs: Number(s.updatedAtMs),
      role,
      report: role === 'guest' && existsSync(modelPartFile(dataDir, s.jobId)),
    };
  };

  /** The dataset's schema, computed once per version of its file. */
  const schemaOf = async (name: string): Promise<DatasetSchema> => {
    const dataset = config.datasets[name];
    if (dataset === undefined) throw new TandemError('ARGUMENT_INVALID', `${config.file} has no dataset "${name}"`);
    const s = await stat(dataset.file).catch(() => undefined);
    const key = `${s?.mtimeMs ?? 0}:${s?.size ?? 0}`;
    let cached = schemas.get(name);
    if (cached?.key !== key) {
      cached = { key, schema: inspectDataset(dataset) };
      schemas.set(name, cached);
      cached.schema.catch(() => schemas.delete(name));
    }
    return cached.schema;
  };

  const submission = async (): Promise<{ allowed: boolean; reason: string; coordinator: string }> => {
    try {
      const f = await (await ctx.node.admin()).describeFederation(1);
      return f.callerIsAdmin
        ? { allowed: true, reason: `${me} is an admin at ${f.coordinator}`, coordinator: f.coordinator }
        : {
            allowed: false,
            reason: `${me} is not an admin at ${f.coordinator}: only the names in its config's admins may submit jobs. Ask the coordinator's operator, or submit from an admin's node`,
            coordinator: f.coordinator,
          };
    } catch (error) {
      return {
        allowed: false,
        reason: `the coordinator cannot be asked: ${errorBody(error).error.message}`,
        coordinator: '',
      };
    }
  };

  return [
    {
      method: 'GET',
      url: '/api/datasets',
      handler: () => ({
        node: me,
        datasets: Object.values(config.datasets).map((d) => ({
          name: d.name,
          file: d.file,
          ids: d.id.kind === 'column' ? `column "${d.id.column}"` : 'row numbers',
          label: d.label === undefined ? null : `${d.label.column} (${d.label.type})`,
          features: typeof d.features === 'string' ? d.features : `${d.features.length} listed`,
          missingPolicy: d.missing.policy,
        })),
      }),
    },
    {
      method: 'GET',
      url: '/api/datasets/:name',
      schema: {
        params: { type: 'object', required: ['name'], properties: { name: { type: 'string', maxLength: 63 } } },
      },
      handler: (request) => schemaOf((request.params as { name: string }).name),
    },
    {
      method: 'GET',
      url: '/api/jobs',
      handler: async () => ({ jobs: (await (await ctx.node.admin()).list(100)).map(view) }),
    },
    {
      method: 'GET',
      url: '/api/jobs/:id',
      schema: { params: jobParams },
      handler: async (request) => {
        const status = await (await ctx.node.admin()).get((request.params as { id: string }).id);
        return { ...view(status), specYaml: status.specYaml };
      },
    },
    {
      method: 'GET',
      url: '/api/jobs/:id/events',
      schema: { params: jobParams },
      handler: async (request, reply) => {
        const id = (request.params as { id: string }).id;
        const admin = await ctx.node.admin();
        const stream = openEventStream(request, reply);
        void admin
          .watch(id, (s) => stream.send('status', view(s)), stream.signal)
          .then(
            (last) => stream.send('end', { stage: last.stage, final: FINAL.includes(last.stage) }),
            (error: unknown) => stream.send('failure', errorBody(error)),
          )
          .finally(() => stream.close());
      },
    },
    {
      method: 'GET',
      url: '/api/jobs/:id/report',
      schema: { params: jobParams },
      handler: async (request, reply) => {
        const id = (request.params as { id: string }).id;
        const source = await readReportSource(dataDir, id);
        if (source.role !== 'guest')
          throw new JobError(
            'JOB_NOT_PARTICIPANT',
            `${me} is a host in job ${id}; its report is at the guest, which holds the evaluation results`,
          );
        let coordinator: CoordinatorView;
        try {
          coordinator = coordinatorViewOf(await (await ctx.node.admin()).get(id));
        } catch (error) {
          coordinator = { reached: false, reason: errorBody(error).error.message };
        }
        // The report's own policy (its stylesheet by hash, nothing else), framed only by the console.
        return reply
          .header('content-security-policy', `${REPORT_CSP}; frame-ancestors 'self'`)
          .header('x-frame-options', 'SAMEORIGIN')
          .type('text/html; charset=utf-8')
          .send(renderJobReportHtml(buildJobReport(source, { coordinator })));
      },
    },
    {
      method: 'GET',
      url: '/api/models',
      handler: async () => ({
        dataDir,
        models: await findExportedModels({
          dataDir,
          caPem: ctx.node.identity.caPem,
          party: me,
          coordinator: coordinatorName(config),
        }),
      }),
    },
    {
      method: 'GET',
      url: '/api/endpoints',
      handler: async () => ({
        endpoints: await Promise.all(
          (await runningEndpoints(dataDir)).map(async (e) => {
            try {
              return { ...e, metrics: await scrapeEndpoint(e, ctx.node.identity), error: null };
            } catch (error) {
              return { ...e, metrics: null, error: (error as Error).message };
            }
          }),
        ),
      }),
    },
    {
      method: 'GET',
      url: '/api/submit',
      handler: async () => ({ ...(await submission()), node: me, datasets: Object.keys(config.datasets) }),
    },
    {
      method: 'POST',
      url: '/api/jobs/check',
      schema: { body: specBody },
      handler: (request) => ({
        ok: true,
        spec: checkJobSpec((request.body as { specYaml: string }).specYaml, me, config.datasets),
      }),
    },
    {
      method: 'POST',
      url: '/api/jobs',
      schema: { body: specBody },
      handler: async (request) => {
        const { specYaml } = request.body as { specYaml: string };
        checkJobSpec(specYaml, me, config.datasets);
        const job = await (await ctx.node.admin()).submitText(specYaml, FORM_SPEC);
        ctx.log.info({ job: job.jobId }, 'job submitted from the console');
        return view(job);
      },
    },
    {
      method: 'POST',
      url: '/api/jobs/:id/cancel',
      schema: { params: jobParams },
      handler: async (request) => view(await (await ctx.node.admin()).cancel((request.params as { id: string }).id)),
    },
  ];
}

/** How the form's spec is named in errors (a job spec travels as text, not as a file). */
export const FORM_SPEC = 'job spec (console form)';

/** What a checked spec says, for the form's confirmation. */
export type CheckedSpec = {
  readonly name: string;
  readonly kind: string;
  readonly parties: readonly { readonly name: string; readonly role: string; readonly dataset: string }[];
};

/**
 * Checks a spec as the coordinator will, then this node's part of it.
 * @throws ConfigError JOB_SPEC_INVALID naming the field (and line) and the fix
 */
export function checkJobSpec(
  specYaml: string,
  node: string,
  datasets: Readonly<Record<string, DatasetConfig>>,
): CheckedSpec {
  const input = validateJobSpecText(specYaml, FORM_SPEC);
  const index = input.parties.findIndex((p) => p.name === node);
  const own = input.parties[index];
  if (own !== undefined && datasets[own.dataset] === undefined) {
    const names = Object.keys(datasets);
    throw new ConfigError('JOB_SPEC_INVALID', {
      file: FORM_SPEC,
      field: `parties[${index}].dataset`,
      problem: `"${own.dataset}" is not a dataset of ${node} (its config defines ${names.join(', ') || 'none'})`,
      fix: names.length > 0 ? `name one of ${node}'s datasets` : `add a dataset to ${node}'s node config`,
    });
  }
  return {
    name: input.name,
    kind: input.kind,
    parties: input.parties.map((p) => ({ name: p.name, role: p.role, dataset: p.dataset })),
  };
}
