// Zones and sites: the sites of serve's configuration file (their zone's intensity, PUE, WUE,
// the zone's water per kWh generated, as `joulestream sites rank` shows them), the bundled grid
// zones (yearly carbon intensity, water, their sources) and cloud regions (grid zone, PUE,
// WUE), searchable, from /api/v1/zones.
import { get } from './api.js';
import { h, num, table } from './dom.js';

const litres = (v) => (v === null ? 'unknown' : `${v.toFixed(2)} L/kWh`);

// A configured site's row; one with an unknown zone or region says what is wrong in the text.
function siteRow(x) {
  if (x.error) return [x.name, x.zone || x.cloud, '', '', '', '', '', h('span', { class: 'error' }, `error: ${x.error}`)];
  return [x.name, x.cloud ? `${x.zone} (${x.cloud})` : x.zone, num(`${x.ci_g_per_kwh.toFixed(0)} g/kWh`), x.year,
    num(x.pue.toFixed(2)), num(litres(x.wue_l_per_kwh)), num(litres(x.ewif_l_per_kwh)),
    h('span', { class: 'muted' }, `${x.ci_source}; PUE: ${x.pue_source}; WUE: ${x.wue_source}`)];
}

function sitesSection(data, hit) {
  const s = (data.sites || []).filter((x) => hit(x.name, x.zone, x.zone_name, x.cloud));
  if (!data.config) {
    return [h('h2', {}, 'Configured sites'), h('p', { class: 'muted', id: 'sites-none' },
      'serve was started without a configuration file: start it with --config FILE (or $JOULESTREAM_CONFIG) '
      + 'to list its [site NAME] sections here.')];
  }
  return [h('h2', {}, `Configured sites (${s.length})`), h('p', { class: 'muted path' }, `from ${data.config}`),
    table(['site', 'grid zone', { label: 'intensity', num: true }, 'year', { label: 'PUE', num: true },
      { label: 'WUE', num: true }, { label: 'grid water (EWIF)', num: true }, 'sources'], s.map(siteRow), { id: 'sites' })];
}

export default async function zones(main, { query: q }) {
  const data = await get('zones');
  const needle = (q.get('q') || '').toLowerCase();
  const hit = (...s) => !needle || s.some((x) => (x || '').toLowerCase().includes(needle));
  const input = h('input', { name: 'q', type: 'search', value: q.get('q') || '', placeholder: 'lab, DE, Germany, aws…' });
  const form = h('form', { class: 'filters', role: 'search' }, h('label', {}, 'search', input), h('button', { type: 'submit' }, 'Search'));
  form.addEventListener('submit', (e) => { e.preventDefault(); location.hash = `#/zones?q=${encodeURIComponent(input.value)}`; });
  const z = data.zones.filter((x) => hit(x.code, x.name));
  const c = data.cloud.filter((x) => hit(x.provider, x.region, x.zone, x.location));
  main.replaceChildren(h('h1', {}, 'Zones and sites'), form, ...sitesSection(data, hit),
    h('h2', {}, `Grid zones (${z.length})`),
    table(['code', 'name', { label: 'intensity', num: true }, 'year', { label: 'water (EWIF)', num: true }, 'sources'],
      z.map((x) => [x.code, x.name, num(`${x.ci_g_per_kwh.toFixed(0)} g/kWh`), x.year,
        num(litres(x.ewif_l_per_kwh)),
        h('span', { class: 'muted' }, `${x.ci_source}; ${x.ewif_source}`)]), { id: 'zones' }),
    h('h2', {}, `Cloud regions (${c.length})`),
    table(['provider', 'region', 'location', 'grid zone', { label: 'PUE', num: true }, { label: 'WUE', num: true }, 'source'],
      c.map((x) => [x.provider, x.region, x.location, x.zone, num(x.pue.toFixed(2)),
        num(litres(x.wue_l_per_kwh)), h('span', { class: 'muted' }, x.source)]),
      { id: 'cloud' }));
  return null;
}
