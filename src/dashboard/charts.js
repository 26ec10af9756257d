// uPlot charts for the dashboard. Every chart records what it drew in window.__charts (the browser tests
// read it): its x points and, per series, how many non-null values.
import uPlot from '/dashboard/vendor/uplot/uPlot.esm.js';

export const COLORS = {
  price: '#2b6cb0',
  forecast: '#d69e2e',
  band: 'rgba(214,158,46,0.18)',
  charge: '#38a169',
  discharge: '#e53e3e',
  soc: '#805ad5',
  pv: '#ecc94b',
  load: '#4a5568',
  actual: '#2d3748',
  naive: ['#a0aec0', '#718096', '#cbd5e0'],
  alert: '#c53030',
  serving: '#2b6cb0',
};

window.__charts = window.__charts || {};
const live = new Map();

function record(name, data, series) {
  window.__charts[name] = {
    points: data[0].length,
    series: Object.fromEntries(series.slice(1).map((s, i) => [s.label, data[i + 1].filter((v) => v !== null && v !== undefined).length])),
  };
}

/** 24-hour clock; a local midnight shows its date instead. */
function timeLabel(t, timezone) {
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat('en-GB', { timeZone: timezone, weekday: 'short', day: 'numeric', month: 'numeric', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' })
      .formatToParts(new Date(t * 1000))
      .map((p) => [p.type, p.value]),
  );
  return parts.hour === '00' && parts.minute === '00' ? `${parts.weekday} ${parts.day}/${parts.month}` : `${parts.hour}:${parts.minute}`;
}

function contentWidth(el) {
  const cs = getComputedStyle(el);
  return el.clientWidth - parseFloat(cs.paddingLeft) - parseFloat(cs.paddingRight);
}

/** Draws a chart into `el` (replacing one of the same name) and records it. */
export function chart(name, el, { title, series, data, axes, scales, bands, height = 260, timezone, xDays = false }) {
  live.get(name)?.destroy();
  const width = Math.max(320, contentWidth(el) || 600);
  const opts = {
    title,
    width,
    height,
    series: [{}, ...series],
    axes,
    scales,
    bands,
    legend: { live: true },
    cursor: { points: { size: 6 } },
    ...(timezone ? { tzDate: (ts) => uPlot.tzDate(new Date(ts * 1e3), timezone) } : {}),
  };
  const x = xDays ? (ticks) => ticks.map((t) => new Date(t * 1000).toISOString().slice(5, 10)) : (ticks) => ticks.map((t) => timeLabel(t, timezone));
  opts.axes = [{ values: (u, ticks) => x(ticks) }, ...(axes ?? [{}]).slice(1)];
  el.textContent = '';
  const plot = new uPlot(opts, data, el);
  live.set(name, plot);
  record(name, data, opts.series);
  return plot;
}

export const bars = (ratio = 0.7) => uPlot.paths.bars({ size: [ratio, 60] });
export const stepped = () => uPlot.paths.stepped({ align: 1 });

export function resizeAll() {
  for (const plot of live.values()) {
    const w = plot.root.parentElement && contentWidth(plot.root.parentElement);
    if (w) plot.setSize({ width: w, height: plot.height });
  }
}

export function clearCharts() {
  for (const plot of live.values()) plot.destroy();
  live.clear();
  for (const key of Object.keys(window.__charts)) delete window.__charts[key];
}
