// The dashboard in a real browser (Debian's chromium via playwright-core) against a running system: a
// Temporal dev server, a worker running the real jobs, the API on a free port, and a store filled at a
// fixed clock (test/dashboard/seed_store.py: the simulator's backfill, forecasts and scores through the
// store API, the real battery-plan job). Each view is opened; its charts must have drawn the points the
// JSON holds, with no console error; screenshots go to test-artifacts/dashboard/.
import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import type { Worker } from '@temporalio/worker';
import { startApi, type RunningApi } from '../../src/api/server.js';
import { loadConfig, type AppConfig } from '../../src/config/load.js';
import { applySchedules } from '../../src/schedules/apply.js';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { PYTHON, ROOT, createTestServer, fixtureWorker, testLogger, tmpDir, uniqueTaskQueue, waitFor } from '../helpers/env.js';
import { collectErrors, launchBrowser, openView, screenshot, type ChartRecord } from './browser.js';

const NOW = '2026-06-15T08:30:00Z'; // 10:30 in Stockholm: today's prices published, tomorrow's forecast
let env: TestWorkflowEnvironment;
const saved = { ...process.env };
const dir = tmpDir('hea-dashboard-');
const taskQueue = uniqueTaskQueue('dashboard');
let config: AppConfig;
let api: RunningApi;
let emptyApi: RunningApi;
let worker: Worker;
let running: Promise<void>;
let browser: BrowserContext;

const nonNull = (values: (number | null)[]) => values.filter((v) => v !== null).length;

async function json<T>(path: string, base = api.url): Promise<T> {
  const res = await fetch(`${base}${path}`);
  expect(res.status).toBe(200);
  return (await res.json()) as T;
}

beforeAll(async () => {
  // Jobs inherit the worker's environment: the fixed clock, a small meter training.
  Object.assign(process.env, {
    HEA_NOW: NOW,
    HEA_BACKFILL_DAYS: '35',
    HEA_METER_HISTORY_DAYS: '35',
    HEA_METER_MIN_DAYS: '21',
    HEA_METER_HOLDOUT_DAYS: '7',
    HEA_METER_ESTIMATORS: '30',
  });
  const dirs = { HEA_DATA_DIR: join(dir, 'data'), HEA_MODELS_DIR: join(dir, 'models'), HEA_REPORTS_DIR: join(dir, 'reports') };
  config = loadConfig(join(ROOT, 'config', 'hea.yaml'), { env: dirs });
  for (const job of Object.values(config.jobs)) job.retry = { ...job.retry, initialInterval: 100, maximumAttempts: 1 };
  // Two schedules that cannot fire during the test (06:00 daily, Sunday 02:00).
  config.schedules.entries = { 'daily-pipeline': config.schedules.entries['daily-pipeline']!, 'price-training': config.schedules.entries['price-training']! };
  execFileSync(PYTHON, [join(ROOT, 'test', 'dashboard', 'seed_store.py')], {
    cwd: ROOT,
    env: { ...process.env, ...dirs, HEA_STORE_URL: config.storeUrl, PYTHONPATH: ROOT },
    stdio: ['ignore', 'pipe', 'inherit'],
  });

  env = await createTestServer();
  worker = await fixtureWorker(env, config, taskQueue);
  running = worker.run();
  const target = { taskQueue, namespace: 'default', uiUrl: 'http://127.0.0.1:8233' };
  api = await startApi({ config, client: env.client, target, logger: testLogger() }, { host: '127.0.0.1', port: 0 });
  // A system before its first fetch: no store at all.
  const fresh = loadConfig(join(ROOT, 'config', 'hea.yaml'), {
    env: { HEA_DATA_DIR: join(dir, 'none'), HEA_MODELS_DIR: join(dir, 'none'), HEA_REPORTS_DIR: join(dir, 'none') },
  });
  emptyApi = await startApi({ config: fresh, client: env.client, target, logger: testLogger() }, { host: '127.0.0.1', port: 0 });

  await applySchedules(env.client, config);
  // Runs to list: a data update that succeeds, a daily pipeline whose price forecast fails (no price model
  // trained) while other steps succeed (partial), and a meter training through the API.
  const start = (workflow: string, params: Record<string, unknown>) =>
    env.client.workflow.start(workflow, { taskQueue, workflowId: `${workflow}-${taskQueue}`, args: [params] });
  const hourly = await start('hourlyExogenousData', {});
  const daily = await start('dailyEnergyPipeline', { updateData: false, runSolarPredictions: false, runDemandPredictions: false, runBatteryPlan: false });
  const res = await fetch(`${api.url}/trainmodel/`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ meter_id: 'meter_main_01', meter_type: 'electricity' }),
  });
  const { task_id: taskId } = (await res.json()) as { task_id: string };
  await Promise.all([hourly.result(), daily.result().catch(() => undefined)]);
  await waitFor(
    'the meter training',
    async () => {
      const status = (await json<{ status: string }>(`/trainmodel/status/${taskId}`)).status;
      return ['SUCCESS', 'FAILED'].includes(status) ? status : undefined;
    },
    90_000,
  );
  browser = await launchBrowser();
}, 240_000);

