// The meter training API against a real Temporal dev server, a real worker and the real Python job.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { Client, Connection, WorkflowNotFoundError } from '@temporalio/client';
import type { AppConfig } from '../../src/config/load.js';
import { startApi, type RunningApi } from '../../src/api/server.js';
import { STATUSES } from '../../src/api/schemas.js';
import { meterWorkflowId } from '../../src/contracts/trainings.js';
import { slowLink } from '../helpers/faults.js';
import { PYTHON, createTestServer, fixtureConfig, fixtureWorker, testLogger, uniqueTaskQueue, waitFor, workflowBundle } from '../helpers/env.js';

const TOKEN = 'a-test-token-of-some-length';
const FIXED_NOW = '2025-11-03T10:30:00Z';

/** Small, quick trainings; each stage pauses a second so that throttled heartbeats show every stage. */
function meterConfig(api: Record<string, unknown> = {}): AppConfig {
  return fixtureConfig(
    {
      meter_train: {
        args: ['-m', 'jobs.meters.train'],
        heartbeatTimeout: '1s',
        timeout: '2m',
        retry: { initialInterval: '100ms', backoffCoefficient: 1, maximumInterval: '1s', maximumAttempts: 2 },
      },
    },
    {
      jobDefaults: {
        command: PYTHON,
        timeout: '1m',
        heartbeatTimeout: '10s',
        killGrace: '2s',
        retry: { initialInterval: '100ms', backoffCoefficient: 1, maximumInterval: '1s', maximumAttempts: 2 },
        env: {
          HEA_NOW: FIXED_NOW,
          HEA_METER_HISTORY_DAYS: '35',
          HEA_METER_MIN_DAYS: '21',
          HEA_METER_HOLDOUT_DAYS: '7',
          HEA_METER_ESTIMATORS: '40',
          HEA_METER_STAGE_PAUSE_SECONDS: '1',
        },
      },
      api: { port: 0, bulkConcurrency: 2, ...api },
    },
  );
}

let env: TestWorkflowEnvironment;
let config: AppConfig;
let taskQueue: string;
let worker: Worker | undefined;
let running: Promise<void> | undefined;
let api: RunningApi;

async function startWorker(): Promise<void> {
  worker = await fixtureWorker(env, config, taskQueue, { maxConcurrentActivityTaskExecutions: 4 });
  running = worker.run();
}

beforeAll(async () => {
  env = await createTestServer();
  await workflowBundle();
  config = meterConfig();
  taskQueue = uniqueTaskQueue('meters');
  api = await startApi({ config, client: env.client, target: { taskQueue, namespace: 'default' }, logger: testLogger() }, { host: '127.0.0.1', port: 0 });
}, 120_000);

afterAll(async () => {
  await api?.close();
  worker?.shutdown();
  await running;
  await env?.teardown();
});

async function call(method: string, path: string, body?: unknown, headers: Record<string, string> = {}, base = api.url) {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : undefined) as Record<string, any>, headers: res.headers };
}

/** Polls a task until it ends, recording every distinct status seen on the way. */
async function follow(taskId: string, timeoutMs = 60_000) {
  const seen: Record<string, any>[] = [];
  const badAnswers: number[] = []; // asserted after the wait: waitFor retries on a thrown expectation
  const final = await waitFor(
    `task ${taskId} to end`,
    async () => {
      const res = await call('GET', `/trainmodel/status/${taskId}`);
      if (res.status !== 200) badAnswers.push(res.status);
      if (seen.at(-1)?.status !== res.body.status) seen.push(res.body);
      return ['SUCCESS', 'FAILED'].includes(res.body.status) ? res.body : undefined;
    },
    timeoutMs,
  );
  expect(badAnswers).toEqual([]);
  return { seen, final };
}

