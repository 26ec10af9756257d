// The battery's control loop end to end: real jobs (prices_data, rl_control) on a simulated store, a real
// Temporal dev server and worker, the API reading the plan, and a real mosquitto with a real subscriber.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { ScheduleOverlapPolicy } from '@temporalio/client';
import type { Worker } from '@temporalio/worker';
import type { MqttClient } from 'mqtt';
import type { AppConfig } from '../../src/config/load.js';
import { startApi, type RunningApi } from '../../src/api/server.js';
import { applySchedules } from '../../src/schedules/apply.js';
import { loadConfig } from '../../src/config/load.js';
import { NEW_PRICES_REPLAN_ID } from '../../src/contracts/flowParams.js';
import type { RunReport } from '../../src/workflows/report.js';
import type { Plan, PlanNow } from '../../src/store/plan.js';
import {
  FIXTURES,
  FIXTURE_JOB_DEFAULTS,
  PYTHON,
  fixtureWorker,
  ROOT,
  testLogger,
  tmpDir,
  uniqueTaskQueue,
  useTestServer,
  waitFor,
  writeFixtureConfig,
} from '../helpers/env.js';
import { startMosquitto, subscribe, type Broker } from '../helpers/mosquitto.js';

const env = useTestServer();
const DIR = tmpDir('hea-replan-');
const SEEDED_UNTIL = '2025-06-16T10:00:00Z'; // 12:00 in Stockholm: tomorrow's prices are not out yet
const AFTER_PUBLICATION = '2025-06-16T11:20:00Z'; // 13:20: they are
const HOURLY = '2025-06-16T11:50:00Z';

let broker: Broker;
let subscriber: { client: MqttClient; last: Map<string, { payload: string; retain: boolean }> };
let api: RunningApi;

function configAt(now: string, taskQueue: string, extraEnv: Record<string, string> = {}, extra: Record<string, unknown> = {}): AppConfig {
  const fixture = (name: string) => ({ args: [join(FIXTURES, 'fetch_fixture.py'), name] });
  return writeFixtureConfig(
    {
      prices_data: { args: ['-m', 'jobs.prices.fetch'] },
      co2_gas_coal: fixture('co2'),
      weather_data: fixture('weather'),
      rl_control: { args: ['-m', 'jobs.rl.run_production_agent'], timeout: '3m' },
    },
    {
      jobDefaults: { ...FIXTURE_JOB_DEFAULTS, retry: { ...FIXTURE_JOB_DEFAULTS.retry, maximumAttempts: 1 }, env: { HEA_NOW: now, HEA_BACKFILL_DAYS: '12', ...extraEnv } },
      temporal: { taskQueue },
      mqtt: { url: broker.url },
      ...extra,
    },
    DIR,
  );
}

/** Runs `body` while a worker for `config` polls its task queue. */
async function withWorker(config: AppConfig, body: () => Promise<void>): Promise<void> {
  const worker: Worker = await fixtureWorker(env, config, config.temporal.taskQueue);
  await worker.runUntil(body());
}

async function getJson<T>(path: string): Promise<{ status: number; body: T }> {
  const res = await fetch(`${api.url}${path}`);
  return { status: res.status, body: (await res.json()) as T };
}

beforeAll(async () => {
  broker = await startMosquitto();
  // Ten days of the simulated home and market up to SEEDED_UNTIL, as a backfill writes them.
  execFileSync(
    PYTHON,
    [
      '-c',
      `import pandas as pd\nfrom jobs.common.store import Store\nfrom jobs.simulator.backfill import backfill_store\nend = pd.Timestamp("${SEEDED_UNTIL}")\nwith Store.open() as s: backfill_store(s, end - pd.Timedelta(days=10), end, forecasts=False)`,
    ],
    { cwd: ROOT, env: { ...process.env, HEA_DATA_DIR: join(DIR, 'data'), HEA_STORE_URL: `sqlite:///${join(DIR, 'data', 'energy.db')}` }, stdio: 'pipe' },
  );
  subscriber = await subscribe(broker.url, ['homeassistant/#', 'home-energy-ai/#']);
}, 120_000);