afterAll(async () => {
  await browser?.close();
  await api?.close();
  await emptyApi?.close();
  worker?.shutdown();
  await running;
  await env?.teardown();
  process.env = saved;
});

async function view(url: string, name: string): Promise<{ page: Page; charts: Record<string, ChartRecord>; errors: string[] }> {
  const page = await browser.newPage();
  const errors = collectErrors(page);
  const charts = await openView(page, url);
  await screenshot(page, name);
  return { page, charts, errors };
}

test('today and tomorrow: prices with the forecast band, the plan, PV and load, costs', async () => {
  type Today = {
    hours: number[];
    price: { published: (number | null)[]; forecast: (number | null)[]; lo: (number | null)[]; band: unknown };
    pv_forecast_kwh: (number | null)[];
    battery: { soc_pct: (number | null)[] };
    plan: { hours: { why: string }[] } | null;
    totals: { cost_eur: number }[];
  };
  const data = await json<Today>('/api/dashboard/today');
  expect(data.hours).toHaveLength(48);
  expect(nonNull(data.price.published)).toBe(24); // today published, tomorrow not yet
  expect(nonNull(data.price.lo)).toBe(24); // the band covers tomorrow
  expect(data.plan!.hours.length).toBeGreaterThan(24);
  expect(data.plan!.hours.every((h) => h.why.length > 0)).toBe(true);

  const { page, charts, errors } = await view(`${api.url}/#today`, 'today');
  expect(charts['today-price']).toEqual({
    points: 48,
    series: { published: 24, forecast: nonNull(data.price.forecast), 'band low': 24, 'band high': 24 },
  });
  expect(charts['today-battery']!.series['SoC %']).toBe(data.plan!.hours.length);
  expect(charts['today-energy']!.series['PV forecast']).toBe(nonNull(data.pv_forecast_kwh));
  expect(await page.locator('#plan-table tbody tr').count()).toBe(data.plan!.hours.length);
  expect(await page.getByText('Tomorrow (24 planned hours)').count()).toBe(1);
  if (process.env.HEA_UPDATE_SCREENSHOT) await screenshot(page, 'readme', join(ROOT, 'docs', 'img', 'dashboard.png'));
  expect(errors).toEqual([]);
  await page.close();
});

test('forecasts: against actuals over 7 and 30 days, rolling accuracy against naive, the degradation alert marked', async () => {
  for (const days of [7, 30]) {
    const { page, charts, errors } = await view(`${api.url}/#forecasts?days=${days}`, `forecasts-${days}`);
    for (const kind of ['price', 'demand', 'solar']) {
      expect([kind, charts[`forecast-${kind}`]!.points]).toEqual([kind, days * 24]);
      expect(charts[`forecast-${kind}`]!.series.actual).toBe(days * 24);
      const accuracy = charts[`accuracy-${kind}`]!;
      expect(accuracy.points).toBe(days);
      expect(Object.keys(accuracy.series)).toEqual(expect.arrayContaining(['naive_7day', 'naive_yesterday', 'naive_blend']));
      // The seeded demand forecaster degraded: one alert, on the day before "now".
      expect(accuracy.series['degradation alert']).toBe(kind === 'demand' ? 1 : 0);
    }
    await expect(page.locator('.alert').filter({ hasText: 'degradation: demand model demand_model' }).count()).resolves.toBe(1);
    expect(errors).toEqual([]);
    await page.close();
  }
});

