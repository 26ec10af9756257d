// Admission control against a real Temporal dev server (no worker: trainings stay queued): the per-token
// rate limit and the cap on queued trainings, both answering 429 with Retry-After.
import { startApi, type RunningApi } from '../../src/api/server.js';
import { fixtureConfig, testLogger, uniqueTaskQueue, useTestServer, waitFor } from '../helpers/env.js';

const env = useTestServer({ bundle: false });
const started: RunningApi[] = [];

afterAll(async () => {
  for (const api of started) await api.close().catch(() => undefined);
});

async function apiWith(api: Record<string, unknown>, taskQueue = uniqueTaskQueue('admission')): Promise<RunningApi> {
  const config = fixtureConfig({}, { api: { port: 0, ...api } });
  const running = await startApi({ config, client: env.client, target: { taskQueue, namespace: 'default' }, logger: testLogger() }, { host: '127.0.0.1', port: 0 });
  started.push(running);
  return running;
}

async function post(api: RunningApi, path: string, body: unknown, token?: string) {
  const res = await fetch(`${api.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
  });
  return { status: res.status, retryAfter: res.headers.get('retry-after'), body: (await res.json()) as Record<string, any> };
}

const meter = (id: string) => ({ meter_id: id, meter_type: 'electricity' });

test('the rate limit counts per bearer token (per address without one) and endpoint, and answers 429 with Retry-After', async () => {
  const api = await apiWith({ rateLimit: { max: 3, window: '1m' } });
  const a = 'token-a-of-some-length';
  const b = 'token-b-of-some-length';
  for (let i = 0; i < 3; i++) expect((await post(api, '/trainmodel/', meter(`rate_a_${i}`), a)).status).toBe(202);
  const limited = await post(api, '/trainmodel/', meter('rate_a_3'), a);
  expect(limited.status).toBe(429);
  expect(Number(limited.retryAfter)).toBeGreaterThan(0);
  expect(Object.keys(limited.body)).toEqual(['detail']);
  expect(limited.body.detail).toContain('Too many requests');
  // The bulk endpoint has its own budget.
  expect((await post(api, '/trainmodel/bulk', { meters: [meter('rate_a_4')] }, a)).status).toBe(202);
  // Another token, and a client with none (its address), each have their own.
  expect((await post(api, '/trainmodel/', meter('rate_b_0'), b)).status).toBe(202);
  expect((await post(api, '/trainmodel/', meter('rate_ip_0'))).status).toBe(202);
  // Reads are not limited.
  expect((await post(api, '/trainmodel/', meter('rate_a_5'), a)).status).toBe(429);
  for (let i = 0; i < 5; i++) expect((await fetch(`${api.url}/health/`)).status).toBe(200);
});

test('the cap on queued trainings: 429 with Retry-After once full, 422 for a bulk that could never fit', async () => {
  // A count kept for an hour: after the first, admissions are counted by the API itself.
  const api = await apiWith({ maxQueuedTrainings: 3, queueCountTtlMs: '1h' });
  expect((await post(api, '/trainmodel/', meter('cap_1'))).status).toBe(202);
  expect((await post(api, '/trainmodel/bulk', { meters: [meter('cap_2'), meter('cap_3'), meter('cap_2')] })).status).toBe(202);
  // A duplicate POST starts nothing: it is answered, and takes no place.
  const dup = await post(api, '/trainmodel/', meter('cap_1'));
  expect([dup.status, dup.body.duplicate]).toEqual([202, true]);
  const full = await post(api, '/trainmodel/', meter('cap_4'));
  expect(full.status).toBe(429);
  expect(Number(full.retryAfter)).toBeGreaterThan(0);
  expect(full.body.detail).toContain('queue is full');
  expect((await post(api, '/trainmodel/bulk', { meters: [meter('cap_5')] })).status).toBe(429);
  const never = await post(api, '/trainmodel/bulk', { meters: [1, 2, 3, 4].map((i) => meter(`cap_big_${i}`)) });
  expect(never.status).toBe(422);
  expect(never.body.detail[0].loc).toEqual(['body', 'meters']);
});

test('the queue count comes from Temporal: a fresh API on the same queue sees the trainings queued before it', async () => {
  const taskQueue = uniqueTaskQueue('admission-shared');
  const first = await apiWith({}, taskQueue);
  expect((await post(first, '/trainmodel/', meter('shared_1'))).status).toBe(202);
  expect((await post(first, '/trainmodel/bulk', { meters: [meter('shared_2'), meter('shared_3')], concurrency: 1 })).status).toBe(202);
  const open = (type: string) => `WorkflowType = '${type}' AND ExecutionStatus = 'Running' AND TaskQueue = '${taskQueue}'`;
  await waitFor('the visibility store to list both', async () => {
    const [single, bulk] = await Promise.all([env.client.workflow.count(open('meterModelTraining')), env.client.workflow.count(open('meterModelTrainingBulk'))]);
    return single.count === 1 && bulk.count === 1;
  });
  // One open training plus a bulk's two meters not started yet (its memo): three; a cap of 3 is full.
  const second = await apiWith({ maxQueuedTrainings: 3, queueCountTtlMs: 0 }, taskQueue);
  const answer = await post(second, '/trainmodel/', meter('shared_4'));
  expect(answer.status).toBe(429);
  expect(answer.body.detail).toContain('3 of 3');
  // With room for one more, it is admitted.
  const roomier = await apiWith({ maxQueuedTrainings: 4, queueCountTtlMs: 0 }, taskQueue);
  expect((await post(roomier, '/trainmodel/', meter('shared_4'))).status).toBe(202);
});

test("a task's status survives an API restart: it lives in Temporal, not in the API", async () => {
  const taskQueue = uniqueTaskQueue('restart');
  const first = await apiWith({}, taskQueue);
  const posted = await post(first, '/trainmodel/', meter('restart_1'));
  const before = (await (await fetch(`${first.url}${posted.body.status_url}`)).json()) as Record<string, any>;
  await first.close();
  const second = await apiWith({}, taskQueue);
  const res = await fetch(`${second.url}${posted.body.status_url}`);
  expect(res.status).toBe(200);
  const after = (await res.json()) as Record<string, any>;
  expect(after).toMatchObject({ task_id: posted.body.task_id, status: before.status, started_at: before.started_at });
  // And a POST for the same meter to the new API finds the same training.
  const again = await post(second, '/trainmodel/', meter('restart_1'));
  expect([again.body.task_id, again.body.duplicate]).toEqual([posted.body.task_id, true]);
});