test('without a worker a task stays PENDING and /health/worker says why; with one it moves through every stage to SUCCESS', async () => {
  const health = await call('GET', '/health/');
  expect(health.status).toBe(200);
  expect((await call('GET', '/health')).status).toBe(200);
  expect(health.body).toMatchObject({ status: 'healthy', temporal: { status: 'connected', task_queue: taskQueue } });
  const noWorker = await call('GET', '/health/worker');
  expect(noWorker.status).toBe(503);
  expect(noWorker.body).toMatchObject({ status: 'unhealthy', workers: [] });
  expect(noWorker.body.message).toContain('no worker polls');

  const post = await call('POST', '/trainmodel/', { meter_id: 'meter_test_001', meter_type: 'electricity' });
  expect(post.status).toBe(202);
  expect(post.body).toMatchObject({ status: 'PENDING', progress: 0, message: 'Task queued for processing', duplicate: false });
  const taskId = post.body.task_id as string;
  expect(taskId).toMatch(/^electricity:meter_test_001:[0-9a-f-]{36}$/);
  expect(post.headers.get('location')).toBe(`/trainmodel/status/${taskId}`);
  const pending = await call('GET', `/trainmodel/status/${taskId}`);
  expect(pending.body).toMatchObject({ task_id: taskId, status: 'PENDING', meter_id: 'meter_test_001', meter_type: 'electricity' });
  expect(pending.body.message).toContain('no worker polls the task queue');
  expect(pending.body.estimated_completion).toBeNull(); // nothing measured yet, and no worker

  // The duplicate POST (still pending): the same task.
  const again = await call('POST', '/trainmodel/', { meter_id: 'meter_test_001', meter_type: 'electricity' });
  expect(again.status).toBe(202);
  expect(again.body).toMatchObject({ task_id: taskId, duplicate: true, status: 'PENDING' });

  await startWorker();
  const workerHealth = await waitFor('/health/worker to see the worker', async () => {
    const res = await call('GET', '/health/worker');
    return res.status === 200 ? res : undefined;
  });
  expect(workerHealth.body.workers.length).toBeGreaterThan(0);

  // A duplicate while it trains returns the running task too.
  const during = await waitFor('the training to start', async () => {
    const res = await call('GET', `/trainmodel/status/${taskId}`);
    return res.body.status !== 'PENDING' ? res : undefined;
  });
  expect(during.body.status).not.toBe('SUCCESS');
  const dup = await call('POST', '/trainmodel/', { meter_id: 'meter_test_001', meter_type: 'electricity' });
  expect(dup.body).toMatchObject({ task_id: taskId, duplicate: true });
  expect(dup.body.status).not.toBe('PENDING');

  const { seen, final } = await follow(taskId);
  const order = seen.map((s) => s.status as string);
  const idx = order.map((s) => STATUSES.indexOf(s as never));
  expect(idx).toEqual([...idx].sort((a, b) => a - b)); // never goes backwards
  for (const stage of ['CONNECTING', 'FETCHING_DATA', 'VALIDATING_DATA', 'TRAINING_MODEL', 'SAVING_MODEL']) expect(order).toContain(stage);
  for (const s of seen.filter((x) => x.status !== 'SUCCESS')) {
    expect(s.started_at).toBeTruthy();
    expect(s.updated_at).toBeTruthy();
    expect(typeof s.progress).toBe('number');
  }
  expect(final).toMatchObject({ status: 'SUCCESS', progress: 100, message: 'Model training completed successfully!' });
  expect(final.result).toMatchObject({ status: 'success', details: { meter_id: 'meter_test_001', meter_type: 'electricity', data_points: 35 * 24 } });
  const details = final.result.details;
  expect(details.model_path).toBe(join(config.dirs.models, 'electricity', 'meter_test_001.pkl'));
  expect(existsSync(details.model_path)).toBe(true);
  expect(existsSync(join(config.dirs.models, 'electricity', 'meter_test_001.json'))).toBe(true);
  expect(details.metrics.mae).toBeGreaterThan(0);
  expect(details.metrics.baseline_yesterday_mae).toBeGreaterThan(0);
  expect(details.training_time_seconds).toBeGreaterThan(0);
  expect(details.data_fetch_time_seconds).toBeGreaterThanOrEqual(0);
  expect(details.task_id).toBe(taskId);
  // Measured stage times now exist: they drive the next trainings' estimates.
  const times = JSON.parse(readFileSync(join(config.dirs.data, 'meters', 'stage_times.json'), 'utf8'));
  expect(times.trainings).toBe(1);

  // After it ended, a POST starts a new training with a new task id.
  const next = await call('POST', '/trainmodel/', { meter_id: 'meter_test_001', meter_type: 'electricity' });
  expect(next.body.task_id).not.toBe(taskId);
  expect(next.body.duplicate).toBe(false);
  const running2 = await waitFor('the second training to run a stage', async () => {
    const res = await call('GET', `/trainmodel/status/${next.body.task_id}`);
    return ['CONNECTING', 'FETCHING_DATA', 'VALIDATING_DATA', 'TRAINING_MODEL'].includes(res.body.status) ? res : undefined;
  });
  // The estimate comes from the first training's measured stages (1 s pauses included): after now, within a minute.
  const eta = Date.parse(running2.body.estimated_completion);
  expect(eta).toBeGreaterThan(Date.now() - 1_000);
  expect(eta).toBeLessThan(Date.now() + 60_000);
  expect((await follow(next.body.task_id)).final.status).toBe('SUCCESS');
});

