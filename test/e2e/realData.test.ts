// Real data, end to end: one real price file (SE4 day-ahead, 2023-2024) and one real household (London,
// MAC000060) go into a fresh store through the user's own import path (HEA_PRICE_SOURCE=csv,
// HEA_CONSUMPTION_SOURCE=csv, run by the workflows' fetch steps), then weekly training and the daily
// pipeline run the real jobs on the embedded Temporal test server, and the forecasts written must come from
// the forecaster the registry chose. The household is from 2011-2014: its timestamps are moved forward by
// whole weeks (weekdays stay weekdays) to end where the prices end; weather, heat pump and solar stay on
// the simulator (the simulator may fill series that hold no real data).
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import Database from 'better-sqlite3';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { loadConfig } from '../../src/config/load.js';
import type { RunReport, StepReport } from '../../src/workflows/report.js';
import { ROOT, createTestServer, fixtureWorker, tmpDir, uniqueTaskQueue, workflowBundle } from '../helpers/env.js';

// The two files ship with the repo (test/fixtures/real/README.md says where they come from).
const REAL = process.env.HEA_REAL_DATA_DIR ?? join(ROOT, 'test', 'fixtures', 'real');
const NOW = '2024-12-20T10:30:00Z';
const WEEK_MS = 7 * 86_400_000;
let env: TestWorkflowEnvironment;
const dir = tmpDir('hea-real-');
const saved = { ...process.env };

/** The household's CSV with its timestamps moved forward by whole weeks so it ends just before `end`. */
function shiftedHousehold(file: string, end: string): string {
  const lines = gunzipSync(readFileSync(file)).toString('utf8').trim().split('\n');
  const header = lines[0]!.split(',');
  const tsCol = header.indexOf('timestamp_utc');
  const last = Date.parse(lines[lines.length - 1]!.split(',')[tsCol]!);
  const shift = Math.floor((Date.parse(end) - last) / WEEK_MS) * WEEK_MS;
  const out = [lines[0]!];
  for (const line of lines.slice(1)) {
    const cells = line.split(',');
    cells[tsCol] = new Date(Date.parse(cells[tsCol]!) + shift).toISOString().replace('.000Z', 'Z');
    out.push(cells.join(','));
  }
  const path = join(dir, 'household.csv');
  writeFileSync(path, out.join('\n') + '\n');
  return path;
}

beforeAll(async () => {
  Object.assign(process.env, {
    HEA_NOW: NOW,
    HEA_TIMEZONE: 'Europe/Stockholm',
    HEA_BACKFILL_DAYS: '120',
    HEA_PRICE_SOURCE: 'csv',
    HEA_PRICE_CSV: join(REAL, 'prices', 'price_SE4.csv.gz'),
    HEA_PRICE_ZONE: 'SE4',
    HEA_CONSUMPTION_SOURCE: 'csv',
    HEA_CONSUMPTION_CSV: shiftedHousehold(join(REAL, 'households', 'household_london_MAC000060.csv.gz'), '2024-12-20T06:00:00Z'),
  });
  env = await createTestServer();
  await workflowBundle();
}, 120_000);

afterAll(async () => {
  process.env = saved;
  await env?.teardown();
});

const config = loadConfig(join(ROOT, 'config', 'hea.yaml'), {
  env: { HEA_DATA_DIR: join(dir, 'data'), HEA_MODELS_DIR: join(dir, 'models'), HEA_REPORTS_DIR: join(dir, 'reports') },
});
for (const job of Object.values(config.jobs)) job.retry = { ...job.retry, initialInterval: 100, maximumAttempts: 1 };

const step = (report: RunReport, name: string) => report.steps.find((s) => s.step === name) as StepReport;

interface Issue {
  model: string;
}

