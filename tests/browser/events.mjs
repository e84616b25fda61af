// Synthetic runs for the browser tests, as schema v1 NDJSON (docs/schema.md): two finished runs
// with two zones, phases and per-epoch metrics, and a live one whose samples are stamped with
// the time they are sent. ts_ns is written as a plain integer, as the schema asks.

const NS_PER_MS = 1000000n;
let seq = 0;

function line(ev) {
  const { ts_ms: ts, ...rest } = ev;
  const json = JSON.stringify({ v: 1, id: `${ev.run}-${seq++}`, ...rest, ts_ns: 0 });
  return json.replace('"ts_ns":0', `"ts_ns":${BigInt(Math.round(ts)) * NS_PER_MS}`);
}

const ZONES = [{ zone: 'gpu0', kind: 'gpu', source: 'nvml', base: 250 }, { zone: 'package-0', kind: 'package', source: 'rapl', base: 60 }];

export function start(run, o, t) {
  return line({ type: 'run_start', ts_ms: t, run, host: o.host, user: o.user, model: o.model, project: 'webtest',
    command: ['python3', 'train.py', '--epochs', '3'], cwd: '/srv/train', interval_s: o.interval, scope: 'process',
    zone: o.zone, zone_origin: 'option', pue: 1.2, wue_l_per_kwh: 0.2,
    meta: { kernel: '6.1.0', cpu_model: 'Test CPU', cpu_count: 16, gpus: '1 x Test GPU', git_commit: 'abc1234', sensors: 'rapl,nvml' } });
}

/** n ticks of every zone from t0 (ms), one every interval s; power scaled by k. */
export function samples(run, o, t0, n, k = 1) {
  const out = [];
  for (let i = 1; i <= n; i++) {
    ZONES.forEach((z, zi) => {
      const w = z.base * k * (1 + 0.2 * Math.sin(i / 4 + zi));
      out.push(line({ type: 'sample', ts_ms: t0 + i * o.interval * 1000, run, host: o.host, zone: z.zone, zone_index: zi,
        kind: z.kind, source: z.source, estimate: false, dt_s: o.interval, energy_j: w * o.interval, power_w: w, share: 0.9 }));
    });
  }
  return out;
}

/** An agent's whole-host series (run_start "series":"host"): n ticks of every zone from t0 at
 * twice a run's power plus 100 W, all of it the host's (share 1). */
export function agent(run, o, t0, n) {
  const out = [line({ type: 'run_start', ts_ms: t0, run, host: o.host, user: 'root', model: '', project: '',
    command: ['joulestream', 'agent'], interval_s: o.interval, scope: 'host', series: 'host', zone: o.zone })];
  for (let i = 1; i <= n; i++) {
    ZONES.forEach((z, zi) => {
      const w = z.base * 2 + 100;
      out.push(line({ type: 'sample', ts_ms: t0 + i * o.interval * 1000, run, host: o.host, zone: z.zone, zone_index: zi,
        kind: z.kind, source: z.source, estimate: false, dt_s: o.interval, energy_j: w * o.interval, power_w: w, share: 1 }));
    });
  }
  return out;
}

/** Phases and three epochs of metrics spread over the run's n ticks. */
export function training(run, o, t0, n) {
  const out = [];
  const at = (i) => t0 + i * o.interval * 1000;
  for (let e = 0; e < 3; e++) {
    const a = Math.floor((n * e) / 3), b = Math.floor((n * (e + 1)) / 3);
    out.push(line({ type: 'phase', ts_ms: at(a) + 1, run, host: o.host, name: 'data', edge: 'begin' }));
    out.push(line({ type: 'phase', ts_ms: at(a) + 2000, run, host: o.host, name: 'data', edge: 'end' }));
    out.push(line({ type: 'phase', ts_ms: at(a) + 2001, run, host: o.host, name: 'forward', edge: 'begin' }));
    out.push(line({ type: 'phase', ts_ms: at(b) - 1, run, host: o.host, name: 'forward', edge: 'end' }));
    for (let s = 0; s < 4; s++) {
      const i = a + ((b - a) * (s + 1)) / 5;
      out.push(line({ type: 'metric', ts_ms: at(i), run, host: o.host, step: e * 4 + s, epoch: e,
        values: { loss: 2 / (1 + e * 4 + s), accuracy: o.acc * (0.5 + (e * 4 + s) / 24) } }));
    }
  }
  return out;
}

export function end(run, o, t, n, extra = {}) {
  return line({ type: 'run_end', ts_ms: t, run, host: o.host, exit: 0, signal: 0, duration_s: n * o.interval, samples: n * 2, notes: [], ...extra });
}

// run_end's gpu_power_limit (docs/schema.md, issue 18): three candidates, 300 W chosen
export const gpuPowerLimit = {
  mode: 'auto', goal: 'energy', state: 'chosen', why: '',
  gpus: [{ index: 0, uuid: 'GPU-0aaa', min_w: 150, max_w: 400, prev_w: 350, chosen_w: 300 }],
  profile: [
    { limit_w: 400, limits_w: [400], time_s: 0.1, energy_j: 40, power_w: 400, steps: 20 },
    { limit_w: 300, limits_w: [300], time_s: 0.11, energy_j: 33, power_w: 300, steps: 20 },
    { limit_w: 200, limits_w: [200], time_s: 0.18, energy_j: 36, power_w: 200, steps: 20 }],
  best: 1, ref: 0, steps: 1000, steps_after: 940, saved_energy_j: 6580, saved_co2e_g: 0.7,
  saved_water_l: 0.01, extra_time_s: 9.4, advice_from: '', restored: true,
};
