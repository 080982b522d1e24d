// The auditor's pages: the audit logs given to the console and the jobs in
// them; for one job, `audit verify` run on the server (chains, signatures,
// cross-matches), the verdict per party and the ε a private job spent, and
// the records browsed by protocol step with what each step carries.
import { api, chip, errorBanner, fill, fmtBytes, fmtNumber, fmtTime, h, show, table } from './ui.js';

export async function auditView() {
  const a = await api('/api/audit');
  if (a.logs.length === 0) {
    show(
      h('h1', null, 'Audit'),
      h(
        'div',
        { class: 'banner info' },
        h('b', null, 'No audit logs given'),
        'Start the console with ',
        h('code', null, '--audit-logs <dataDir>/audit …'),
        " (one log per node: the coordinator's and each party's) to verify them here.",
      ),
    );
    return;
  }
  show(
    h('h1', null, 'Audit'),
    h(
      'p',
      { class: 'sub' },
      'Every message a node sent or received, in its signed, hash-chained log. Pick a job to verify the logs and read what crossed between the nodes.',
    ),
    h('h2', null, 'Logs'),
    table(
      ['file', 'node', 'records'],
      a.logs.map((l) => [h('code', null, l.file), l.node ?? '—', fmtNumber(l.records)]),
      { numeric: ['records'] },
    ),
    h(
      'p',
      { class: 'small muted' },
      'Signatures are checked against ',
      h('code', null, a.ca),
      " and the nodes' certificates in ",
      h('code', null, a.certsDir),
      '.',
    ),
    h('h2', null, 'Jobs'),
    table(
      ['job', 'records', 'nodes', 'first record', 'last record'],
      a.jobs.map((j) => [
        h('a', { href: `#/audit/${encodeURIComponent(j.job)}`, class: 'mono' }, j.job),
        fmtNumber(j.records),
        j.nodes.join(', '),
        fmtTime(j.firstTime),
        fmtTime(j.lastTime),
      ]),
      { numeric: ['records'], rowProps: (i) => ({ data: { job: a.jobs[i].job } }) },
    ),
  );
}

function verdicts(result) {
  const v = result.verification;
  const r = result.report;
  const budget = r.privacyBudget;
  return [
    v.ok
      ? h(
          'div',
          { class: 'banner ok', id: 'verdict', data: { ok: true } },
          h('b', null, 'Verified'),
          r.verification.text,
        )
      : h(
          'div',
          { class: 'banner bad', id: 'verdict', data: { ok: false } },
          h('b', null, `${v.findings.length} problem${v.findings.length === 1 ? '' : 's'} found`),
          h(
            'ul',
            null,
            v.findings.map((f) => h('li', null, h('code', null, f.problem), ' ', f.message)),
          ),
        ),
    v.notes.length === 0
      ? null
      : h(
          'details',
          null,
          h('summary', null, `${v.notes.length} note(s) that do not fail verification`),
          h(
            'ul',
            null,
            v.notes.map((f) => h('li', { class: 'small' }, f.message)),
          ),
        ),
    h('h2', null, 'What left each party'),
    table(
      ['party', 'role', 'from', 'messages', 'bytes', 'verdict'],
      r.parties.map((p) => [
        h('b', null, p.party),
        p.role,
        p.source,
        fmtNumber(p.messages),
        fmtBytes(p.bytes),
        h(
          'div',
          null,
          chip(
            p.verdict.noRowLevelPlaintext ? 'no row-level plaintext' : 'look closer',
            p.verdict.noRowLevelPlaintext ? 'ok' : 'bad',
          ),
          h('div', { class: 'small' }, p.verdict.text),
          p.verdict.concerns.map((c) => h('div', { class: 'small' }, '⚠ ', c)),
        ),
      ]),
      {
        numeric: ['messages', 'bytes'],
        rowProps: (i) => ({ data: { party: r.parties[i].party, clean: r.parties[i].verdict.noRowLevelPlaintext } }),
      },
    ),
    h('h2', null, 'Privacy budget'),
    h(
      'div',
      {
        class: `banner ${budget.enabled ? (budget.concerns.length > 0 ? 'warn' : 'info') : 'info'}`,
        id: 'epsilon',
        data: { epsilon: budget.epsilon ?? 'none' },
      },
      h('b', null, budget.headline),
      budget.text,
      budget.concerns.map((c) => h('div', { class: 'small' }, '⚠ ', c)),
    ),
    h('h2', null, 'Nodes'),
    table(
      ['node', 'role', 'records', 'cross-checked', 'last hash'],
      v.nodes.map((n) => [
        n.node ?? '?',
        n.role,
        fmtNumber(n.records),
        `${n.matched} matched${n.unchecked > 0 ? `, ${n.unchecked} not checkable` : ''}`,
        h('code', { class: 'small' }, (n.lastHash ?? '').slice(0, 16)),
      ]),
      { numeric: ['records'] },
    ),
  ];
}

