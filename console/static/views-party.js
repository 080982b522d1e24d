/* global EventSource, document */
// The party node's pages: datasets and their schemas, jobs (a job's progress
// arrives as server-sent events from the coordinator's watch stream), the
// job's report, exported models and running scoring endpoints with their
// metrics. The job form lives in views-submit.js.
import {
  api,
  ApiError,
  chip,
  errorBanner,
  fill,
  fmtBytes,
  fmtNumber,
  fmtTime,
  h,
  show,
  sparkline,
  table,
} from './ui.js';

export { submitView } from './views-submit.js';

const PHASES = ['setup', 'psi', 'training', 'evaluation', 'done'];

export async function datasetsView() {
  const { node, datasets } = await api('/api/datasets');
  show(
    h('h1', null, 'Datasets'),
    h(
      'p',
      { class: 'sub' },
      `What ${node}'s node config offers to jobs. Open one to load it exactly as a job would, with every check a job runs.`,
    ),
    datasets.length === 0
      ? h('div', { class: 'banner info' }, 'This node config defines no datasets.')
      : h(
          'div',
          { class: 'cards' },
          datasets.map((d) =>
            h(
              'a',
              { class: 'card', href: `#/datasets/${encodeURIComponent(d.name)}`, data: { dataset: d.name } },
              h('h3', null, d.name),
              h(
                'dl',
                null,
                h('dt', null, 'file'),
                h('dd', { class: 'mono' }, d.file),
                h('dt', null, 'ids'),
                h('dd', null, d.ids),
                h('dt', null, 'label'),
                h('dd', null, d.label ?? 'none'),
                h('dt', null, 'features'),
                h('dd', null, d.features),
                h('dt', null, 'missing'),
                h('dd', null, d.missingPolicy),
              ),
            ),
          ),
        ),
  );
}

export async function datasetView(name) {
  show(h('h1', null, name), h('p', { class: 'muted' }, 'Loading the dataset and checking every row, as a job would…'));
  let s;
  try {
    s = await api(`/api/datasets/${encodeURIComponent(name)}`);
  } catch (error) {
    show(
      h('h1', null, name),
      h('p', null, h('a', { href: '#/datasets' }, '← Datasets')),
      errorBanner(error, 'This dataset would fail a job'),
    );
    return;
  }
  const features = s.columns.filter((c) => c.role === 'feature');
  const missing = features.reduce((n, c) => n + (c.missing ?? 0), 0);
  const kpi = (v, l) => h('div', { class: 'kpi' }, h('div', { class: 'v' }, v), h('div', { class: 'l' }, l));
  const maxLabel = Math.max(1, ...(s.labels ?? []).map((l) => l.rows));
  show(
    h('p', { class: 'small' }, h('a', { href: '#/datasets' }, '← Datasets')),
    h('h1', null, s.name),
    h('p', { class: 'sub mono' }, s.file),
    h(
      'div',
      { class: 'banner ok', data: { rows: s.rows } },
      h('b', null, 'Loads cleanly'),
      `Every row passed the checks a job runs (ids ${s.ids}).`,
    ),
    h(
      'div',
      { class: 'kpis' },
      kpi(fmtNumber(s.rows), 'rows'),
      kpi(features.length, 'features'),
      kpi(fmtNumber(missing), 'missing feature cells'),
      kpi(fmtBytes(s.bytes), 'file size'),
      kpi(fmtNumber(s.droppedDuplicates), 'duplicate ids dropped'),
    ),
    s.labels === null
      ? null
      : [
          h('h2', null, 'Label balance'),
          table(
            ['class', 'rows', 'share', ''],
            s.labels.map((l) => [
              h('code', null, l.value),
              fmtNumber(l.rows),
              `${((100 * l.rows) / Math.max(1, s.rows)).toFixed(1)} %`,
              h('span', { class: 'bar', data: { width: Math.round((100 * l.rows) / maxLabel) } }),
            ]),
            { numeric: ['rows', 'share'] },
          ),
        ],
    h('h2', null, 'Columns'),
    h(
      'div',
      { id: 'schema' },
      table(
        ['column', 'role', 'type', 'missing', 'distinct', 'min', 'mean', 'max'],
        s.columns.map((c) => [
          h('code', null, c.name),
          c.role,
          c.type,
          c.missing === null ? '—' : fmtNumber(c.missing),
          c.distinct === null ? '—' : fmtNumber(c.distinct),
          fmtNumber(c.min),
          fmtNumber(c.mean),
          fmtNumber(c.max),
        ]),
        { numeric: ['missing', 'distinct', 'min', 'mean', 'max'] },
      ),
    ),
  );
  for (const bar of document.querySelectorAll('.bar[data-width]'))
    bar.style.width = `${Number(bar.dataset.width) * 2}px`;
}