afterAll(async () => {
  await api?.close();
  await subscriber?.client.endAsync();
  await broker?.stop();
});

test('no plan yet: /plan and /plan/now answer 404 with a clear body; both are in the OpenAPI document', async () => {
  api = await startApi(
    { config: configAt(AFTER_PUBLICATION, 'unused'), client: env.client, target: { taskQueue: 'unused', namespace: 'default' }, logger: testLogger() },
    { host: '127.0.0.1', port: 0 },
  );
  const plan = await getJson<{ detail: string }>('/plan');
  expect(plan.status).toBe(404);
  expect(plan.body.detail).toMatch(/No battery plan yet/);
  expect((await getJson('/plan/now')).status).toBe(404);
  const doc = await getJson<{ paths: Record<string, { get: { responses: Record<string, unknown> } }> }>('/docs/json');
  expect(Object.keys(doc.body.paths['/plan']!.get.responses)).toEqual(expect.arrayContaining(['200', '404']));
  const hour = JSON.stringify(doc.body.paths['/plan']!.get.responses['200']);
  for (const field of [
    'action',
    'power_kw',
    'energy_kwh',
    'soc_pct',
    'price_buy_eur_kwh',
    'price_sell_eur_kwh',
    'cost_no_battery_eur',
    'why',
    'soc_source',
    'expected_saving_eur',
  ]) {
    expect(hour).toContain(field);
  }
  expect(doc.body.paths['/plan/now']).toBeDefined();
  expect((await getJson<{ detail: unknown }>('/plan/now?at=yesterday')).status).toBe(422);
});

test('a fetch that publishes new prices starts one re-plan; the plan reaches the API and the MQTT subscriber', async () => {
  const taskQueue = uniqueTaskQueue('replan-prices');
  await withWorker(configAt(AFTER_PUBLICATION, taskQueue), async () => {
    const report: RunReport = await env.client.workflow.execute('hourlyExogenousData', { taskQueue, workflowId: `hourly-${taskQueue}` });
    const prices = report.steps.find((s) => s.job === 'prices_data')!;
    expect(prices.status).toBe('success');
    expect(Number(prices.result!.new_future_hours)).toBe(35); // 13:00 today .. 24:00 tomorrow, local
    const replan = report.steps.find((s) => s.step === 'battery re-plan (new prices)')!;
    expect(replan.status).toBe('success');

    const child: RunReport = await env.client.workflow.getHandle(NEW_PRICES_REPLAN_ID).result();
    expect(child.params).toEqual({ trigger: 'new-prices', fetchPrices: false, republishWithinMinutes: 0 });
    expect(child.steps.map((s) => [s.step, s.status])).toEqual([
      ['battery plan', 'success'],
      ['plan to the home (MQTT)', 'success'],
    ]);

    const { status, body: plan } = await getJson<Plan>('/plan');
    expect(status).toBe(200);
    expect(plan.issued_at).toBe(AFTER_PUBLICATION);
    expect(plan.soc_source).toBe('initial');
    expect(plan.start).toBe('2025-06-16T12:00:00Z');
    expect(plan.end).toBe('2025-06-17T22:00:00Z');
    expect(plan.hours).toHaveLength(34);
    for (const h of plan.hours) {
      expect(['charge', 'discharge', 'idle']).toContain(h.action);
      expect(h.price_buy_eur_kwh!).toBeGreaterThan(h.price_sell_eur_kwh!);
      expect(h.why!.length).toBeGreaterThan(10);
      expect(h.energy_kwh).toBeCloseTo(h.power_kw!, 9);
    }
    expect(plan.expected_saving_eur).toBeCloseTo(plan.expected_cost_no_battery_eur - plan.expected_cost_eur, 2);

    // Home Assistant discovery: five retained sensor configs and their states.
    const configs = await waitFor('the discovery configs', () => {
      const found = [...subscriber.last.entries()].filter(([t]) => /^homeassistant\/sensor\/hea_battery\/[a-z_]+\/config$/.test(t));
      return found.length === 5 ? found : undefined;
    });
    const byObject = Object.fromEntries(configs.map(([t, m]) => [t.split('/')[3]!, JSON.parse(m.payload) as Record<string, unknown>]));
    expect(Object.keys(byObject).sort()).toEqual(['expected_saving', 'mode', 'next_action', 'setpoint', 'soc_target']);
    expect(byObject.setpoint).toMatchObject({
      unique_id: 'hea_battery_setpoint',
      unit_of_measurement: 'kW',
      device_class: 'power',
      state_topic: 'home-energy-ai/hea_battery/setpoint/state',
    });
    expect(byObject.expected_saving).toMatchObject({ unit_of_measurement: 'EUR', device_class: 'monetary' });
    expect(byObject.soc_target).toMatchObject({ unit_of_measurement: '%', device_class: 'battery' });
    expect((byObject.mode!.device as { identifiers: string[] }).identifiers).toEqual(['hea_battery']);
    const saving = await waitFor('the expected-saving state', () => subscriber.last.get('home-energy-ai/hea_battery/expected_saving/state'));
    expect(Number(saving.payload)).toBeCloseTo(plan.expected_saving_eur, 3);
    const attributes = JSON.parse(subscriber.last.get('home-energy-ai/hea_battery/plan/attributes')!.payload) as Record<string, unknown>;
    expect(attributes).toMatchObject({ issued_at: AFTER_PUBLICATION, controller: 'rule_based', soc_source: 'initial' });

    // The same hour again: nothing newly published, no re-plan.
    const again: RunReport = await env.client.workflow.execute('hourlyExogenousData', { taskQueue, workflowId: `hourly-again-${taskQueue}` });
    expect(again.steps.find((s) => s.job === 'prices_data')!.result!.new_future_hours).toBe(0);
    expect(again.steps.some((s) => s.step.startsWith('battery re-plan'))).toBe(false);
  });
}, 180_000);

