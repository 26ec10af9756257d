// Today and tomorrow: prices, the battery plan, PV and load forecasts, costs with and without the battery.
import { COLORS, bars, chart, stepped } from '../charts.js';
import { empty, eur, fmt, getJson, h, localTime, table } from '../dom.js';

export async function renderToday(main) {
  const d = await getJson('/api/dashboard/today');
  main.textContent = '';
  if (!d.store.available) {
    main.append(empty(d.store.message));
    return;
  }
  const tz = d.timezone;
  const hours = d.hours;
  const [today, tomorrow] = d.days;

  const cards = h('div', { class: 'cards' });
  for (const t of d.totals) {
    const label = t.day === today ? 'Today' : t.day === tomorrow ? 'Tomorrow' : t.day;
    cards.append(
      h(
        'div',
        { class: 'card' },
        h('h3', {}, `${label} (${t.hours} planned hours)`),
        h('div', { class: 'figure' }, eur(t.cost_eur)),
        h(
          'div',
          { class: 'muted small' },
          `without the battery ${eur(t.cost_no_battery_eur)} · `,
          h('span', { class: t.saving_eur >= 0 ? 'pos' : 'neg' }, `${t.saving_eur >= 0 ? 'saves' : 'costs'} ${eur(Math.abs(t.saving_eur))}`),
        ),
      ),
    );
  }
  if (d.plan) {
    cards.append(
      h(
        'div',
        { class: 'card' },
        h('h3', {}, 'Plan'),
        h('div', {}, d.plan.controller),
        h('div', { class: 'muted small' }, `issued ${localTime(d.plan.issued_at, tz)}`, d.plan.soc_source ? ` · SoC from ${d.plan.soc_source}` : ''),
      ),
    );
  }
  main.append(h('h2', {}, `Today ${today} and tomorrow ${tomorrow} `, h('span', { class: 'muted small' }, `(${tz}, now ${localTime(d.now, tz)})`)));
  if (!d.plan) main.append(empty('No battery plan yet: the daily pipeline makes one (hea run daily-pipeline).'));
  else main.append(cards);

  const grid = h('div', { class: 'grid' });
  const priceEl = h('div', { class: 'card chart', id: 'chart-today-price' });
  const batteryEl = h('div', { class: 'card chart', id: 'chart-today-battery' });
  const energyEl = h('div', { class: 'card chart', id: 'chart-today-energy' });
  grid.append(priceEl, batteryEl, energyEl);
  main.append(grid);

  chart('today-price', priceEl, {
    title: `Spot price, ${d.price.unit}`,
    timezone: tz,
    series: [
      { label: 'published', stroke: COLORS.price, width: 2, paths: stepped() },
      { label: 'forecast', stroke: COLORS.forecast, width: 2, dash: [6, 4], paths: stepped() },
      { label: 'band low', stroke: COLORS.band, paths: stepped() },
      { label: 'band high', stroke: COLORS.band, paths: stepped() },
    ],
    bands: [{ series: [4, 3], fill: COLORS.band }],
    data: [hours, d.price.published, d.price.forecast, d.price.lo, d.price.hi],
  });
  const charge = d.battery.power_kw.map((p) => (p !== null && p > 0 ? p : null));
  const discharge = d.battery.power_kw.map((p) => (p !== null && p < 0 ? p : null));
  chart('today-battery', batteryEl, {
    title: 'Battery plan: kW and state of charge',
    timezone: tz,
    series: [
      { label: 'charge kW', fill: COLORS.charge, stroke: COLORS.charge, paths: bars(), points: { show: false } },
      { label: 'discharge kW', fill: COLORS.discharge, stroke: COLORS.discharge, paths: bars(), points: { show: false } },
      { label: 'SoC %', stroke: COLORS.soc, width: 2, scale: '%' },
    ],
    // kW: always both sides of zero, so a plan that only discharges still reads as discharging.
    scales: { y: { range: (u, min, max) => [Math.min(0, min ?? 0) * 1.1 - 0.5, Math.max(0, max ?? 0) * 1.1 + 0.5] }, '%': { range: [0, 100] } },
    axes: [{}, { label: 'kW' }, { side: 1, scale: '%', label: 'SoC %', grid: { show: false } }],
    data: [hours, charge, discharge, d.battery.soc_pct],
  });
  chart('today-energy', energyEl, {
    title: 'PV and load forecasts, kWh per hour',
    timezone: tz,
    series: [
      { label: 'PV forecast', stroke: COLORS.pv, fill: 'rgba(236,201,75,0.25)', width: 2 },
      { label: 'load forecast', stroke: COLORS.load, width: 2 },
    ],
    data: [hours, d.pv_forecast_kwh, d.load_forecast_kwh],
  });

  if (d.plan) {
    const rows = d.plan.hours;
    main.append(
      h(
        'div',
        { class: 'card', id: 'plan-table' },
        h('h2', {}, 'The plan, hour by hour'),
        h(
          'div',
          { class: 'scroll' },
          table(
            [
              { label: 'hour', cell: (r) => localTime(r.ts, tz) },
              { label: 'buy EUR/kWh', num: true, cell: (r) => fmt(r.price_buy_eur_kwh, 3) },
              { label: 'action', cell: (r) => r.action },
              { label: 'kW', num: true, cell: (r) => fmt(r.power_kw, 1) },
              { label: 'SoC %', num: true, cell: (r) => fmt(r.soc_pct, 0) },
              { label: 'cost', num: true, cell: (r) => eur(r.cost_eur) },
              { label: 'without battery', num: true, cell: (r) => eur(r.cost_no_battery_eur) },
              { label: 'why', cell: (r) => r.why },
            ],
            rows,
          ),
        ),
      ),
    );
  }
}