export async function auditJobView(job) {
  const out = h('div', { id: 'verification' });
  const records = h('div', { id: 'records' });
  const button = h('button', { type: 'button', id: 'verify' }, 'Verify the logs');
  const { steps } = await api(`/api/audit/jobs/${encodeURIComponent(job)}/steps`);

  const verify = async () => {
    button.disabled = true;
    fill(out, h('p', { class: 'muted' }, 'Checking chains, signatures and cross-matches…'));
    try {
      fill(out, ...verdicts(await api(`/api/audit/jobs/${encodeURIComponent(job)}/verify`, {})));
    } catch (error) {
      fill(out, errorBanner(error, 'Verification could not run'));
    } finally {
      button.disabled = false;
    }
  };
  button.addEventListener('click', () => void verify());

  const open = async (step, row) => {
    for (const tr of row.parentElement.children) tr.classList.toggle('sel', tr === row);
    const r = await api(`/api/audit/jobs/${encodeURIComponent(job)}/records?step=${encodeURIComponent(step)}`);
    fill(
      records,
      h(
        'h2',
        null,
        `Records of step `,
        h('code', null, step),
        ` (${r.total}${r.total > r.records.length ? `, first ${r.records.length}` : ''})`,
      ),
      table(
        ['node', 'seq', 'time', 'direction', 'peer', 'round', 'kind', 'bytes', 'sealed', 'record hash'],
        r.records.map((x) => [
          x.node,
          fmtNumber(x.seq),
          fmtTime(x.time),
          x.direction,
          x.peer,
          x.round,
          x.kind,
          fmtBytes(x.bytes),
          x.sealed ? 'sealed' : '—',
          h(
            'div',
            null,
            h('code', { class: 'small', title: x.hash }, x.hash.slice(0, 12)),
            x.claim ? h('div', { class: 'claim mono' }, JSON.stringify(x.claim)) : null,
          ),
        ]),
        { numeric: ['seq', 'bytes'], rowProps: (i) => ({ data: { seq: r.records[i].seq, node: r.records[i].node } }) },
      ),
    );
  };

  show(
    h('p', { class: 'small' }, h('a', { href: '#/audit' }, '← Audit')),
    h('h1', null, 'Audit of ', h('span', { class: 'mono' }, job)),
    h(
      'p',
      { class: 'sub' },
      'Verification reads every log given to the console; the verdicts and ε are about this job.',
    ),
    h('div', { class: 'actions' }, button),
    out,
    h('h2', null, 'Steps'),
    h(
      'p',
      { class: 'small muted' },
      'Every protocol step the logs record for this job, with what it carries (from the message catalog). Open one to see its records.',
    ),
    table(
      ['step', 'what it carries', 'kind', 'records', 'bytes', 'sealed', 'nodes'],
      steps.map((s) => [
        h('code', null, s.step),
        h('div', { class: 'meaning' }, s.meaning),
        s.kinds.join(', '),
        fmtNumber(s.records),
        fmtBytes(s.bytes),
        fmtNumber(s.sealed),
        s.nodes.join(', '),
      ]),
      {
        numeric: ['records', 'bytes', 'sealed'],
        rowProps: (i) => ({
          class: 'click',
          data: { step: steps[i].step },
          on: { click: (e) => void open(steps[i].step, e.currentTarget) },
        }),
      },
    ),
    records,
  );
}
