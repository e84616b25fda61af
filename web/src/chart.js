// Line charts: uPlot (embedded at build time, fast on long time series) when it is there, else a
// plain SVG drawn here, so the page works either way. Series differ by dash pattern and label,
// not only colour. The container's data-points and data-series attributes say what is plotted
// (the browser tests read them).

const DASHES = [[], [8, 4], [2, 3], [12, 4, 2, 4], [4, 4]];
const STROKES = ['#0b5cad', '#9a3412', '#166534', '#6b21a8', '#374151'];

/** Merges series of their own x values onto one sorted x axis (nulls where a series has none). */
function align(series) {
  const xs = [...new Set(series.flatMap((s) => s.x))].sort((a, b) => a - b);
  const at = new Map(xs.map((x, i) => [x, i]));
  const ys = series.map((s) => {
    const y = new Array(xs.length).fill(null);
    s.x.forEach((x, i) => { y[at.get(x)] = s.y[i]; });
    return y;
  });
  return [xs, ...ys];
}

function mark(el, series) {
  el.dataset.series = String(series.length);
  el.dataset.points = String(series.reduce((n, s) => n + s.y.filter((v) => v != null).length, 0));
}

function uplotChart(el, o) {
  // never wider than the window (a phone), whether or not the container is laid out yet
  const width = () => Math.max(240, Math.min(el.clientWidth || window.innerWidth, document.documentElement.clientWidth) - 4);
  const opts = {
    width: width(), height: 260,
    scales: { x: { time: false } },
    axes: [
      { label: o.xLabel, values: (u, v) => v.map(o.xFmt) },
      { label: o.yLabel, size: 70, values: (u, v) => v.map(o.yFmt) },
    ],
    series: [{ label: o.xLabel, value: (u, v) => (v == null ? '–' : o.xFmt(v)) }],
    legend: { live: true },
    cursor: { drag: { x: true, y: false } },
  };
  let plot = null;
  const build = (series) => {
    opts.series.length = 1;
    series.forEach((s, i) => opts.series.push({
      label: s.label, stroke: STROKES[i % 5], dash: DASHES[i % 5], width: 2, spanGaps: true,
      points: { show: s.x.length < 60, size: 5 }, value: (u, v) => (v == null ? '–' : o.yFmt(v)),
    }));
    if (plot) plot.destroy();
    plot = new window.uPlot(opts, align(series), el);
  };
  let shape = '';
  const update = (series) => {
    mark(el, series);
    const s = series.map((x) => x.label).join('\u0000');
    if (!plot || s !== shape) { shape = s; build(series); } else plot.setData(align(series));
  };
  new ResizeObserver(() => plot && plot.width !== width() && plot.setSize({ width: width(), height: 260 })).observe(el);
  return { update };
}

const NS = 'http://www.w3.org/2000/svg';
function node(tag, attrs, parent) {
  const n = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) n.setAttribute(k, v);
  if (parent) parent.appendChild(n);
  return n;
}

function svgChart(el, o) {
  const update = (series) => {
    mark(el, series);
    el.replaceChildren();
    const W = 640, H = 260, L = 70, B = 36, T = 10, R = 10;
    const svg = node('svg', { viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': o.yLabel }, el);
    const xs = series.flatMap((s) => s.x), ys = series.flatMap((s) => s.y.filter((v) => v != null));
    if (!xs.length) return;
    const x0 = Math.min(...xs), x1 = Math.max(...xs, x0 + 1e-9), y1 = Math.max(...ys, 1e-9), y0 = Math.min(0, ...ys);
    const px = (x) => L + ((x - x0) / (x1 - x0)) * (W - L - R);
    const py = (y) => H - B - ((y - y0) / (y1 - y0)) * (H - B - T);
    node('line', { x1: L, y1: H - B, x2: W - R, y2: H - B, stroke: '#000' }, svg);
    node('line', { x1: L, y1: T, x2: L, y2: H - B, stroke: '#000' }, svg);
    for (let k = 0; k <= 4; k++) {
      const y = y0 + ((y1 - y0) * k) / 4, x = x0 + ((x1 - x0) * k) / 4;
      node('text', { x: L - 4, y: py(y) + 4, 'text-anchor': 'end' }, svg).textContent = o.yFmt(y);
      node('text', { x: px(x), y: H - B + 14, 'text-anchor': 'middle' }, svg).textContent = o.xFmt(x);
    }
    node('text', { x: (W + L) / 2, y: H - 4, 'text-anchor': 'middle' }, svg).textContent = o.xLabel;
    series.forEach((s, i) => {
      const pts = s.x.map((x, j) => (s.y[j] == null ? null : `${px(x).toFixed(1)},${py(s.y[j]).toFixed(1)}`))
        .filter(Boolean).join(' ');
      node('polyline', { points: pts, fill: 'none', stroke: STROKES[i % 5], 'stroke-width': 2,
        'stroke-dasharray': DASHES[i % 5].join(' ') }, svg);
      node('text', { x: L + 8, y: T + 14 + 14 * i }, svg).textContent = `${['—', '- -', '···', '-·-', '- -'][i % 5]} ${s.label}`;
    });
  };
  return { update };
}

/**
 * A line chart in el. o: {xLabel, yLabel, xFmt, yFmt}. Returns {update(series)} where series is
 * [{label, x: [...], y: [...]}]; update may be called again with more points (live runs).
 */
export function lineChart(el, o) {
  el.classList.add('chart');
  const c = window.uPlot ? uplotChart(el, o) : svgChart(el, o);
  el.dataset.kind = window.uPlot ? 'uplot' : 'svg';
  return c;
}