test("an unknown meter and a meter with too little data fail with the job's error type and message", async () => {
  if (!worker) await startWorker();
  const unknown = await call('POST', '/trainmodel/', { meter_id: 'not-a-simulated-meter', meter_type: 'heat' });
  const short = await call('POST', '/trainmodel/', { meter_id: 'meter_x_short', meter_type: 'water' });
  expect(unknown.status).toBe(202);
  const [a, b] = await Promise.all([follow(unknown.body.task_id), follow(short.body.task_id)]);
  expect(a.final).toMatchObject({ status: 'FAILED', error: { type: 'DataError' } });
  expect(a.final.error.message).toMatch(/^meter unknown: the store has no readings for meter\.heat\.not-a-simulated-meter/);
  expect(a.final.message).toContain('meter unknown');
  expect(b.final).toMatchObject({ status: 'FAILED', error: { type: 'DataError' } });
  expect(b.final.error.message).toMatch(/^not enough data: 240 hourly readings/);
  // A DataError is final: one attempt only.
  expect(b.final.error.attempts ?? 1).toBe(1);
});

test("bad bodies get 422 with each field's problem, and nothing starts", async () => {
  const cases: Array<[unknown, string[][]]> = [
    [
      {},
      [
        ['body', 'meter_id'],
        ['body', 'meter_type'],
      ],
    ],
    [{ meter_id: '../../etc/passwd', meter_type: 'electricity' }, [['body', 'meter_id']]],
    [
      { meter_id: 'a/b', meter_type: 'steam' },
      [
        ['body', 'meter_id'],
        ['body', 'meter_type'],
      ],
    ],
    [{ meter_id: 'x'.repeat(65), meter_type: 'gas' }, [['body', 'meter_id']]],
    [{ meter_id: 'meter..1', meter_type: 'gas' }, [['body', 'meter_id']]],
    [{ meter_id: 42, meter_type: 'gas' }, [['body', 'meter_id']]],
  ];
  for (const [body, locs] of cases) {
    const res = await call('POST', '/trainmodel/', body);
    expect(res.status).toBe(422);
    expect(res.body.detail.map((d: { loc: string[] }) => d.loc)).toEqual(expect.arrayContaining(locs));
    for (const d of res.body.detail) expect(typeof d.msg).toBe('string');
  }
  const typeProblem = (await call('POST', '/trainmodel/', { meter_id: 'm1', meter_type: 'steam' })).body.detail[0].msg;
  expect(typeProblem).toContain('electricity, heat, water, gas');
  const badJson = await call('POST', '/trainmodel/', '{"meter_id": ');
  expect(badJson.status).toBe(422);
  expect(badJson.body.detail[0].loc).toEqual(['body']);
  // Nothing was started for the rejected meters.
  for (const [type, id] of [
    ['gas', 'meter..1'],
    ['electricity', '../../etc/passwd'],
  ]) {
    await expect(env.client.workflow.getHandle(meterWorkflowId(type!, id!)).describe()).rejects.toBeInstanceOf(WorkflowNotFoundError);
  }
  const bulk = await call('POST', '/trainmodel/bulk', {
    meters: [
      { meter_id: 'ok_1', meter_type: 'heat' },
      { meter_id: '/x', meter_type: 'heat' },
    ],
  });
  expect(bulk.status).toBe(422);
  expect(bulk.body.detail[0].loc).toEqual(['body', 'meters', 1, 'meter_id']);
  expect((await call('POST', '/trainmodel/bulk', { meters: [] })).status).toBe(422);
});

