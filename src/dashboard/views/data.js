// Every series' freshness and quality, and every forecast's latest issue.
import { badge, duration, empty, fmt, getJson, h, localTime, table } from '../dom.js';

export async function renderData(main) {
  const d = await getJson('/api/dashboard/data');
  main.textContent = '';
  main.append(h('h2', {}, 'Data freshness and quality ', h('span', { class: 'muted small' }, `(last ${d.window_days} days, now ${localTime(d.now)})`)));
  if (!d.store.available) {
    main.append(empty(d.store.message));
    return;
  }
  if (d.series.length === 0) {
    main.append(empty('The store holds no series yet: the data fetches fill it (hea run hourly-exogenic).'));
    return;
  }
  const count = (s) => d.series.filter((x) => x.status === s).length;
  main.append(
    h(
      'div',
      { class: 'cards' },
      ['ok', 'suspect', 'stale'].map((s) => h('div', { class: 'card' }, h('h3', {}, s), h('div', { class: 'figure' }, String(count(s))))),
    ),
  );
  main.append(
    h(
      'div',
      { class: 'card', id: 'series-table' },
      table(
        [
          { label: 'series', cell: (s) => s.name },
          { label: 'status', cell: (s) => badge(s.status) },
          { label: 'last value', num: true, cell: (s) => fmt(s.last_value, 3) },
          { label: 'last interval', cell: (s) => localTime(s.last) },
          { label: 'age', num: true, cell: (s) => duration(s.age_s) },
          { label: 'allowed', num: true, cell: (s) => h('span', { title: `from the ${s.max_age_from}` }, duration(s.max_age_s)) },
          { label: 'every', num: true, cell: (s) => duration(s.resolution_s) },
          { label: 'gaps', num: true, cell: (s) => (s.gaps ? `${s.gaps} (${s.missing} missing)` : '0') },
          { label: 'outliers', num: true, cell: (s) => String(s.outliers) },
          { label: 'unchanged for', num: true, cell: (s) => (s.stuck_for_s ? duration(s.stuck_for_s) : '–') },
          { label: 'problems', cell: (s) => s.problems.join('; ') },
        ],
        d.series,
      ),
    ),
  );
  main.append(h('h2', {}, 'Forecasts'));
  if (d.forecasts.length === 0) main.append(empty('No forecasts yet: the daily pipeline writes them.'));
  else {
    main.append(
      h(
        'div',
        { class: 'card' },
        table(
          [
            { label: 'forecast', cell: (f) => f.name },
            { label: 'issues', num: true, cell: (f) => String(f.issues) },
            { label: 'latest issue', cell: (f) => localTime(f.last_issued_at) },
            { label: 'age', num: true, cell: (f) => duration(f.age_s) },
            { label: 'model', cell: (f) => f.model ?? '–' },
          ],
          d.forecasts,
        ),
      ),
    );
  }
}
