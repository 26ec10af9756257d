// The meter training API with the InfluxDB source: a real influxd, a real worker, the real job.
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import type { AppConfig } from '../../src/config/load.js';
import { startApi, type RunningApi } from '../../src/api/server.js';
import { PYTHON, createTestServer, fixtureConfig, fixtureWorker, testLogger, uniqueTaskQueue, waitFor } from '../helpers/env.js';
import { influxdBinary, startInflux, type Influx } from '../helpers/influx.js';

const FIXED_NOW = Date.parse('2025-11-03T10:00:00Z');
const DAYS = 35;
const HOUR = 3_600_000;
const maybe = influxdBinary() ? describe : describe.skip;

/** A meter with a daily shape, a weekend step and deterministic noise, as 15-minute readings. */
function meterLines(meterId: string): string[] {
  let seed = 12345;
  const noise = () => {
    seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
    return seed / 2 ** 31 - 0.5;
  };
  const lines: string[] = [];
  for (let t = FIXED_NOW - DAYS * 24 * HOUR; t < FIXED_NOW; t += HOUR) {
    const d = new Date(t);
    const hourly = 1 + 0.6 * Math.sin((2 * Math.PI * (d.getUTCHours() - 7)) / 24) + (d.getUTCDay() % 6 === 0 ? 0.3 : 0) + 0.2 * noise();
    for (let q = 0; q < 4; q += 1) {
      lines.push(`consumption,meter_id=${meterId},meter_type=electricity value=${(hourly / 4).toFixed(5)} ${t / 1000 + q * 900}`);
    }
  }
  return lines;
}

maybe('InfluxDB source', () => {
  let env: TestWorkflowEnvironment;
  let influx: Influx;
  let config: AppConfig;
  let worker: Worker;
  let running: Promise<void>;
  let api: RunningApi;

  beforeAll(async () => {
    [env, influx] = await Promise.all([createTestServer(), startInflux()]);
    await influx.write('meters', meterLines('site-7.main'));
    config = fixtureConfig(
      {
        meter_train: {
          args: ['-m', 'jobs.meters.train'],
          heartbeatTimeout: '2s',
          retry: { initialInterval: '100ms', backoffCoefficient: 1, maximumInterval: '1s', maximumAttempts: 2 },
        },
      },
      {
        jobDefaults: {
          command: PYTHON,
          timeout: '1m',
          killGrace: '2s',
          retry: { initialInterval: '100ms', backoffCoefficient: 1, maximumInterval: '1s', maximumAttempts: 2 },
          env: {
            HEA_NOW: new Date(FIXED_NOW + 30 * 60_000).toISOString(),
            HEA_METER_SOURCE: 'influx',
            HEA_INFLUX_URL: influx.url,
            HEA_INFLUX_DB: 'meters',
            HEA_INFLUX_TIMEOUT: '3',
            HEA_METER_HISTORY_DAYS: String(DAYS),
            HEA_METER_MIN_DAYS: '21',
            HEA_METER_HOLDOUT_DAYS: '7',
            HEA_METER_ESTIMATORS: '40',
          },
        },
        api: { port: 0 },
      },
    );
    const taskQueue = uniqueTaskQueue('influx');
    worker = await fixtureWorker(env, config, taskQueue);
    running = worker.run();
    api = await startApi({ config, client: env.client, target: { taskQueue, namespace: 'default' }, logger: testLogger() }, { host: '127.0.0.1', port: 0 });
  }, 120_000);

  afterAll(async () => {
    await api?.close();
    worker?.shutdown();
    await running;
    await influx?.stop();
    await env?.teardown();
  });

  async function train(meterId: string): Promise<Record<string, any>> {
    const post = await fetch(`${api.url}/trainmodel/`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ meter_id: meterId, meter_type: 'electricity' }),
    });
    expect(post.status).toBe(202);
    const { task_id: taskId } = (await post.json()) as { task_id: string };
    return waitFor(
      `task ${taskId} to end`,
      async () => {
        const body = (await (await fetch(`${api.url}/trainmodel/status/${taskId}`)).json()) as Record<string, any>;
        return ['SUCCESS', 'FAILED'].includes(body.status) ? body : undefined;
      },
      60_000,
    );
  }

  test('a meter in InfluxDB trains from hourly sums of its readings', async () => {
    const done = await train('site-7.main');
    expect(done.status).toBe('SUCCESS');
    expect(done.result.details).toMatchObject({ source: 'influx', data_points: DAYS * 24, meter_id: 'site-7.main' });
    expect(done.result.details.data_quality.missing_hours).toBe(0);
    // The model beats "same time yesterday" on a meter with a clean daily shape.
    expect(done.result.details.metrics.rmae_yesterday).toBeLessThan(1);
  });

  test('a meter InfluxDB does not know fails as DataError; InfluxDB down fails after the retries', async () => {
    const unknown = await train('site-8.main');
    expect(unknown).toMatchObject({ status: 'FAILED', error: { type: 'DataError' } });
    expect(unknown.error.message).toMatch(/^meter unknown: InfluxDB has no readings for meter_id=site-8\.main/);

    await influx.stop();
    const down = await train('site-7.main');
    expect(down).toMatchObject({ status: 'FAILED', error: { type: 'JobFailed', attempts: 2 } });
    expect(down.error.message).toContain('InfluxDB ping: cannot reach');
  });
});
