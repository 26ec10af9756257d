// Forecasts against actuals (7 or 30 days), and each forecaster's rolling accuracy against the naive ones.
import { COLORS, chart } from '../charts.js';
import { empty, fmt, getJson, h, localTime } from '../dom.js';

const TITLES = { price: 'Spot price', demand: 'Demand', solar: 'Solar production' };

export async function renderForecasts(main, params) {
  const days = params.get('days') === '30' ? 30 : 7;
  const d = await getJson(`/api/dashboard/forecasts?days=${days}`);
  main.textContent = '';
  const toggle = h(
    'span',
    { class: 'toggle' },
    [7, 30].map((n) => h('a', { href: `#forecasts?days=${n}`, class: n === days ? 'active' : undefined }, `${n} days`)),
  );
  main.append(h('h2', {}, 'Forecasts against what happened', toggle));
  if (!d.store.available) {
    main.append(empty(d.store.message));
    return;
  }
  const grid = h('div', { class: 'grid' });
  main.append(grid);
  // Every card in the grid first: a chart takes its card's width when drawn.
  const cards = d.kinds.map((k) => grid.appendChild(h('div', { class: 'card chart', id: `chart-forecast-${k.kind}` })));
  for (const [i, k] of d.kinds.entries()) {
    const el = cards[i];
    if (!k.actual.some((v) => v !== null) && !k.forecast.some((v) => v !== null)) {
      el.append(h('h3', {}, TITLES[k.kind]), empty(`No ${k.kind} data in the last ${days} days yet.`));
      continue;
    }
    chart(`forecast-${k.kind}`, el, {
      title: `${TITLES[k.kind]}, ${k.unit}: ${k.matched_hours ? `MAE ${fmt(k.mae)} over ${k.matched_hours} h` : 'no forecast made before these hours yet'}`,
      series: [
        { label: 'actual', stroke: COLORS.actual, width: 1.5 },
        { label: 'forecast', stroke: COLORS.forecast, width: 1.5, dash: [5, 3] },
      ],
      data: [k.hours, k.actual, k.forecast],
    });
  }

  main.append(h('h2', {}, `Rolling ${7}-day MAE per forecaster (serving vs naive), last ${days} days`));
  if (!d.scores_table || d.accuracy.every((a) => a.forecasters.length === 0)) {
    main.append(empty('No accuracy scores yet: they are written after a day of actuals arrives (the scoring step).'));
  } else {
    const acc = h('div', { class: 'grid' });
    main.append(acc);
    const accCards = d.accuracy.map((a) => acc.appendChild(h('div', { class: 'card chart', id: `chart-accuracy-${a.kind}` })));
    for (const [i, a] of d.accuracy.entries()) {
      const el = accCards[i];
      if (a.forecasters.length === 0) {
        el.append(h('h3', {}, TITLES[a.kind]), empty('No scores yet.'));
        continue;
      }
      const x = a.days.map((day) => Date.parse(`${day}T12:00:00Z`) / 1000);
      const serving = a.forecasters.find((f) => f.serving) ?? a.forecasters[0];
      const alerts = a.days.map((day, i) => (a.alert_days.includes(day) ? serving.rolling_mae[i] : null));
      let naive = 0;
      chart(`accuracy-${a.kind}`, el, {
        title: `${TITLES[a.kind]}: rolling 7-day MAE${a.alert_days.length ? ` (${a.alert_days.length} degradation alert)` : ''}`,
        xDays: true,
        series: [
          ...a.forecasters.map((f) => ({
            label: `${f.forecaster}${f.serving ? ' (serving)' : ''}`,
            stroke: f.serving ? COLORS.serving : f.naive ? COLORS.naive[naive++ % 3] : COLORS.forecast,
            width: f.serving ? 2.5 : 1.5,
            dash: f.naive ? [4, 4] : undefined,
          })),
          { label: 'degradation alert', stroke: COLORS.alert, width: 0, points: { show: true, size: 12, fill: COLORS.alert, stroke: COLORS.alert } },
        ],
        data: [x, ...a.forecasters.map((f) => f.rolling_mae), alerts],
      });
    }
  }

  main.append(h('h2', {}, 'Alerts'));
  if (d.alerts.length === 0) main.append(empty(`No alerts in the last ${days} days.`));
  else {
    main.append(
      h(
        'div',
        { class: 'card' },
        d.alerts.map((al) => h('div', { class: 'alert' }, h('strong', {}, `${al.kind}: ${al.subject}`), ` · ${localTime(al.at)} · `, al.message)),
      ),
    );
  }
}
