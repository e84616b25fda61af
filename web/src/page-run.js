// A run: power per zone over time (refreshed every 3 s while the run is live), energy, CO2e and
// water with their sources, the run's share of the host, phases, training metrics against the
// cumulative energy, the GPU power limit profile (run_end's gpu_power_limit), metadata and
// health flags.
import { events, get } from './api.js';
import { lineChart } from './chart.js';
import { h, num, table } from './dom.js';
import { RunData } from './rundata.js';
import { statusBadge } from './page-runs.js';
import * as u from './units.js';

const LIVE_MS = 3000;

function cards(r) {
  const card = (title, v, src) => h('div', { class: 'card' }, h('div', { class: 'muted' }, title), h('div', { class: 'v' }, v),
    h('div', { class: 'src' }, src));
  const share = r.host_energy_j > 0 ? r.energy_j / r.host_energy_j : null;
  return h('div', { class: 'cards', id: 'totals' },
    card('Energy (IT, the run\'s share)', u.energy(r.energy_j), `sensors of the zones below; ${r.samples} samples`),
    card('CO2e', u.co2e(r.co2e_g), `${r.ci_g_per_kwh} g/kWh (zone ${r.zone || 'world average'}, bundled yearly) × PUE ${r.pue}`),
    card('Water', u.water(r.water_l), `on-site WUE + PUE × grid water (EWIF) of ${r.zone || 'the world average'}`),
    card('Share of the host', u.percent(share), `host energy ${u.energy(r.host_energy_j)}`),
    card('Duration', u.duration(r.duration_s), `${u.when(r.start)} → ${r.end ? u.when(r.end) : 'now'}`));
}

function zonesTable(zones) {
  return table(['zone', 'kind', 'source', { label: 'samples', num: true }, { label: 'run energy', num: true },
    { label: 'host energy', num: true }, { label: 'run share', num: true }],
  zones.map((z) => [z.zone, z.kind, z.source, num(z.samples), num(u.energy(z.energy_j)), num(u.energy(z.host_energy_j)),
    num(u.percent(z.host_energy_j > 0 ? z.energy_j / z.host_energy_j : null))]));
}

async function phasesSection(d) {
  let energy = new Map();
  try {
    const a = await get('aggregates', { by: 'phase' });
    energy = new Map(a.groups.filter((g) => g.key.startsWith(`${d.id}/`)).map((g) => [g.key.slice(d.id.length + 1), g.energy_j]));
  } catch { /* readers get no phase figures */ }
  // "(none)" is the energy outside any phase: shown with the phases, not alone
  const names = [...new Set([...d.phases.keys(), ...energy.keys()])];
  if (!names.some((n) => n !== '(none)')) return h('p', { class: 'muted' }, 'The run marked no phases.');
  const max = Math.max(...names.map((n) => energy.get(n) || d.phases.get(n)?.time_s || 0), 1e-12);
  const rows = names.map((n) => {
    const v = energy.get(n) ?? d.phases.get(n)?.time_s ?? 0;
    return [n, num(energy.has(n) ? u.energy(energy.get(n)) : '–'), num(u.duration(d.phases.get(n)?.time_s ?? null)),
      h('div', { class: 'bar', style: `width:${Math.max(1, (100 * v) / max).toFixed(1)}%`, title: n })];
  });
  return table(['phase', { label: 'energy', num: true }, { label: 'time', num: true }, 'share (bar)'], rows, { id: 'phases' });
}

function metricsSection(d, charts) {
  const names = d.metricNames();
  if (!names.length) return h('p', { class: 'muted' }, 'The run logged no training metrics.');
  return h('div', {}, names.slice(0, 4).map((name) => {
    const el = h('div', { 'data-chart': `metric-${name}` });
    const c = lineChart(el, { xLabel: 'cumulative energy', yLabel: name, xFmt: u.wattHours, yFmt: (v) => v.toPrecision(3) });
    const series = () => [{ label: name, x: d.metrics.filter((m) => name in m.values).map((m) => d.energyAt(m.t)),
      y: d.metrics.filter((m) => name in m.values).map((m) => m.values[name]) }];
    charts.push(() => c.update(series()));
    return h('div', {}, h('h3', {}, `${name} against cumulative energy`), el);
  }));
}