/** The coordinator counts PSI in steps and training in epochs (across classes for a one-vs-rest model). */
const progressText = (j) => {
  if (j.maxEpochs === 0 || j.epoch === 0) return '';
  return j.phase === 'psi' ? `PSI step ${j.epoch} / ${j.maxEpochs}` : `epoch ${j.epoch} / ${j.maxEpochs}`;
};

export async function jobsView() {
  const { jobs } = await api('/api/jobs');
  show(
    h(
      'div',
      { class: 'row' },
      h('h1', null, 'Jobs'),
      h('span', { class: 'spacer' }),
      h('a', { href: '#/submit' }, 'New job →'),
    ),
    h(
      'p',
      { class: 'sub' },
      'The jobs this node is a party to, as the coordinator reports them. Open one to follow it live.',
    ),
    jobs.length === 0
      ? h('div', { class: 'banner info' }, 'No jobs yet.')
      : table(
          ['job', 'kind', 'stage', 'phase', 'progress', 'this node', 'submitted', 'report'],
          jobs.map((j) => [
            h(
              'div',
              null,
              h('a', { href: `#/jobs/${j.jobId}` }, j.name),
              h('div', { class: 'small muted mono' }, j.jobId),
            ),
            j.kind,
            chip(j.stage),
            j.phase,
            progressText(j),
            j.role || '—',
            fmtTime(j.createdAtMs),
            j.report ? h('a', { href: `#/jobs/${j.jobId}` }, 'open') : '—',
          ]),
          { rowProps: (i) => ({ data: { job: jobs[i].jobId } }) },
        ),
  );
}

export async function jobView(id) {
  let job = await api(`/api/jobs/${encodeURIComponent(id)}`);
  const losses = [];
  let events = 0;
  const head = h('div');
  const live = h('div', { id: 'live' });
  const report = h('div', { id: 'report' });
  const actions = h('div', { class: 'actions' });
  show(h('p', { class: 'small' }, h('a', { href: '#/jobs' }, '← Jobs')), head, live, actions, report);

  const render = () => {
    const at = PHASES.indexOf(job.phase);
    fill(
      head,
      h('h1', null, job.name, ' ', chip(job.stage)),
      h(
        'p',
        { class: 'sub' },
        h('span', { class: 'mono' }, job.jobId),
        ` · ${job.kind} · ${job.parties.join(', ')} · this node is the ${job.role || 'observer'}`,
      ),
    );
    fill(
      live,
      h(
        'ol',
        { class: 'steps' },
        PHASES.map((p, i) =>
          h(
            'li',
            {
              class:
                job.stage === 'failed' && i === at
                  ? 'broke'
                  : i < at || job.stage === 'completed'
                    ? 'done'
                    : i === at
                      ? 'now'
                      : null,
            },
            p,
          ),
        ),
      ),
      h(
        'div',
        {
          id: 'progress',
          data: { stage: job.stage, phase: job.phase, epoch: job.epoch, maxEpochs: job.maxEpochs, events },
        },
        job.maxEpochs > 0 ? h('progress', { max: job.maxEpochs, value: job.epoch }) : null,
        h(
          'div',
          { class: 'row small' },
          h('span', null, progressText(job) || job.phase),
          job.loss > 0 ? h('span', null, `training loss ${fmtNumber(job.loss)}`) : null,
          h('span', { class: 'muted' }, job.message),
        ),
      ),
      losses.length > 0 ? sparkline(losses) : null,
      job.stage === 'failed' ? h('div', { class: 'banner bad' }, h('b', null, 'The job failed'), job.message) : null,
    );
    fill(
      actions,
      job.stage === 'running'
        ? h('button', { class: 'danger', type: 'button', on: { click: cancel } }, 'Cancel job')
        : null,
    );
  };
  const cancel = async () => {
    try {
      job = await api(`/api/jobs/${encodeURIComponent(id)}/cancel`, {});
      render();
    } catch (error) {
      actions.append(errorBanner(error, 'Cancelling was refused'));
    }
  };
  const showReport = () => {
    if (!job.report) {
      fill(
        report,
        job.stage === 'completed'
          ? h(
              'p',
              { class: 'muted' },
              `The report is written at the guest (${job.role === 'host' ? 'not this node' : 'this node has no model part for it'}).`,
            )
          : null,
      );
      return;
    }
    const src = `/api/jobs/${encodeURIComponent(id)}/report`;
    fill(
      report,
      h(
        'div',
        { class: 'row' },
        h('h2', null, 'Report'),
        h('a', { href: src, target: '_blank', rel: 'noopener' }, 'open on its own'),
      ),
      h('iframe', { class: 'report', src, title: `Report of ${job.name}`, sandbox: '' }),
    );
  };
  render();
  showReport();

  // Live progress: the server relays the coordinator's watch stream as events.
  const source = new EventSource(`/api/jobs/${encodeURIComponent(id)}/events`);
  source.addEventListener('status', (e) => {
    job = JSON.parse(e.data);
    events++;
    if (job.loss > 0 && job.epoch > 0 && losses.at(-1)?.epoch !== job.epoch)
      losses.push({ epoch: job.epoch, loss: job.loss });
    render();
  });
  source.addEventListener('end', async () => {
    source.close();
    job = await api(`/api/jobs/${encodeURIComponent(id)}`);
    render();
    showReport();
  });
  source.addEventListener('failure', (e) => {
    source.close();
    live.append(errorBanner(new ApiError(0, JSON.parse(e.data)), 'Following the job stopped'));
  });
  return () => source.close();
}

