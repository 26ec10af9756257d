// A burst of concurrent POSTs, for one meter and for several: no duplicate trainings, no lost tasks.
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { startApi, type RunningApi } from '../../src/api/server.js';
import { meterWorkflowId } from '../../src/contracts/trainings.js';
import { PYTHON, createTestServer, fixtureConfig, fixtureWorker, testLogger, uniqueTaskQueue, waitFor } from '../helpers/env.js';

let env: TestWorkflowEnvironment;
let api: RunningApi;

const config = fixtureConfig(
  { meter_train: { args: ['-m', 'jobs.meters.train'], heartbeatTimeout: '5s', timeout: '2m', retry: { maximumAttempts: 2 } } },
  {
    jobDefaults: {
      command: PYTHON,
      env: { HEA_NOW: '2025-11-03T10:30:00Z', HEA_METER_HISTORY_DAYS: '35', HEA_METER_MIN_DAYS: '21', HEA_METER_HOLDOUT_DAYS: '7', HEA_METER_ESTIMATORS: '30' },
    },
    api: { port: 0 },
  },
);
const taskQueue = uniqueTaskQueue('burst');

beforeAll(async () => {
  env = await createTestServer();
  api = await startApi({ config, client: env.client, target: { taskQueue, namespace: 'default' }, logger: testLogger() }, { host: '127.0.0.1', port: 0 });
}, 120_000);

afterAll(async () => {
  await api?.close();
  await env?.teardown();
});

async function post(meterId: string): Promise<{ status: number; body: { task_id: string; duplicate?: boolean } }> {
  const res = await fetch(`${api.url}/trainmodel/`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ meter_id: meterId, meter_type: 'electricity' }),
  });
  return { status: res.status, body: (await res.json()) as { task_id: string; duplicate?: boolean } };
}

test('30 concurrent POSTs for 1 + 5 meters: one training per meter, every answer a task that succeeds', async () => {
  const meters = ['meter_burst_a', 'meter_burst_b', 'meter_burst_c', 'meter_burst_d', 'meter_burst_e'];
  const requests = [...Array.from({ length: 20 }, () => 'meter_burst_same'), ...meters.flatMap((m) => [m, m])];
  // All at once, before any worker runs: the trainings cannot end between two POSTs for the same meter.
  const answers = await Promise.all(requests.map(post));
  expect(answers.map((a) => a.status)).toEqual(requests.map(() => 202));

  const byMeter = new Map<string, Set<string>>();
  requests.forEach((meter, i) => {
    if (!byMeter.has(meter)) byMeter.set(meter, new Set());
    byMeter.get(meter)!.add(answers[i]!.body.task_id);
  });
  for (const [meter, ids] of byMeter) expect([meter, ids.size]).toEqual([meter, 1]);
  expect(answers.filter((a) => a.body.duplicate === false)).toHaveLength(6);
  // The API's Prometheus metrics count them the same way.
  const metrics = await (await fetch(`${api.url}/metrics`)).text();
  expect(metrics).toContain('hea_api_training_requests_total{meter_type="electricity",duplicate="false"} 6');
  expect(metrics).toContain('hea_api_training_requests_total{meter_type="electricity",duplicate="true"} 24');
  expect(metrics).toMatch(/hea_api_request_duration_seconds_count\{method="POST",route="\/trainmodel\/",status_code="202"\} 30/);
  expect(metrics).toContain('hea_api_process_resident_memory_bytes');

  const worker = await fixtureWorker(env, config, taskQueue, { maxConcurrentActivityTaskExecutions: 3 });
  await worker.runUntil(async () => {
    for (const [meter, ids] of byMeter) {
      const [taskId] = [...ids];
      const final = await waitFor(
        `${meter} to finish`,
        async () => {
          const res = await fetch(`${api.url}/trainmodel/status/${taskId}`);
          const body = (await res.json()) as { status: string };
          return ['SUCCESS', 'FAILED'].includes(body.status) ? body : undefined;
        },
        120_000,
      );
      expect([meter, final.status]).toEqual([meter, 'SUCCESS']);
    }
  });
  // Exactly one run per meter was ever started.
  for (const meter of byMeter.keys()) {
    const runs: string[] = [];
    for await (const wf of env.client.workflow.list({ query: `WorkflowId = '${meterWorkflowId('electricity', meter)}'` })) runs.push(wf.runId);
    expect([meter, runs.length]).toEqual([meter, 1]);
  }
}, 300_000);
