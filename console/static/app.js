/* global document, window, location */
// The console's shell: asks the server who this node is, builds the
// navigation for its kind (party node or coordinator, plus the auditor's page
// when audit logs were given), and routes `#/page/arg` to a view. Views that
// follow something live (a job, the federation) return a function that
// closes their event stream when the page changes.
import { api, errorBanner, fill, h, show } from './ui.js';
import { datasetsView, datasetView, jobsView, jobView, modelsView, submitView } from './views-party.js';
import { federationView } from './views-coordinator.js';
import { auditView, auditJobView } from './views-audit.js';

const PARTY_PAGES = [
  ['datasets', 'Datasets'],
  ['jobs', 'Jobs'],
  ['models', 'Models'],
  ['submit', 'New job'],
  ['audit', 'Audit'],
];
const COORDINATOR_PAGES = [
  ['federation', 'Federation'],
  ['audit', 'Audit'],
];

const ROUTES = {
  datasets: (arg) => (arg ? datasetView(arg) : datasetsView()),
  jobs: (arg) => (arg ? jobView(arg) : jobsView()),
  models: () => modelsView(),
  submit: () => submitView(),
  federation: () => federationView(),
  audit: (arg) => (arg ? auditJobView(arg) : auditView()),
};

let whoami;
let leave;

async function route() {
  if (typeof leave === 'function') leave();
  leave = undefined;
  const [page = '', arg] = location.hash.replace(/^#\/?/, '').split('/').map(decodeURIComponent);
  const home = whoami.kind === 'party' ? 'jobs' : 'federation';
  const name = ROUTES[page] !== undefined && pages().some(([p]) => p === page) ? page : home;
  for (const a of document.querySelectorAll('#nav a')) a.classList.toggle('here', a.dataset.page === name);
  document.title = `${pages().find(([p]) => p === name)?.[1] ?? 'Tandem'} · ${whoami.node} · Tandem console`;
  try {
    leave = await ROUTES[name](arg);
  } catch (error) {
    show(errorBanner(error, 'This page could not be loaded'));
  }
}

const pages = () => (whoami.kind === 'party' ? PARTY_PAGES : COORDINATOR_PAGES);

async function start() {
  try {
    whoami = await api('/api/whoami');
  } catch (error) {
    show(errorBanner(error, 'The console did not answer'));
    return;
  }
  fill(
    document.getElementById('who'),
    h('b', null, whoami.node),
    whoami.kind === 'party' ? ' · party node' : ' · coordinator',
  );
  fill(
    document.getElementById('nav'),
    pages().map(([page, label]) => h('a', { href: `#/${page}`, data: { page } }, label)),
  );
  document.getElementById('logout').addEventListener('click', async () => {
    await api('/api/logout', {}).catch(() => undefined);
    location.reload();
  });
  window.addEventListener('hashchange', () => void route());
  await route();
}

void start();