test("hea.yaml's publication and hourly schedules re-plan; the hourly one on the measured state of charge", async () => {
  const taskQueue = uniqueTaskQueue('replan-schedules');
  const real = loadConfig(join(ROOT, 'config', 'hea.yaml'));
  const entries = Object.fromEntries(
    ['battery-replan-publication', 'battery-replan-hourly'].map((key) => {
      const e = real.schedules.entries[key]!;
      return [key, { flow: e.flow, cron: e.cron, params: e.params }];
    }),
  );
  expect(entries['battery-replan-publication']).toEqual({ flow: 'battery-replan', cron: '15 13 * * *', params: { trigger: 'publication', fetchPrices: true } });
  expect(entries['battery-replan-hourly']).toEqual({ flow: 'battery-replan', cron: '50 * * * *', params: { trigger: 'hourly' } });
  // On the wall clock a run in the hour's last 15 minutes would publish again at the hour: not in a test.
  for (const e of Object.values(entries)) e.params = { ...e.params, republishWithinMinutes: 0 };
  const config = configAt(
    HOURLY,
    taskQueue,
    { HEA_SOC_SOURCE: 'env', HEA_BATTERY_SOC_NOW: '0.7' },
    {
      schedules: { timezone: 'Europe/Stockholm', idPrefix: 'replan-', entries },
    },
  );
  await withWorker(config, async () => {
    await applySchedules(env.client, config);

    // A scheduled run's jobs take its scheduled time as "now" (HEA_NOW), so each schedule is backfilled at
    // one of its own times on the fixed clock's day: 13:15 and 13:50 Stockholm time on 2025-06-16.
    const scheduledAt: Record<string, string> = { 'battery-replan-publication': '2025-06-16T11:15:00Z', 'battery-replan-hourly': HOURLY };
    for (const key of ['battery-replan-publication', 'battery-replan-hourly']) {
      const handle = env.client.schedule.getHandle(`replan-${key}`);
      const before = (await handle.describe()).info.recentActions.length;
      const at = Date.parse(scheduledAt[key]!);
      await handle.backfill({ start: new Date(at - 60_000), end: new Date(at + 60_000), overlap: ScheduleOverlapPolicy.ALLOW_ALL });
      const started = await waitFor(`${key} to start a run`, async () => {
        const actions = (await handle.describe()).info.recentActions;
        return actions.length > before ? actions[actions.length - 1]!.action.workflow.workflowId : undefined;
      });
      const report: RunReport = await env.client.workflow.getHandle(started).result();
      expect(report.workflow).toBe('batteryReplan');
      const steps = report.steps.map((s) => s.step);
      expect(steps).toEqual(key.endsWith('publication') ? ['spot prices', 'battery plan', 'plan to the home (MQTT)'] : ['battery plan', 'plan to the home (MQTT)']);
      expect(report.steps.every((s) => s.status === 'success')).toBe(true);
    }

    const { body: plan } = await getJson<Plan>('/plan');
    expect(plan.issued_at).toBe(HOURLY);
    expect(plan.soc_source).toBe('measured');
    expect(plan.start).toBe('2025-06-16T12:00:00Z');
    const { body: now } = await getJson<PlanNow>('/plan/now?at=2025-06-16T12:30:00%2B00:00');
    expect(now.issued_at).toBe(HOURLY);
    expect(now.now).toEqual(plan.hours[0]);
    expect(now.next).toEqual(plan.hours[1]);
    // Before the newest plan's first hour, nothing is planned for the hour under way.
    const early = await getJson<PlanNow>('/plan/now?at=2025-06-16T11:55:00Z');
    expect(early.body.now).toBeNull();
    expect(early.body.next!.ts).toBe('2025-06-16T12:00:00Z');
    await waitFor('the states of the hourly plan', () => {
      const attrs = subscriber.last.get('home-energy-ai/hea_battery/plan/attributes');
      return attrs && (JSON.parse(attrs.payload) as { issued_at: string }).issued_at === HOURLY;
    });
  });
}, 240_000);

