// Runs: the table of runs, filtered by user, model, host, zone, status and start date, sorted by
// start, energy, CO2e, water or duration, a page at a time (the API's cursor). The filters live
// in the URL (#/runs?user=…), so a filtered view can be bookmarked and shared. Running runs
// are marked "live"; ticked runs open in Compare.
import { get } from './api.js';
import { h, num, table } from './dom.js';
import * as u from './units.js';

const SORTS = { start: 'Start', energy: 'Energy', co2e: 'CO2e', water: 'Water', duration: 'Duration' };
const FILTERS = ['user', 'model', 'host', 'zone'];

function go(q) {
  for (const [k, v] of [...q]) if (!v) q.delete(k);
  location.hash = `#/runs?${q}`;
}

function dayNs(date, end) {
  if (!date) return undefined;
  const t = Date.parse(`${date}T00:00:00Z`) + (end ? 86400000 : 0);
  return Number.isFinite(t) ? `${t}000000` : undefined;
}

export function statusBadge(r) {
  if (r.status === 'running') return h('span', { class: 'badge live', title: 'still running: figures grow' }, '● live');
  if (r.status === 'stalled') return h('span', { class: 'badge flag' }, '⚠ stalled');
  return h('span', { class: 'badge' }, r.exit === 0 || r.exit === undefined ? 'finished' : `exit ${r.exit}`);
}

function filterForm(q) {
  const field = (k) => h('label', {}, k, h('input', { name: k, value: q.get(k) || '', type: 'search' }));
  const status = h('select', { name: 'status' }, ['', 'running', 'finished', 'stalled'].map((s) =>
    h('option', { value: s, selected: q.get('status') === s }, s || 'any')));
  const sort = h('select', { name: 'sort' }, Object.entries(SORTS).map(([k, l]) =>
    h('option', { value: k, selected: (q.get('sort') || 'start') === k }, l)));
  const form = h('form', { class: 'filters', role: 'search' },
    FILTERS.map(field), h('label', {}, 'status', status),
    h('label', {}, 'started from', h('input', { name: 'from', type: 'date', value: q.get('from') || '' })),
    h('label', {}, 'started until', h('input', { name: 'to', type: 'date', value: q.get('to') || '' })),
    h('label', {}, 'sort by (largest first)', sort), h('button', { type: 'submit' }, 'Apply'));
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    go(new URLSearchParams(new FormData(form)));
  });
  return form;
}

function sortHead(q, key) {
  const on = (q.get('sort') || 'start') === key;
  const b = h('button', { type: 'button', class: 'sort', onclick: () => { q.set('sort', key); q.delete('cursor'); go(q); } }, SORTS[key]);
  return { label: b, num: true, attrs: { 'aria-sort': on ? 'descending' : null, 'data-sort': key } };
}

export default async function runs(main, { query: q }) {
  const page = await get('runs', {
    user: q.get('user'), model: q.get('model'), host: q.get('host'), zone: q.get('zone'), status: q.get('status'),
    from: dayNs(q.get('from')), to: dayNs(q.get('to'), true), sort: q.get('sort'), cursor: q.get('cursor'), limit: 25,
  });
  const picked = new Set();
  const compare = h('button', { type: 'button', disabled: true, onclick: () => { location.hash = `#/compare?ids=${[...picked].join(',')}`; } },
    'Compare ticked runs');
  const tick = (id) => h('input', { type: 'checkbox', 'aria-label': `compare ${id}`, 'data-run': id, onchange: (e) => {
    if (e.target.checked) picked.add(id); else picked.delete(id);
    compare.disabled = picked.size < 2;
  } });
  const rows = page.runs.map((r) => [
    tick(r.id), h('a', { href: `#/run/${encodeURIComponent(r.id)}` }, r.id.slice(0, 12)), statusBadge(r),
    r.user, r.model, r.host, r.zone, u.when(r.start),
    num(u.energy(r.energy_j)), num(u.co2e(r.co2e_g)), num(u.water(r.water_l)), num(u.duration(r.duration_s)),
    r.health.length ? r.health.map((f) => h('span', { class: 'badge flag' }, f)) : '—',
  ]);
  const heads = ['', 'run', 'status', 'user', 'model', 'host', 'zone', 'start',
    sortHead(q, 'energy'), sortHead(q, 'co2e'), sortHead(q, 'water'), sortHead(q, 'duration'), 'health'];
  const next = page.next && h('a', { href: `#/runs?${new URLSearchParams({ ...Object.fromEntries(q), cursor: page.next })}`, rel: 'next' }, 'Next page →');
  const first = q.get('cursor') && h('a', { href: `#/runs?${new URLSearchParams([...q].filter(([k]) => k !== 'cursor'))}` }, '← First page');
  main.replaceChildren(h('h1', {}, 'Runs'), filterForm(q),
    page.runs.length ? table(heads, rows, { id: 'runs-table' }) : h('p', { class: 'muted' }, 'No run matches.'),
    h('div', { class: 'pager' }, first, next, compare));
}
