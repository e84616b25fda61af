// Compare: two or more runs side by side — totals, the runs' power curves aligned at their
// start, energy per epoch, and accuracy per kWh. The runs come from #/compare?ids=A,B (ticked
// on the Runs page) or are typed in.
import { lineChart } from './chart.js';
import { h, num, table } from './dom.js';
import { RunData } from './rundata.js';
import * as u from './units.js';

function picker(ids) {
  const input = h('input', { name: 'ids', value: ids.join(','), placeholder: 'run ids, comma separated', size: 40 });
  const form = h('form', { class: 'filters' }, h('label', {}, 'runs to compare', input), h('button', { type: 'submit' }, 'Compare'));
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    location.hash = `#/compare?ids=${input.value.split(/[\s,]+/).filter(Boolean).join(',')}`;
  });
  return form;
}

function totals(runs) {
  const row = (label, f) => [label, ...runs.map((d) => num(f(d)))];
  const kwh = (d) => d.run.energy_j / 3.6e6;
  return table(['', ...runs.map((d) => ({ label: d.id.slice(0, 12), num: true }))], [
    row('user / model', (d) => `${d.run.user} / ${d.run.model}`),
    row('energy', (d) => u.energy(d.run.energy_j)), row('CO2e', (d) => u.co2e(d.run.co2e_g)),
    row('water', (d) => u.water(d.run.water_l)), row('duration', (d) => u.duration(d.run.duration_s)),
    row('average power', (d) => u.power(d.run.duration_s > 0 ? d.run.energy_j / d.run.duration_s : null)),
    row('final accuracy', (d) => (d.accuracy() === null ? '–' : d.accuracy().toPrecision(3))),
    row('accuracy per kWh', (d) => (d.accuracy() === null || !kwh(d) ? '–' : `${(d.accuracy() / kwh(d)).toPrecision(3)} /kWh`)),
  ], { id: 'compare-totals' });
}

function epochs(runs) {
  const lists = runs.map((d) => d.epochs());
  const n = Math.max(0, ...lists.map((l) => l.length));
  if (!n) return h('p', { class: 'muted' }, 'No run logged epochs.');
  const rows = [...Array(n).keys()].map((i) => [`epoch ${lists.find((l) => l[i])[i].epoch}`,
    ...lists.map((l) => num(l[i] ? u.energy(l[i].energy_j) : '–'))]);
  return table(['', ...runs.map((d) => ({ label: d.id.slice(0, 12), num: true }))], rows, { id: 'compare-epochs' });
}

export default async function compare(main, { query }) {
  const ids = (query.get('ids') || '').split(',').filter(Boolean);
  main.replaceChildren(h('h1', {}, 'Compare runs'), picker(ids));
  if (ids.length < 2) {
    main.append(h('p', { class: 'muted' }, 'Give two or more runs (tick them on the Runs page).'));
    return null;
  }
  const runs = await Promise.all(ids.map((id) => new RunData(id).load()));
  const powerEl = h('div', { id: 'compare-power', 'data-chart': 'compare-power' });
  main.append(h('h2', {}, 'Totals'), totals(runs), h('h2', {}, 'Power, aligned at start'), powerEl,
    h('h2', {}, 'Energy per epoch'), epochs(runs));
  lineChart(powerEl, { xLabel: 'time since start', yLabel: 'run power', xFmt: u.duration, yFmt: u.power })
    .update(runs.map((d) => ({ label: `${d.id.slice(0, 12)} (${d.run.model || '?'})`, ...d.totalPower() })));
  return null;
}