test('the daily pipeline publishes its battery plan to the home, as the re-plans do', async () => {
  const taskQueue = uniqueTaskQueue('daily-publish');
  const DAILY = '2025-06-16T12:05:00Z';
  const echo = { args: [join(FIXTURES, 'echo_job.py')] };
  const config = writeFixtureConfig(
    { rl_control: { args: ['-m', 'jobs.rl.run_production_agent'], timeout: '3m' }, accuracy_score: echo, daily_report: echo },
    {
      jobDefaults: { ...FIXTURE_JOB_DEFAULTS, retry: { ...FIXTURE_JOB_DEFAULTS.retry, maximumAttempts: 1 }, env: { HEA_NOW: DAILY } },
      temporal: { taskQueue },
      mqtt: { url: broker.url },
    },
    DIR,
  );
  await withWorker(config, async () => {
    const params = { updateData: false, runSolarPredictions: false, runPricePredictions: false, runDemandPredictions: false };
    const report: RunReport = await env.client.workflow.execute('dailyEnergyPipeline', { taskQueue, workflowId: `daily-${taskQueue}`, args: [params] });
    expect(report.steps.map((s) => [s.step, s.status])).toEqual([
      ['battery plan', 'success'],
      ['plan to the home (MQTT)', 'success'],
      ['forecast accuracy', 'success'],
      ['daily report', 'success'],
    ]);
    expect(report.steps[1]!.result).toMatchObject({ issued_at: DAILY });
    await waitFor('the states of the daily plan', () => {
      const attrs = subscriber.last.get('home-energy-ai/hea_battery/plan/attributes');
      return attrs && (JSON.parse(attrs.payload) as { issued_at: string }).issued_at === DAILY;
    });
  });
}, 180_000);
