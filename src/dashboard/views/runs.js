// Recent runs, schedules with their next run, and meter models against naive.
import { badge, duration, empty, fmt, getJson, h, localTime, table } from '../dom.js';

export async function renderRuns(main) {
  const d = await getJson('/api/dashboard/runs');
  main.textContent = '';
  const ui = d.temporal.web_ui;
  main.append(
    h(
      'h2',
      {},
      'Recent runs ',
      ui ? h('a', { class: 'small', href: `${ui}/namespaces/${d.temporal.namespace}/workflows`, target: '_blank' }, 'all in the Temporal Web UI') : '',
    ),
  );
  if (!d.temporal.available) main.append(empty(d.temporal.message));
  else if (d.runs.length === 0) main.append(empty('No runs yet: npm start runs one, and the schedules start the rest.'));
  else {
    main.append(
      h(
        'div',
        { class: 'card', id: 'runs-table' },
        table(
          [
            { label: 'workflow', cell: (r) => r.workflow },
            { label: 'status', cell: (r) => badge(r.status) },
            { label: 'steps ok / failed / skipped', cell: (r) => (r.steps ? `${r.steps.success} / ${r.steps.failed} / ${r.steps.skipped}` : '–') },
            { label: 'started', cell: (r) => localTime(r.started_at) },
            { label: 'took', num: true, cell: (r) => (r.duration_ms === null ? 'running' : duration(r.duration_ms / 1000)) },
            {
              label: 'links',
              cell: (r) => [
                r.web_ui ? h('a', { href: r.web_ui, target: '_blank' }, 'Web UI') : '',
                r.web_ui && r.report ? ' · ' : '',
                r.report ? h('a', { href: r.report, target: '_blank' }, 'report') : '',
              ],
            },
            { label: 'workflow id', cell: (r) => h('span', { class: 'muted small' }, r.workflow_id) },
          ],
          d.runs,
        ),
      ),
    );
  }
  main.append(h('h2', {}, 'Schedules'));
  if (d.schedules.length === 0) main.append(empty(d.temporal.available ? 'No schedules: hea schedules apply (npm start does it).' : 'Temporal is not reachable.'));
  else {
    main.append(
      h(
        'div',
        { class: 'card', id: 'schedules-table' },
        table(
          [
            { label: 'schedule', cell: (s) => (s.web_ui ? h('a', { href: s.web_ui, target: '_blank' }, s.id) : s.id) },
            { label: 'workflow', cell: (s) => s.workflow ?? '–' },
            { label: 'state', cell: (s) => (s.paused ? badge('paused') : badge('active', 'ok')) },
            { label: 'next run', cell: (s) => localTime(s.next_run) },
            { label: 'last run', cell: (s) => localTime(s.last_run) },
            { label: 'note', cell: (s) => s.note ?? '' },
          ],
          d.schedules,
        ),
      ),
    );
  }
  main.append(h('h2', {}, 'Meter models (holdout MAE against the better naive forecast)'));
  if (d.meter_models.length === 0) main.append(empty('No meter models yet: POST /trainmodel/ trains one (see /docs).'));
  else {
    main.append(
      h(
        'div',
        { class: 'card', id: 'meters-table' },
        table(
          [
            { label: 'meter', cell: (m) => `${m.meter_type}/${m.meter_id}` },
            { label: 'status', cell: (m) => badge(m.status, m.status === 'beats naive' ? 'beats' : m.status === 'worse than naive' ? 'worse' : 'unscored') },
            { label: 'MAE', num: true, cell: (m) => fmt(m.mae, 3) },
            { label: 'naive MAE', num: true, cell: (m) => (m.naive_mae === null ? '–' : `${fmt(m.naive_mae, 3)} (${m.naive})`) },
            { label: 'skill', num: true, cell: (m) => (m.skill === null ? '–' : `${(m.skill * 100).toFixed(1)} %`) },
            { label: 'trained', cell: (m) => localTime(m.trained_at) },
            { label: 'version', cell: (m) => m.version ?? '–' },
          ],
          d.meter_models,
        ),
      ),
    );
  }
}
