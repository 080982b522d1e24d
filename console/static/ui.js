/* global document, fetch, location */
// Helpers every page uses: building DOM without innerHTML (so no value from a
// log, a dataset or the coordinator is ever parsed as markup), talking to the
// console's API, and formatting numbers and times.

/**
 * h('a', { href: '#/', class: 'x', data: { id: 1 }, on: { click } }, 'text', child)
 * @param {string} tag
 * @param {Record<string, unknown> | null} [props]
 * @param {...unknown} children strings, numbers, nodes, arrays of them; null and false are skipped
 */
export function h(tag, props, ...children) {
  const el =
    tag === 'svg' || props?.svg
      ? document.createElementNS('http://www.w3.org/2000/svg', tag)
      : document.createElement(tag);
  for (const [k, v] of Object.entries(props ?? {})) {
    if (v === undefined || v === null || v === false || k === 'svg') continue;
    if (k === 'on') for (const [event, fn] of Object.entries(v)) el.addEventListener(event, fn);
    else if (k === 'data') for (const [dk, dv] of Object.entries(v)) el.dataset[dk] = String(dv);
    else if (k === 'value' && 'value' in el) el.value = String(v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else el.append(c instanceof globalThis.Node ? c : document.createTextNode(String(c)));
  }
}

/** Replaces an element's content (null, undefined and false children are left out, unlike the DOM's replaceChildren). */
export function fill(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

/** Replaces the page's content. */
export const show = (...children) => fill(document.getElementById('main'), ...children);

/** A failure the API reported (its catalog code and message), thrown by api(). */
export class ApiError extends Error {
  constructor(status, body) {
    super(body?.error?.message ?? `HTTP ${status}`);
    this.status = status;
    this.code = body?.error?.code ?? 'INTERNAL';
    this.field = body?.error?.field;
    this.fix = body?.error?.fix;
  }
}

/** GET (or POST with a JSON body) to the console's API; POSTs carry the header the server's CSRF check wants. */
export async function api(path, body) {
  const init =
    body === undefined
      ? { credentials: 'same-origin' }
      : {
          method: 'POST',
          credentials: 'same-origin',
          headers: { 'content-type': 'application/json', 'x-tandem-console': '1' },
          body: JSON.stringify(body),
        };
  const response = await fetch(path, init);
  const json = await response.json().catch(() => undefined);
  if (response.status === 401) location.reload();
  if (!response.ok) throw new ApiError(response.status, json);
  return json;
}

/** A banner for a failure: the catalog code, the message, and the field and fix when the server named them. */
export function errorBanner(error, title = 'Failed') {
  const e =
    error instanceof ApiError
      ? error
      : new ApiError(0, { error: { code: 'INTERNAL', message: String(error?.message ?? error) } });
  return h(
    'div',
    { class: 'banner bad', role: 'alert', data: { code: e.code } },
    h('b', null, title, ' — ', h('span', { class: 'error-code' }, e.code)),
    h('div', null, e.message),
    e.field ? h('div', { class: 'small' }, 'Field: ', h('code', null, e.field)) : null,
  );
}

export const chip = (text, kind = text) => h('span', { class: `chip ${kind}` }, text);

export function fmtNumber(x, digits = 4) {
  if (x === null || x === undefined || Number.isNaN(x)) return '—';
  if (Number.isInteger(x)) return x.toLocaleString('en');
  return Math.abs(x) >= 1000
    ? x.toLocaleString('en', { maximumFractionDigits: 1 })
    : x.toPrecision(digits).replace(/\.?0+$/, '');
}

export function fmtBytes(n) {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB'];
  let v = n / 1024;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v.toFixed(v < 10 ? 1 : 0)} ${units[u]}`;
}

export function fmtTime(msOrIso) {
  if (!msOrIso) return '—';
  const d = new Date(msOrIso);
  return Number.isNaN(d.getTime()) ? '—' : d.toLocaleString('en-GB', { dateStyle: 'medium', timeStyle: 'medium' });
}

/** A table from column headers and rows of cells; `numeric` names the right-aligned columns. */
export function table(headers, rows, { numeric = [], rowProps } = {}) {
  return h(
    'table',
    null,
    h(
      'thead',
      null,
      h(
        'tr',
        null,
        headers.map((t) => h('th', { class: numeric.includes(t) ? 'n' : null }, t)),
      ),
    ),
    h(
      'tbody',
      null,
      rows.map((cells, i) =>
        h(
          'tr',
          rowProps?.(i) ?? null,
          cells.map((c, j) => h('td', { class: numeric.includes(headers[j]) ? 'n' : null }, c)),
        ),
      ),
    ),
  );
}

/** A small line chart of the loss per epoch (SVG, drawn from numbers only). */
export function sparkline(points) {
  const w = 340;
  const ht = 100;
  const pad = 22;
  const svg = h('svg', {
    class: 'spark',
    viewBox: `0 0 ${w} ${ht}`,
    role: 'img',
    'aria-label': 'training loss per epoch',
    data: { points: points.length },
  });
  if (points.length === 0) return svg;
  const ys = points.map((p) => p.loss);
  const lo = Math.min(...ys);
  const hi = Math.max(...ys);
  const x = (i) => pad + (points.length === 1 ? 0 : (i * (w - 2 * pad)) / (points.length - 1));
  const y = (v) => (hi === lo ? ht / 2 : 8 + ((hi - v) * (ht - 30)) / (hi - lo));
  svg.append(
    h('polyline', { svg: true, points: points.map((p, i) => `${x(i).toFixed(1)},${y(p.loss).toFixed(1)}`).join(' ') }),
  );
  for (const [i, p] of points.entries())
    svg.append(h('circle', { svg: true, cx: x(i).toFixed(1), cy: y(p.loss).toFixed(1), r: 2.5 }));
  svg.append(h('text', { svg: true, x: pad, y: ht - 4 }, `epoch ${points[0].epoch}`));
  svg.append(
    h(
      'text',
      { svg: true, x: w - pad, y: ht - 4, 'text-anchor': 'end' },
      `epoch ${points.at(-1).epoch} · loss ${fmtNumber(points.at(-1).loss)}`,
    ),
  );
  return svg;
}
