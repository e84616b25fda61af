// Human units for every figure of the dashboard: the unit is scaled to the number (J/kJ/MJ,
// Wh/kWh/MWh, g/kg/t CO2e, mL/L/m³, W/kW), three significant digits, and durations in s/min/h.

function scaled(v, units, step = 1000) {
  if (v == null || !Number.isFinite(v)) return '–';
  let i = 0;
  let a = Math.abs(v);
  while (i + 1 < units.length && a >= step) { a /= step; v /= step; i++; }
  const digits = a === 0 || a >= 100 ? 0 : a >= 10 ? 1 : 2;
  return `${v.toFixed(digits)} ${units[i]}`;
}

export const joules = (j) => scaled(j, ['J', 'kJ', 'MJ', 'GJ', 'TJ']);
export const wattHours = (j) => scaled(j / 3600, ['Wh', 'kWh', 'MWh', 'GWh']);
/** Energy as kWh-family with the joules beside it: "1.23 kWh (4.43 MJ)". */
export const energy = (j) => `${wattHours(j)} (${joules(j)})`;
export const power = (w) => scaled(w, ['W', 'kW', 'MW']);
export const co2e = (g) => `${scaled(g, ['g', 'kg', 't'])} CO2e`;
export const water = (l) => (l != null && Math.abs(l) < 1 ? scaled(l * 1000, ['mL']) : scaled(l, ['L', 'm³']));

export function duration(s) {
  if (s == null || !Number.isFinite(s)) return '–';
  if (s < 60) return `${s.toFixed(s < 10 ? 1 : 0)} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${String(Math.round(s % 60)).padStart(2, '0')} s`;
  return `${Math.floor(s / 3600)} h ${String(Math.round((s % 3600) / 60)).padStart(2, '0')} min`;
}

export const percent = (x) => (x == null || !Number.isFinite(x) ? '–' : `${(x * 100).toFixed(1)} %`);
export const when = (iso) => (iso ? iso.replace('T', ' ').replace(/\.\d+Z$|Z$/, ' UTC') : '–');