/** The model of the newest issue of `forecast`, and the registry's champion of that model's name. */
function servedAndChosen(db: Database.Database, forecast: string): { served: string; chosen: string | undefined } {
  const issue = db.prepare('SELECT model FROM forecasts WHERE name = ? ORDER BY issued_at DESC LIMIT 1').get(forecast) as Issue | undefined;
  const served = issue?.model ?? '';
  const name = served.split(':')[0]!;
  const champion = db.prepare('SELECT version FROM models WHERE name = ? AND promoted = 1 ORDER BY promoted_seq DESC LIMIT 1').get(name) as
    { version: string } | undefined;
  return { served, chosen: champion ? `${name}:${champion.version}` : undefined };
}

test('real prices and a real household, imported as a user would: training and the daily pipeline serve the registry’s choice', async () => {
  const taskQueue = uniqueTaskQueue('real');
  const worker = await fixtureWorker(env, config, taskQueue);
  await worker.runUntil(async () => {
    const run = (workflow: string, params: Record<string, unknown>) =>
      env.client.workflow.execute(workflow, { taskQueue, workflowId: `${workflow}-${taskQueue}`, args: [params] }) as Promise<RunReport>;

    const weekly = await run('weeklyModelTraining', { demandTrials: 1 });
    expect(weekly.steps.filter((s) => s.status !== 'success').map((s) => `${s.step}: ${s.error}`)).toEqual([]);
    const prices = step(weekly, 'update: spot prices').result as { source: string; coverage: Record<string, { missing_hours: number }> };
    expect(prices.source).toBe('csv');
    expect(prices.coverage['price.spot']!.missing_hours).toBe(0); // the file covers 120 days back through tomorrow
    const demand = step(weekly, 'demand model').result as {
      inputs: { weather: string };
      serving: string;
      metrics: Record<string, number>;
    };
    expect(demand.inputs.weather).not.toBe('no weather'); // the simulator's weather is there, and said to be
    expect(demand.serving).toMatch(/^(demand:|naive:(yesterday|7day|blend)$)/); // registry.decide's choice
    expect(demand.metrics.baseline_7day_mae).toBeGreaterThan(0);

    const daily = await run('dailyEnergyPipeline', { horizonDays: 1, runBatteryPlan: false });
    expect(daily.steps.filter((s) => s.status !== 'success').map((s) => `${s.step}: ${s.error}`)).toEqual([]);

    const db = new Database(join(dir, 'data', 'energy.db'), { readonly: true });
    try {
      const sources = db.prepare('SELECT name, source FROM series_meta').all() as { name: string; source: string }[];
      const sourceOf = Object.fromEntries(sources.map((r) => [r.name, r.source]));
      expect(sourceOf['price.spot']).toBe('csv');
      expect(sourceOf['home.consumption']).toBe('csv');
      // the real prices are the file's: the last hour of 2024-12-20 UTC in SE4
      const row = db.prepare("SELECT value FROM series WHERE name = 'price.spot' AND ts = ?").get(Date.parse('2024-12-20T23:00:00Z') / 1000) as
        { value: number } | undefined;
      const file = gunzipSync(readFileSync(process.env.HEA_PRICE_CSV!)).toString('utf8');
      const expected = Number(/2024-12-20T23:00:00Z,([-0-9.]+)/.exec(file)![1]);
      expect(row?.value).toBeCloseTo(expected, 6);
      for (const forecast of ['forecast.price', 'forecast.demand']) {
        const { served, chosen } = servedAndChosen(db, forecast);
        if (served.startsWith('naive:')) {
          // The registry chose a naive forecaster over the model (jobs/common/registry.py `decide`): the
          // forecast names it, and so does the serving decision next to the model.
          const name = forecast === 'forecast.price' ? 'price_trend' : 'demand';
          const decision = JSON.parse(readFileSync(join(dir, 'models', name, 'serving.json'), 'utf8')) as { serving: string };
          expect(served).toBe(decision.serving);
        } else {
          expect(chosen).toBeDefined();
          expect(served).toBe(chosen);
        }
      }
    } finally {
      db.close();
    }
  });
}, 600_000);
