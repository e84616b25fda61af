// One run's data for the Run and Compare pages: its summary, and its raw samples, phases and
// metrics from /api/v1/runs/{id}/events, turned into per-zone power curves (the run's part:
// power_w × share), the cumulative energy, phase times and metric series. refresh() asks only
// for the events after the last one seen, so a live page stays cheap.
import { events, get } from './api.js';

const sec = (ns, t0) => (Number(ns) - t0) / 1e9;

export class RunData {
  constructor(id) {
    this.id = id;
    this.last = { sample: 0, phase: 0, metric: 0 };
    this.zones = new Map(); // zone -> {x: [s], y: [W]}
    this.cum = [];          // [[s, J]] cumulative run energy at each sample end
    this.total = 0;
    this.phases = new Map(); // name -> {time_s, open}
    this.metrics = [];       // [{t, step, epoch, values}]
    this.start = null;
  }

  async load() {
    const [detail, starts] = await Promise.all([get(`runs/${encodeURIComponent(this.id)}`),
      events(this.id, 'run_start')]);
    this.start = starts.events[0] || null;
    await this.refresh(detail);
    return this;
  }

  /** Brings the summary and the series up to date; returns true when something new came. */
  async refresh(detail) {
    const d = detail || await get(`runs/${encodeURIComponent(this.id)}`);
    this.run = d.run;
    this.zoneTotals = d.zones;
    this.t0 = this.t0 ?? (this.run.start_ns || null);
    const [s, p, m] = await Promise.all(['sample', 'phase', 'metric'].map((t) => events(this.id, t, this.last[t])));
    if (this.t0 === null && s.events.length) this.t0 = Number(s.events[0].ts_ns) - s.events[0].dt_s * 1e9;
    this.addSamples(s.events);
    this.addPhases(p.events);
    for (const e of m.events) this.metrics.push({ t: sec(e.ts_ns, this.t0), step: e.step, epoch: e.epoch, values: e.values || {} });
    this.last = { sample: s.last, phase: p.last, metric: m.last };
    return s.events.length + p.events.length + m.events.length > 0;
  }

  addSamples(list) {
    list.sort((a, b) => Number(a.ts_ns) - Number(b.ts_ns));
    for (const e of list) {
      const t = Math.round(sec(e.ts_ns, this.t0) * 1000) / 1000;
      if (!this.zones.has(e.zone)) this.zones.set(e.zone, { x: [], y: [], kind: e.kind });
      const z = this.zones.get(e.zone);
      z.x.push(t);
      z.y.push((e.power_w ?? e.energy_j / e.dt_s) * (e.share ?? 1));
      if (!['core', 'uncore', 'psys'].includes(e.kind)) this.total += e.energy_j * (e.share ?? 1);
      this.cum.push([t, this.total]);
    }
  }

  addPhases(list) {
    for (const e of list) {
      const t = sec(e.ts_ns, this.t0);
      const p = this.phases.get(e.name) || { time_s: 0, open: null, entries: 0 };
      if (e.edge === 'begin') { p.open = t; p.entries++; } else if (p.open !== null) { p.time_s += t - p.open; p.open = null; }
      this.phases.set(e.name, p);
    }
  }

  /** The run's cumulative energy (J) at time t (s since start), from the samples before it. */
  energyAt(t) {
    let lo = 0, hi = this.cum.length - 1, best = 0;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (this.cum[mid][0] <= t) { best = this.cum[mid][1]; lo = mid + 1; } else hi = mid - 1;
    }
    return best;
  }

  powerSeries() {
    return [...this.zones].map(([zone, z]) => ({ label: `${zone} (${z.kind})`, x: z.x, y: z.y }));
  }

  /** Total run power over time (all counted zones), summed per instant: for Compare. */
  totalPower() {
    const byT = new Map();
    for (const [, z] of this.zones) {
      if (['core', 'uncore', 'psys'].includes(z.kind)) continue;
      z.x.forEach((t, i) => byT.set(t, (byT.get(t) || 0) + z.y[i]));
    }
    const x = [...byT.keys()].sort((a, b) => a - b);
    return { x, y: x.map((t) => byT.get(t)) };
  }

  metricNames() {
    return [...new Set(this.metrics.flatMap((m) => Object.keys(m.values)))];
  }

  /** Energy per epoch: from the first metric of an epoch to the first of the next (or the end). */
  epochs() {
    const first = new Map();
    for (const m of this.metrics) if (m.epoch !== undefined && !first.has(m.epoch)) first.set(m.epoch, m.t);
    const ks = [...first.keys()].sort((a, b) => a - b);
    const end = this.cum.length ? this.cum[this.cum.length - 1][0] : 0;
    return ks.map((k, i) => {
      const a = i === 0 ? 0 : first.get(k), b = i + 1 < ks.length ? first.get(ks[i + 1]) : end;
      const last = [...this.metrics].reverse().find((m) => m.epoch === k);
      return { epoch: k, energy_j: this.energyAt(b) - this.energyAt(a), time_s: b - a, values: last ? last.values : {} };
    });
  }

  /** The last value of a metric whose name looks like accuracy, or null. */
  accuracy() {
    for (let i = this.metrics.length - 1; i >= 0; i--) {
      const v = this.metrics[i].values;
      const k = Object.keys(v).find((n) => /^(val_)?acc(uracy)?$/i.test(n));
      if (k) return v[k];
    }
    return null;
  }
}