test('unknown tasks and bulk ids are 404', async () => {
  for (const id of ['nope', 'electricity:meter_1:00000000-0000-4000-8000-000000000000', 'a:b:c:d']) {
    const res = await call('GET', `/trainmodel/status/${encodeURIComponent(id)}`);
    expect(res.status).toBe(404);
    expect(res.body.detail).toContain('not found');
  }
  expect((await call('GET', '/trainmodel/bulk/00000000-0000-4000-8000-000000000000')).status).toBe(404);
  expect((await call('GET', '/trainmodel/bulk/whatever')).status).toBe(404);
});

test('with a token, mutating endpoints need the bearer token (401 before any validation); reads do not', async () => {
  const secured = meterConfig({ token: TOKEN });
  // light-my-request (fastify.inject) is ESM-only under jest: use a real port instead.
  const other = await startApi(
    { config: secured, client: env.client, target: { taskQueue: uniqueTaskQueue('auth'), namespace: 'default' }, logger: testLogger() },
    { host: '127.0.0.1', port: 0 },
  );
  const at = (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => call(method, path, body, headers, other.url);
  try {
    const body = { meter_id: 'meter_auth_1', meter_type: 'gas' };
    const none = await at('POST', '/trainmodel/', body);
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toBe('Bearer');
    expect((await at('POST', '/trainmodel/', body, { authorization: 'Bearer wrong-token-of-some-length' })).status).toBe(401);
    expect((await at('POST', '/trainmodel/', body, { authorization: TOKEN })).status).toBe(401);
    expect((await at('POST', '/trainmodel/', { meter_id: '../x' })).status).toBe(401);
    expect((await at('POST', '/trainmodel/bulk', { meters: [body] })).status).toBe(401);
    expect((await at('POST', '/trainmodel/', { meter_id: '../x' }, { authorization: `Bearer ${TOKEN}` })).status).toBe(422);
    const ok = await at('POST', '/trainmodel/', body, { authorization: `Bearer ${TOKEN}` });
    expect(ok.status).toBe(202);
    const status = await at('GET', `/trainmodel/status/${ok.body.task_id}`);
    expect(status.status).toBe(200);
    expect(status.body.status).toBe('PENDING'); // no worker on this queue
    expect((await at('GET', '/health/')).status).toBe(200);
    await env.client.workflow.getHandle(meterWorkflowId('gas', 'meter_auth_1')).terminate('test over');
    const ended = await at('GET', `/trainmodel/status/${ok.body.task_id}`);
    expect(ended.body).toMatchObject({ status: 'FAILED', error: { type: 'Terminated' } });
  } finally {
    await other.close();
  }
});

test('a status asked after a terminate reads FAILED while other pollers keep reads of that task in flight', async () => {
  // Pollers share reads of one task; a GET that arrives after the terminate returned must not be answered
  // by a read that began before it. The API talks to Temporal over a link whose answers take 100 ms, so a
  // read that saw RUNNING is still on its way back when the terminate (over a direct link) has returned.
  const link = await slowLink(env.address, 100);
  const connection = await Connection.connect({ address: link.address });
  const own = await startApi(
    { config, client: new Client({ connection }), target: { taskQueue: uniqueTaskQueue('fresh'), namespace: 'default' }, logger: testLogger() },
    { host: '127.0.0.1', port: 0 },
  );
  try {
    const stale: string[] = [];
    for (let i = 0; i < 4; i++) {
      const meter = { meter_id: `meter_fresh_${i}`, meter_type: 'water' };
      const post = await call('POST', '/trainmodel/', meter, {}, own.url);
      expect(post.status).toBe(202);
      const path = `/trainmodel/status/${post.body.task_id}`;
      expect((await call('GET', path, undefined, {}, own.url)).body.status).toBe('PENDING');
      let stop = false;
      const pollers = Array.from({ length: 4 }, async () => {
        while (!stop) await call('GET', path, undefined, {}, own.url);
      });
      await env.client.workflow.getHandle(meterWorkflowId('water', meter.meter_id)).terminate('read-after-write check');
      const after = await call('GET', path, undefined, {}, own.url);
      if (after.body.status !== 'FAILED') stale.push(`${meter.meter_id}: ${after.body.status}`);
      stop = true;
      await Promise.all(pollers);
    }
    expect(stale).toEqual([]);
  } finally {
    await own.close();
    await connection.close();
    await link.close();
  }
});

test('bulk: bounded concurrency, an aggregate status, and a failed meter does not stop the others', async () => {
  if (!worker) await startWorker();
  const meters = [
    { meter_id: 'meter_bulk_1', meter_type: 'electricity' },
    { meter_id: 'meter_bulk_2', meter_type: 'heat' },
    { meter_id: 'meter_bulk_1', meter_type: 'electricity' }, // duplicates are trained once
    { meter_id: 'unknown-meter', meter_type: 'gas' },
  ];
  // meter_bulk_2 is already training for a single request: the bulk waits for it, then trains it again.
  const single = await call('POST', '/trainmodel/', { meter_id: 'meter_bulk_2', meter_type: 'heat' });
  const post = await call('POST', '/trainmodel/bulk', { meters, concurrency: 2 });
  expect(post.status).toBe(202);
  expect(post.body).toMatchObject({ status: 'PENDING', total: 3, concurrency: 2 });
  let maxRunning = 0;
  let sawWaiting = false;
  const violations: string[] = []; // asserted after the wait: waitFor retries on a thrown expectation
  const final = await waitFor(
    'the bulk request to complete',
    async () => {
      const res = await call('GET', `/trainmodel/bulk/${post.body.bulk_id}`);
      if (res.status !== 200) violations.push(`status ${res.status}`);
      maxRunning = Math.max(maxRunning, res.body.counts?.RUNNING ?? 0);
      sawWaiting ||= res.body.items.some((i: { meter_id: string; status: string }) => i.meter_id === 'meter_bulk_2' && i.status === 'WAITING');
      for (const item of res.body.items.filter((i: { status: string }) => i.status === 'RUNNING')) {
        if (!item.task_id) violations.push(`${item.meter_id} RUNNING without a task_id`);
      }
      return res.body.status === 'COMPLETED' ? res.body : undefined;
    },
    90_000,
  );
  expect(violations).toEqual([]);
  expect(maxRunning).toBeLessThanOrEqual(2);
  expect(sawWaiting).toBe(true);
  const second = final.items.find((i: { meter_id: string }) => i.meter_id === 'meter_bulk_2');
  expect(second.status).toBe('SUCCESS');
  expect(second.task_id).not.toBe(single.body.task_id);
  expect((await call('GET', `/trainmodel/status/${single.body.task_id}`)).body.status).toBe('SUCCESS');
  expect(final.counts).toMatchObject({ SUCCESS: 2, FAILED: 1, RUNNING: 0, QUEUED: 0 });
  expect(final.progress).toBe(100);
  const failed = final.items.find((i: { status: string }) => i.status === 'FAILED');
  expect(failed).toMatchObject({ meter_id: 'unknown-meter', error: { type: 'DataError' } });
  // No two of the three trainings beyond the limit overlapped: at any start, at most one other was running.
  const spans = final.items.map((i: { started_at: string; finished_at: string }) => [Date.parse(i.started_at), Date.parse(i.finished_at)]);
  for (const [s] of spans) expect(spans.filter(([a, b]: number[]) => a! <= s! && s! < b!).length).toBeLessThanOrEqual(2);
  for (const item of final.items.filter((i: { status: string }) => i.status === 'SUCCESS')) {
    expect(existsSync(item.model_path)).toBe(true);
    // Each item's task is a normal task: its status is readable by id.
    expect((await call('GET', `/trainmodel/status/${item.task_id}`)).body).toMatchObject({ status: 'SUCCESS' });
  }
});

test('the OpenAPI document lists the endpoints', async () => {
  const doc = await call('GET', '/docs/json');
  expect(doc.status).toBe(200);
  expect(Object.keys(doc.body.paths)).toEqual(
    expect.arrayContaining(['/trainmodel/', '/trainmodel/status/{task_id}', '/trainmodel/bulk', '/trainmodel/bulk/{bulk_id}', '/health/', '/health/worker']),
  );
  const ui = await fetch(`${api.url}/docs/`);
  expect(ui.status).toBe(200);
});
