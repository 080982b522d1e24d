/* global EventSource */
// The coordinator's page (the platform partner): registered parties and
// whether each is connected, the jobs with their phases, and every failure
// with the failing node and its error code. The server pushes the whole
// picture as a server-sent event whenever it changes.
import { ApiError, chip, errorBanner, fill, fmtTime, h, show, table } from './ui.js';

function render(root, f) {
  const connected = f.parties.filter((p) => p.connected).length;
  const failed = f.jobs.filter((j) => j.failure !== null);
  const running = f.jobs.filter((j) => j.stage === 'running').length;
  fill(
    root,
    h('h1', null, 'Federation'),
    h(
      'p',
      { class: 'sub' },
      `${f.coordinator} · ${connected} of ${f.parties.length} parties connected · ${running} job${running === 1 ? '' : 's'} running`,
    ),
    h('h2', null, 'Parties'),
    table(
      ['party', 'connection', 'registered'],
      f.parties.map((p) => [
        h('b', null, p.name),
        h(
          'span',
          null,
          h('span', { class: `dot${p.connected ? ' on' : ''}` }),
          p.connected ? 'connected' : 'not connected',
        ),
        p.registered ? 'in the coordinator config' : 'admitted (the config lists no parties)',
      ]),
      { rowProps: (i) => ({ data: { party: f.parties[i].name, connected: f.parties[i].connected } }) },
    ),
    h('h2', null, 'Failures'),
    failed.length === 0
      ? h('p', { class: 'muted', id: 'no-failures' }, 'No job has failed.')
      : table(
          ['job', 'failing node', 'phase', 'error code', 'what it said'],
          failed.map((j) => [
            h('div', null, j.name, h('div', { class: 'small muted mono' }, j.jobId)),
            j.failure.party ? h('b', null, j.failure.party) : h('span', { class: 'muted' }, 'the coordinator'),
            j.failure.phase,
            j.failure.code ? h('span', { class: 'error-code' }, j.failure.code) : '—',
            j.failure.message,
          ]),
          {
            rowProps: (i) => ({
              data: { failure: failed[i].jobId, party: failed[i].failure.party, code: failed[i].failure.code },
            }),
          },
        ),
    h('h2', null, 'Jobs'),
    f.jobs.length === 0
      ? h('p', { class: 'muted' }, 'No jobs yet.')
      : table(
          ['job', 'kind', 'stage', 'phase', 'progress', 'parties', 'submitted', 'last change'],
          f.jobs.map((j) => [
            h('div', null, j.name, h('div', { class: 'small muted mono' }, j.jobId)),
            j.kind,
            chip(j.stage),
            j.phase,
            j.maxEpochs > 0 && j.epoch > 0 ? `epoch ${j.epoch} / ${j.maxEpochs}` : '—',
            j.parties.join(', '),
            fmtTime(j.createdAtMs),
            fmtTime(j.updatedAtMs),
          ]),
          { rowProps: (i) => ({ data: { job: f.jobs[i].jobId, stage: f.jobs[i].stage, phase: f.jobs[i].phase } }) },
        ),
  );
}

export function federationView() {
  const root = show(h('h1', null, 'Federation'), h('p', { class: 'muted' }, 'Asking the coordinator…'));
  const source = new EventSource('/api/federation/events');
  source.addEventListener('federation', (e) => render(root, JSON.parse(e.data)));
  source.addEventListener('failure', (e) => {
    fill(
      root,
      h('h1', null, 'Federation'),
      errorBanner(new ApiError(0, JSON.parse(e.data)), 'The coordinator did not answer'),
    );
  });
  return () => source.close();
}
