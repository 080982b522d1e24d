/* global FormData, location */
// The job form: fields that write a job spec's YAML, the YAML itself (which
// can be edited), and two buttons. "Check" validates it on the server with
// the schema and rules `tandem job submit` meets; "Submit" sends it to the
// coordinator with this node's certificate. Offered only to an admin node.
import { api, errorBanner, fill, h, show } from './ui.js';

const KINDS = [
  ['hetero-lr', "hetero-lr — a binary model on both parties' features"],
  ['cold-start', 'cold-start — which class (segment) a member falls in'],
  ['lookalike', "lookalike — expand a seed list into the host's pool"],
  ['reach', 'reach — only the size of the overlap'],
];

/** The spec as YAML from the form's fields. JSON strings are valid YAML scalars, so free text is quoted safely. */
export function specYaml(f) {
  const lines = [
    `name: ${JSON.stringify(f.name)}`,
    `kind: ${f.kind}`,
    'parties:',
    `  - { name: ${JSON.stringify(f.me)}, role: ${f.role}, dataset: ${JSON.stringify(f.dataset)} }`,
    `  - { name: ${JSON.stringify(f.partner)}, role: ${f.role === 'guest' ? 'host' : 'guest'}, dataset: ${JSON.stringify(f.partnerDataset)} }`,
    `alignment: { psi: ${f.psi} }`,
  ];
  if (f.kind !== 'reach') lines.push(`training: { maxEpochs: ${Number(f.maxEpochs) || 1} }`);
  if (f.kind === 'lookalike') lines.push('lookalike: { decoyRatio: 1, audiencePercent: 5 }');
  lines.push('seed: 42');
  return `${lines.join('\n')}\n`;
}

export async function submitView() {
  const info = await api('/api/submit');
  if (!info.allowed) {
    show(
      h('h1', null, 'New job'),
      h('div', { class: 'banner warn', id: 'not-admin' }, h('b', null, 'This node cannot submit jobs'), info.reason),
      h(
        'p',
        { class: 'muted' },
        "Jobs are submitted by the names listed in the coordinator config's ",
        h('code', null, 'admins'),
        '. This console still follows every job this node is a party to.',
      ),
    );
    return;
  }
  const field = (label, control) => h('label', null, label, control);
  const input = (name, value, extra = {}) => h('input', { name, value, ...extra });
  const select = (name, options, value) =>
    h(
      'select',
      { name },
      options.map(([v, text]) => h('option', { value: v, selected: v === value }, text)),
    );
  const form = h(
    'form',
    { class: 'spec', id: 'spec-form' },
    field('Job name', input('name', `${info.node}-job`, { required: true, maxlength: 100 })),
    field('Kind', select('kind', KINDS, 'hetero-lr')),
    field(
      `${info.node}'s role`,
      select(
        'role',
        [
          ['guest', 'guest (holds the labels)'],
          ['host', 'host'],
        ],
        'guest',
      ),
    ),
    field(
      `${info.node}'s dataset`,
      select(
        'dataset',
        info.datasets.map((d) => [d, d]),
        info.datasets[0],
      ),
    ),
    field('Partner node', input('partner', 'partner', { pattern: '[a-z][a-z0-9-]{0,62}' })),
    field("Partner's dataset", input('partnerDataset', info.datasets[0] ?? '')),
    field('Max epochs', input('maxEpochs', '20', { type: 'number', min: 1, max: 10000 })),
    field(
      'Id matching (PSI)',
      select(
        'psi',
        [
          ['ecdh', 'ECDH between the parties'],
          ['coordinator', 'through the coordinator (faster)'],
        ],
        'ecdh',
      ),
    ),
  );
  const yaml = h('textarea', { class: 'yaml', name: 'spec', spellcheck: 'false', 'aria-label': 'job spec (YAML)' });
  const result = h('div', { id: 'result' });
  const fields = () => ({ me: info.node, ...Object.fromEntries(new FormData(form)) });
  const regenerate = () => {
    yaml.value = specYaml(fields());
    yaml.classList.remove('invalid');
  };
  form.addEventListener('input', regenerate);
  form.addEventListener('submit', (e) => e.preventDefault());

  const run = async (path, done) => {
    fill(result, h('p', { class: 'muted' }, 'Checking…'));
    try {
      done(await api(path, { specYaml: yaml.value }));
      yaml.classList.remove('invalid');
    } catch (error) {
      yaml.classList.add('invalid');
      fill(result, errorBanner(error, 'The spec was refused'));
    }
  };
  const check = () =>
    run('/api/jobs/check', ({ spec }) =>
      fill(
        result,
        h(
          'div',
          { class: 'banner ok', id: 'spec-ok' },
          h('b', null, 'Valid'),
          `${spec.name} (${spec.kind}): ${spec.parties.map((p) => `${p.name} as ${p.role} with "${p.dataset}"`).join(', ')}. The coordinator checks that the parties are registered when it is submitted.`,
        ),
      ),
    );
  const submit = () =>
    run('/api/jobs', (job) => {
      location.hash = `#/jobs/${job.jobId}`;
    });

  show(
    h('h1', null, 'New job'),
    h(
      'p',
      { class: 'sub' },
      `${info.reason}. The spec below is what is sent; editing a field above rewrites it, and you may edit it by hand (every option of the job spec is allowed).`,
    ),
    form,
    yaml,
    h(
      'div',
      { class: 'actions' },
      h('button', { type: 'button', class: 'secondary', id: 'check', on: { click: check } }, 'Check'),
      h('button', { type: 'button', id: 'submit', on: { click: submit } }, 'Submit to the coordinator'),
    ),
    result,
  );
  regenerate();
}
