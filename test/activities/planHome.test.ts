// The publishPlanToHome activity on its own: off without a broker, a clear failure when the broker is down,
// and the retained messages a late subscriber still gets (real mosquitto, real store written by the jobs' code).
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { createPlanHomeActivities } from '../../src/activities/planHome.js';
import { PYTHON, ROOT, testLogger, tmpDir, waitFor, writeFixtureConfig } from '../helpers/env.js';
import { startMosquitto, subscribe, type Broker } from '../helpers/mosquitto.js';

const DIR = tmpDir('hea-planhome-');
let broker: Broker;

beforeAll(async () => {
  broker = await startMosquitto();
  // Two hours planned from the current hour on, as rl_control writes them.
  const script = [
    'import pandas as pd',
    'from jobs.common.store import Store',
    'start = pd.Timestamp.now(tz="UTC").floor("h")',
    'rows = [dict(action="charge", power_kw=2.5, energy_kwh=2.5, soc_kwh=6.0, soc_pct=60.0, price_buy_eur_kwh=0.1, price_sell_eur_kwh=0.02,',
    '             cost_eur=0.4, cost_no_battery_eur=0.15, why="charges at 0.100 EUR/kWh", soc_source="measured", mode="setpoint"),',
    '        dict(action="discharge", power_kw=-3.0, energy_kwh=-3.0, soc_kwh=2.8, soc_pct=28.0, price_buy_eur_kwh=0.4, price_sell_eur_kwh=0.3,',
    '             cost_eur=0.0, cost_no_battery_eur=0.8, why="covers the load", soc_source="measured", mode="setpoint")]',
    'with Store.open() as s: s.write_plan(start, pd.DataFrame(rows, index=pd.DatetimeIndex([start, start + pd.Timedelta(hours=1)])), controller="mpc")',
  ].join('\n');
  execFileSync(PYTHON, ['-c', script], {
    cwd: ROOT,
    env: { ...process.env, HEA_STORE_URL: `sqlite:///${join(DIR, 'data', 'energy.db')}`, HEA_DATA_DIR: join(DIR, 'data') },
    stdio: 'pipe',
  });
}, 60_000);

afterAll(async () => {
  await broker?.stop();
});

const configWith = (mqtt: Record<string, unknown>) => writeFixtureConfig({}, { mqtt }, DIR);

test('off while mqtt.url is unset', async () => {
  const res = await createPlanHomeActivities(configWith({}), testLogger()).publishPlanToHome();
  expect(res).toEqual({ published: false, off: true, detail: 'MQTT is off (mqtt.url is not set)' });
});

test('a broker that is down is an error naming it', async () => {
  const down = await startMosquitto();
  await down.stop();
  await expect(createPlanHomeActivities(configWith({ url: down.url, timeout: '2s' }), testLogger()).publishPlanToHome()).rejects.toThrow(/ECONNREFUSED|connect/);
});

test("retained: a subscriber that comes later gets the configs and this hour's states", async () => {
  const res = await createPlanHomeActivities(configWith({ url: broker.url, baseTopic: 'house', nodeId: 'garage_battery' }), testLogger()).publishPlanToHome();
  expect(res).toMatchObject({ published: true, messages: 11 });
  const sub = await subscribe(broker.url, ['homeassistant/#', 'house/#']);
  try {
    await waitFor('11 retained messages', () => sub.last.size === 11);
    expect([...sub.last.values()].every((m) => m.retain)).toBe(true);
    const state = (object: string) => sub.last.get(`house/garage_battery/${object}/state`)!.payload;
    expect(state('setpoint')).toBe('2.5');
    expect(state('mode')).toBe('setpoint');
    expect(state('soc_target')).toBe('60');
    expect(state('next_action')).toBe('discharge');
    expect(Number(state('expected_saving'))).toBeCloseTo(0.55, 6);
    const config = JSON.parse(sub.last.get('homeassistant/sensor/garage_battery/setpoint/config')!.payload) as Record<string, unknown>;
    expect(config).toMatchObject({ unique_id: 'garage_battery_setpoint', state_topic: 'house/garage_battery/setpoint/state', unit_of_measurement: 'kW' });
  } finally {
    await sub.client.endAsync();
  }
});
