// Zones and sites: the bundled grid zones (yearly carbon intensity, water per kWh generated,
// their sources) and cloud regions (grid zone, PUE, WUE), searchable, from /api/v1/zones.
import { get } from './api.js';
import { h, num, table } from './dom.js';

export default async function zones(main, { query: q }) {
  const data = await get('zones');
  const needle = (q.get('q') || '').toLowerCase();
  const hit = (...s) => !needle || s.some((x) => (x || '').toLowerCase().includes(needle));
  const input = h('input', { name: 'q', type: 'search', value: q.get('q') || '', placeholder: 'DE, Germany, aws…' });
  const form = h('form', { class: 'filters', role: 'search' }, h('label', {}, 'search', input), h('button', { type: 'submit' }, 'Search'));
  form.addEventListener('submit', (e) => { e.preventDefault(); location.hash = `#/zones?q=${encodeURIComponent(input.value)}`; });
  const z = data.zones.filter((x) => hit(x.code, x.name));
  const c = data.cloud.filter((x) => hit(x.provider, x.region, x.zone, x.location));
  main.replaceChildren(h('h1', {}, 'Zones and sites'), form,
    h('h2', {}, `Grid zones (${z.length})`),
    table(['code', 'name', { label: 'intensity', num: true }, 'year', { label: 'water (EWIF)', num: true }, 'sources'],
      z.map((x) => [x.code, x.name, num(`${x.ci_g_per_kwh.toFixed(0)} g/kWh`), x.year,
        num(x.ewif_l_per_kwh === null ? 'unknown' : `${x.ewif_l_per_kwh.toFixed(2)} L/kWh`),
        h('span', { class: 'muted' }, `${x.ci_source}; ${x.ewif_source}`)]), { id: 'zones' }),
    h('h2', {}, `Cloud regions (${c.length})`),
    table(['provider', 'region', 'location', 'grid zone', { label: 'PUE', num: true }, { label: 'WUE', num: true }, 'source'],
      c.map((x) => [x.provider, x.region, x.location, x.zone, num(x.pue.toFixed(2)),
        num(x.wue_l_per_kwh === null ? 'unknown' : `${x.wue_l_per_kwh.toFixed(2)} L/kWh`), h('span', { class: 'muted' }, x.source)]),
      { id: 'cloud' }));
  return null;
}