export async function modelsView() {
  const [{ dataDir, models }, { endpoints }] = await Promise.all([api('/api/models'), api('/api/endpoints')]);
  show(
    h('h1', null, 'Models'),
    h(
      'p',
      { class: 'sub' },
      'Model parts this node exported (',
      h('code', null, 'tandem model export'),
      ') under ',
      h('code', null, dataDir),
      ', each checked as ',
      h('code', null, 'tandem serve'),
      ' would load it.',
    ),
    models.length === 0
      ? h(
          'div',
          { class: 'banner info' },
          'No exported models yet. Export a finished job with ',
          h('code', null, `tandem model export --job <id>`),
          '.',
        )
      : table(
          ['job', 'role', 'features', 'outputs', 'validation', 'exported', 'signed by', 'verified'],
          models.map((m) => [
            h(
              'div',
              null,
              m.jobName || m.jobId,
              h('div', { class: 'small muted mono' }, m.jobId),
              h('div', { class: 'small muted mono' }, m.dir),
            ),
            m.role,
            fmtNumber(m.features),
            m.classes ? `${m.outputs} (${m.classes.join(', ')})` : String(m.outputs),
            Object.entries(m.metrics)
              .slice(0, 4)
              .map(([k, v]) => h('div', { class: 'small' }, `${k} ${fmtNumber(v)}`)),
            fmtTime(m.createdAt),
            `${m.signer}${m.coSigner ? ` + ${m.coSigner}` : ''}`,
            m.verified.ok
              ? chip('verified', 'ok')
              : h('div', null, chip(m.verified.code, 'bad'), h('div', { class: 'small' }, m.verified.message)),
          ]),
          {
            numeric: ['features'],
            rowProps: (i) => ({ data: { model: models[i].dir, verified: models[i].verified.ok } }),
          },
        ),
    h('h2', null, 'Running scoring endpoints'),
    endpointsSection(endpoints),
  );
}

/** The node's running `tandem serve` endpoints, each with what its /metrics says. */
function endpointsSection(endpoints) {
  if (endpoints.length === 0)
    return h(
      'div',
      { class: 'banner info' },
      'No scoring endpoint of this node is running. Start one with ',
      h('code', null, 'tandem serve --model <dir>'),
      '.',
    );
  return table(
    [
      'job',
      'role',
      'ports',
      'since',
      'requests',
      'failed',
      'latency',
      'rows scored',
      'host calls',
      'lookups',
      'memory',
    ],
    endpoints.map((e) => {
      const m = e.metrics;
      const ports = [`public ${e.listen}:${e.port} (${e.auth})`]
        .concat(e.peerPort === null ? [] : [`peer ${e.peerPort}`])
        .concat(e.grpcPort === null ? [] : [`gRPC ${e.grpcPort}`]);
      const job = h('div', null, e.jobName || e.jobId, h('div', { class: 'small muted mono' }, e.jobId));
      const head = [job, e.role, ports.map((p) => h('div', { class: 'small mono' }, p)), fmtTime(e.startedAt)];
      if (m === null)
        return [
          ...head,
          h('div', null, chip('unreachable', 'bad'), h('div', { class: 'small' }, e.error)),
          ...Array.from({ length: 6 }, () => '—'),
        ];
      return [
        ...head,
        Object.entries(m.requests).map(([route, n]) => h('div', { class: 'small' }, `${route} ${fmtNumber(n)}`)),
        m.failed === 0 ? '0' : chip(fmtNumber(m.failed), 'bad'),
        m.latency === null ? '—' : `${m.latency.route}: p50 ≤ ${m.latency.p50Ms} ms, p99 ≤ ${m.latency.p99Ms} ms`,
        e.role === 'guest'
          ? `${fmtNumber(m.rowsScored.complete)} (${fmtNumber(m.rowsScored.fallback)} fallbacks)`
          : '—',
        e.role === 'guest' && Object.keys(m.hostCalls).length > 0
          ? Object.entries(m.hostCalls).map(([o, n]) => h('div', { class: 'small' }, `${o} ${fmtNumber(n)}`))
          : '—',
        e.role === 'guest'
          ? '—'
          : `${fmtNumber(m.lookups.answered)} answered, ${fmtNumber(m.lookups.rateLimited)} rate-limited`,
        m.residentBytes === null ? '—' : fmtBytes(m.residentBytes),
      ];
    }),
    { rowProps: (i) => ({ data: { endpoint: `${endpoints[i].pid}-${endpoints[i].port}`, role: endpoints[i].role } }) },
  );
}
