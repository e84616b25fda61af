// Aggregates: energy, CO2e and water per user, model, project, host or zone, per day, week or
// month (the last N periods, UTC), from /api/v1/aggregates — one request per period. A host is
// counted once (its agent's series where it has one); per user, model or project the hosts'
// energy no run claims is the "(unattributed)" row, so that every column adds up to the hosts'.
import { get } from './api.js';
import { h, num, table } from './dom.js';
import * as u from './units.js';

const PERIOD_MS = { day: 86400000, week: 7 * 86400000 };
const FMT = { energy_j: u.energy, co2e_g: u.co2e, water_l: u.water };

/** [start, end) of the last n periods in ms, oldest first (months are calendar months, UTC). */
function periods(kind, n) {
  const now = new Date();
  const out = [];
  for (let i = n - 1; i >= 0; i--) {
    if (kind === 'month') {
      const a = Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - i, 1);
      out.push([a, Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - i + 1, 1)]);
    } else {
      const day0 = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate());
      const start = kind === 'week' ? day0 - ((now.getUTCDay() + 6) % 7) * 86400000 : day0;
      out.push([start - i * PERIOD_MS[kind], start - (i - 1) * PERIOD_MS[kind]]);
    }
  }
  return out;
}

const label = (kind, a) => {
  const iso = new Date(a).toISOString();
  return kind === 'month' ? iso.slice(0, 7) : kind === 'week' ? `week of ${iso.slice(0, 10)}` : iso.slice(0, 10);
};

export default async function aggregates(main, { query: q }) {
  const by = q.get('by') || 'user', kind = q.get('per') || 'day', what = q.get('what') || 'energy_j';
  const n = Math.min(Number(q.get('n')) || 7, 31);
  const sel = (name, opts, v) => h('label', {}, name, h('select', { name }, opts.map(([k, l]) => h('option', { value: k, selected: k === v }, l))));
  const form = h('form', { class: 'filters' },
    sel('by', [['user', 'user'], ['model', 'model'], ['project', 'project'], ['host', 'host'], ['zone', 'zone']], by),
    sel('per', [['day', 'day'], ['week', 'week'], ['month', 'month']], kind),
    sel('what', [['energy_j', 'energy'], ['co2e_g', 'CO2e'], ['water_l', 'water']], what),
    h('label', {}, 'periods', h('input', { name: 'n', type: 'number', min: 1, max: 31, value: n })),
    h('button', { type: 'submit' }, 'Show'));
  form.addEventListener('submit', (e) => { e.preventDefault(); location.hash = `#/aggregates?${new URLSearchParams(new FormData(form))}`; });
  const ps = periods(kind, n);
  const answers = await Promise.all(ps.map(([a, b]) => get('aggregates', { by, from: `${a}000000`, to: `${b}000000` })));
  const keys = new Map();
  let unattributed = false;
  answers.forEach((ans, i) => ans.groups.forEach((g) => {
    unattributed = unattributed || Boolean(g.unattributed);
    if (!keys.has(g.key)) keys.set(g.key, new Array(ps.length).fill(0));
    keys.get(g.key)[i] = g[what];
  }));
  const rows = [...keys].sort((a, b) => b[1].reduce((x, y) => x + y) - a[1].reduce((x, y) => x + y))
    .map(([k, vals]) => [k || '(none)', ...vals.map((v) => num(v ? FMT[what](v) : '–')), num(FMT[what](vals.reduce((x, y) => x + y)))]);
  main.replaceChildren(h('h1', {}, `${{ energy_j: 'Energy', co2e_g: 'CO2e', water_l: 'Water' }[what]} per ${by}, per ${kind}`), form,
    rows.length ? table([by, ...ps.map(([a]) => ({ label: label(kind, a), num: true })), { label: 'total', num: true }], rows, { id: 'aggregates' })
      : h('p', { class: 'muted' }, 'Nothing measured in these periods.'),
    unattributed ? h('p', { class: 'muted', id: 'unattributed-note' },
      '(unattributed): what the hosts\' agents measured that no run claims (idle, other processes).') : '');
  return null;
}
