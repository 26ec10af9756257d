import { figures, renderMarkdown } from '../../src/activities/reports.js';
import type { RunReport } from '../../src/workflows/report.js';

test('key figures come first, nested ones are flattened, long text is left to the details', () => {
  const text = figures({
    seconds: 3.14159,
    version: '2026-11-21T06:00:00Z-abcdef',
    holdout: { mae: 4.56789, baseline_yesterday_mae: 6.1, rmae_yesterday: 0.7489, note: 'x' },
    promoted: true,
    reason: 'a'.repeat(100),
  });
  expect(text).toBe(
    'holdout.mae=4.568, holdout.baseline_yesterday_mae=6.1, holdout.rmae_yesterday=0.7489, promoted=true, seconds=3.142, version=2026-11-21T06:00:00Z-abcdef',
  );
});

test('the Markdown report has a row per step, tables, and failures with their stderr', () => {
  const report: RunReport = {
    workflow: 'dailyEnergyPipeline',
    workflowId: 'wf',
    runId: 'run-1234567890',
    status: 'partial',
    startedAt: '2026-11-21T06:00:00.000Z',
    finishedAt: '2026-11-21T06:01:30.000Z',
    durationMs: 90_000,
    params: { horizonDays: 2 },
    steps: [
      {
        step: 'weather',
        job: 'weather_data',
        status: 'failed',
        attempts: 3,
        durationMs: 1200,
        errorType: 'JobFailed',
        error: 'job weather_data exited with code 1\n--- stderr ---\nTimeout | upstream',
      },
      { step: 'solar forecast', job: 'solar_predictions', status: 'skipped', error: 'skipped: weather failed' },
      { step: 'spot prices', job: 'prices_data', status: 'success', attempts: 1, durationMs: 800, result: { rows_written: 96 } },
    ],
    tables: [{ title: 'Datasets', columns: ['dataset', 'fresh'], rows: [['prices', 'yes']] }],
  };
  const md = renderMarkdown(report);
  expect(md).toContain('# dailyEnergyPipeline: partial');
  expect(md).toContain('- Steps: 1 succeeded, 1 failed, 1 skipped');
  expect(md).toContain('| weather | `weather_data` | failed | 3 | 1.2 s | JobFailed: job weather_data exited with code 1 --- stderr --- Timeout \\| upstream |');
  expect(md).toContain('| solar forecast | `solar_predictions` | skipped | - | - | skipped: weather failed |');
  expect(md).toContain('| spot prices | `prices_data` | success | 1 | 800 ms | rows_written=96 |');
  expect(md).toContain('## Datasets\n\n| dataset | fresh |\n| --- | --- |\n| prices | yes |');
  expect(md).toContain('```\njob weather_data exited with code 1');
});

test('charts and files beside the report are linked, the "now" is stated, nested figures are whole', () => {
  const big = { values: Array.from({ length: 200 }, (_, i) => ({ hour: i, value: i * 1.5 })) };
  const report: RunReport = {
    workflow: 'dailyEnergyPipeline',
    workflowId: 'wf',
    runId: 'run-1234567890',
    status: 'success',
    startedAt: '2026-11-21T06:00:00.000Z',
    asOf: '2026-11-21T05:00:00.000Z',
    finishedAt: '2026-11-21T06:01:30.000Z',
    durationMs: 90_000,
    params: {},
    steps: [{ step: 'daily report', job: 'daily_report', status: 'success', result: { plan: big } }],
    images: [{ title: 'Plan', file: 'dailyEnergyPipeline-x/plan.svg' }],
    files: [{ title: 'The plan (JSON)', file: 'dailyEnergyPipeline-x/plan.json' }],
  };
  const md = renderMarkdown(report);
  expect(md).toContain('- As of: 2026-11-21T05:00:00.000Z');
  expect(md).toContain('## Plan\n\n![Plan](dailyEnergyPipeline-x/plan.svg)');
  expect(md).toContain('- [The plan (JSON)](dailyEnergyPipeline-x/plan.json)');
  expect(md).toContain('<details>');
  expect(md).toContain(JSON.stringify(big, null, 2));
});