// --gpu-power-limit (issue 18): limit -> time and energy per step, the choice, the saving.
async function gpuSection(d) {
  let g = null;
  try { g = (await events(d.id, 'run_end')).events[0]?.gpu_power_limit || null; } catch { /* none */ }
  if (!g) return null;
  const lim = (p) => (p.limits_w || [p.limit_w]).map((w) => `${w} W`).join(', ');
  const rows = (g.profile || []).map((p, i) => [lim(p), num(`${(p.time_s * 1000).toFixed(1)} ms`),
    num(`${p.energy_j.toFixed(3)} J`), num(u.power(p.power_w)),
    i === g.best ? 'chosen' : i === g.ref ? 'maximum' : '']);
  const advice = g.mode === 'advice';
  const saved = g.best >= 0
    ? `${advice ? 'Would have saved' : 'Saved'} ${u.energy(g.saved_energy_j)}, ${u.co2e(g.saved_co2e_g)}, ${u.water(g.saved_water_l)} against the maximum limit (${g.extra_time_s >= 0 ? '+' : ''}${u.duration(g.extra_time_s)}).`
    : 'No choice was made.';
  return h('div', { id: 'gpu-power' },
    h('h2', {}, 'GPU power limit'),
    h('p', {}, `${advice ? 'Advice only' : 'Set'} (goal ${g.goal}, ${g.state})${g.why ? `: ${g.why}` : ''}. ${saved}`),
    table(['limit', { label: 'time/step', num: true }, { label: 'energy/step', num: true }, { label: 'power', num: true }, ''], rows));
}

function metadata(d) {
  const s = d.start || {};
  const rows = [['command', (s.command || []).join(' ')], ['cwd', s.cwd], ['user', d.run.user], ['model', d.run.model],
    ['project', d.run.project], ['host', d.run.host], ['scope', s.scope], ['zone', `${d.run.zone} (${s.zone_origin || '?'})`],
    ['interval', u.duration(d.run.interval_s)], ...Object.entries(s.meta || {}).filter(([k]) => k !== 'zones')
      .map(([k, v]) => [k, String(v)])];
  const est = (s.meta?.zones || []).filter((z) => z.estimate).map((z) => z.name);
  if (est.length) rows.push(['estimated zones', est.join(', ')]);
  return h('dl', { class: 'meta' }, rows.filter(([, v]) => v !== undefined && v !== '').flatMap(([k, v]) => [h('dt', {}, k), h('dd', {}, v)]));
}

export default async function run(main, { arg }) {
  const d = await new RunData(arg).load();
  const powerEl = h('div', { id: 'power-chart', 'data-chart': 'power' });
  const charts = [];
  const head = h('div', {});
  const zonesEl = h('div', {});
  const paint = () => {
    const r = d.run;
    head.replaceChildren(h('h1', {}, `Run ${r.id} `, statusBadge(r)),
      h('p', {}, r.health.length ? ['Health: ', r.health.map((f) => h('span', { class: 'badge flag' }, `⚠ ${f}`))]
        : 'Health: no flags.'), cards(r));
    zonesEl.replaceChildren(zonesTable(d.zoneTotals));
    charts.forEach((f) => f());
  };
  const power = lineChart(powerEl, { xLabel: 'time since start', yLabel: 'run power', xFmt: u.duration, yFmt: u.power });
  charts.push(() => power.update(d.powerSeries()));
  const metrics = metricsSection(d, charts);
  main.replaceChildren(head, h('h2', {}, 'Power per zone'), powerEl, h('h2', {}, 'Zones'), zonesEl,
    h('h2', {}, 'Phases'), await phasesSection(d), h('h2', {}, 'Training metrics'), metrics,
    ...[await gpuSection(d)].filter(Boolean), h('h2', {}, 'Metadata'), metadata(d));
  paint();
  if (d.run.status === 'finished') return null;
  const timer = setInterval(async () => {
    try { if (await d.refresh()) paint(); } catch (e) { console.warn('refresh failed:', e.message); }
    if (d.run.status === 'finished') clearInterval(timer);
  }, LIVE_MS);
  return () => clearInterval(timer);
}