test('data: every series with its freshness, the stuck, gappy and spiky meters flagged', async () => {
  const data = await json<{ series: { name: string; status: string; stuck: boolean; gaps: number; outliers: number }[] }>('/api/dashboard/data');
  const by = Object.fromEntries(data.series.map((s) => [s.name, s]));
  expect(by['meter.electricity.meter_flat_01']!.stuck).toBe(true);
  expect(by['meter.electricity.meter_gappy_02']!.gaps).toBeGreaterThan(0);
  expect(by['meter.electricity.meter_outlier_03']!.outliers).toBeGreaterThan(0);
  expect(by['price.spot']!.status).toBe('ok');

  const { page, errors } = await view(`${api.url}/#data`, 'data');
  const rows = page.locator('#series-table tbody tr');
  expect(await rows.count()).toBe(data.series.length);
  await expect(rows.filter({ hasText: 'meter_flat_01' }).innerText()).resolves.toMatch(/suspect.*stuck at 0/s);
  expect(errors).toEqual([]);
  await page.close();
});

test('runs: outcomes, durations, Web UI and report links; schedules with their next run; meter models against naive', async () => {
  const { page, errors } = await view(`${api.url}/#runs`, 'runs');
  const runs = page.locator('#runs-table tbody tr');
  await expect(runs.filter({ hasText: 'hourlyExogenousData' }).innerText()).resolves.toContain('success');
  await expect(runs.filter({ hasText: 'dailyEnergyPipeline' }).innerText()).resolves.toMatch(/partial\s+\d+ \/ [1-9]\d* \/ \d+/);
  await expect(runs.filter({ hasText: 'meterModelTraining' }).first().innerText()).resolves.toContain('success');
  // The report link serves the run's Markdown report.
  const href = await runs.filter({ hasText: 'hourlyExogenousData' }).getByRole('link', { name: 'report' }).getAttribute('href');
  const report = await fetch(`${api.url}${href}`);
  expect(report.headers.get('content-type')).toContain('text/plain');
  expect(await report.text()).toMatch(/^# hourlyExogenousData: success/);
  expect(readdirSync(config.dirs.reports).length).toBeGreaterThanOrEqual(2);
  const webUi = await runs.filter({ hasText: 'hourlyExogenousData' }).getByRole('link', { name: 'Web UI' }).getAttribute('href');
  expect(webUi).toMatch(/^http:\/\/127\.0\.0\.1:8233\/namespaces\/default\/workflows\/hourlyExogenousData-/);

  const schedules = page.locator('#schedules-table tbody tr');
  expect(await schedules.count()).toBe(2);
  await expect(schedules.filter({ hasText: 'daily-pipeline' }).innerText()).resolves.toMatch(/dailyEnergyPipeline\s+active\s+\d{4}-\d\d-\d\d 06:00/);
  await expect(page.locator('#meters-table tbody tr').filter({ hasText: 'electricity/meter_main_01' }).innerText()).resolves.toMatch(/beats naive|worse than naive/);
  expect(errors).toEqual([]);
  await page.close();
});

test('a fresh system: every view says what is missing, without errors', async () => {
  for (const [name, text] of [
    ['today', 'no data store yet'],
    ['forecasts', 'no data store yet'],
    ['data', 'no data store yet'],
    ['runs', 'No meter models yet'],
  ] as const) {
    const { page, charts, errors } = await view(`${emptyApi.url}/#${name}`, `empty-${name}`);
    expect(Object.keys(charts)).toEqual([]);
    await expect(page.locator('.empty').first().innerText()).resolves.toBeTruthy();
    expect(await page.getByText(text, { exact: false }).count()).toBeGreaterThan(0);
    expect(errors).toEqual([]);
    await page.close();
  }
});

test("the dashboard's JSON is in the OpenAPI document", async () => {
  const doc = await json<{ paths: Record<string, unknown> }>('/docs/json');
  for (const path of ['/api/dashboard/today', '/api/dashboard/forecasts', '/api/dashboard/data', '/api/dashboard/runs']) expect(Object.keys(doc.paths)).toContain(path);
});

test('reports are served from the reports folder only, and only for reading', async () => {
  for (const path of ['/reports/..%2Fhea.yaml', '/reports/%2E%2E/%2E%2E/package.json', '/reports/no-such-report.md']) {
    expect([path, (await fetch(`${api.url}${path}`)).status]).toEqual([path, 404]);
  }
  const [name] = readdirSync(config.dirs.reports).filter((f) => f.endsWith('.md'));
  expect((await fetch(`${api.url}/reports/${name}`, { method: 'DELETE' })).status).toBeGreaterThanOrEqual(400);
  expect((await fetch(`${api.url}/reports/${name}`)).status).toBe(200);
});
