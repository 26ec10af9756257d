// The API's limits and error shapes against a real Temporal dev server: every meter id the API accepts
// gives a task whose status URL answers; a wrong method answers 405; every error body is `{detail}`.
import { startApi, type RunningApi } from '../../src/api/server.js';
import { METER_ID_MAX } from '../../src/contracts/trainings.js';
import { fixtureConfig, testLogger, uniqueTaskQueue, useTestServer } from '../helpers/env.js';

const env = useTestServer({ bundle: false });
let api: RunningApi;

beforeAll(async () => {
  // The longest meter type the config allows, so the task ids are the longest there can be.
  const longType = `t${'x'.repeat(31)}`;
  const config = fixtureConfig({}, { api: { port: 0, meterTypes: ['electricity', longType] } });
  // No worker: the tasks stay PENDING, which is all this needs.
  api = await startApi(
    { config, client: env.client, target: { taskQueue: uniqueTaskQueue('limits'), namespace: 'default' }, logger: testLogger() },
    { host: '127.0.0.1', port: 0 },
  );
}, 120_000);

afterAll(async () => {
  await api?.close();
});

async function call(method: string, path: string, body?: unknown) {
  const res = await fetch(`${api.url}${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: JSON.parse(text) as Record<string, any>, headers: res.headers };
}

test.each([
  ['a 52-character id', 'electricity', `m${'a'.repeat(51)}`],
  ['the longest id', 'electricity', `m${'b'.repeat(METER_ID_MAX - 1)}`],
  ['the longest id and the longest type', `t${'x'.repeat(31)}`, `m${'c'.repeat(METER_ID_MAX - 1)}`],
])('%s: accepted, and its status_url answers', async (_what, meterType, meterId) => {
  const posted = await call('POST', '/trainmodel/', { meter_id: meterId, meter_type: meterType });
  expect(posted.status).toBe(202);
  const status = await call('GET', posted.body.status_url);
  expect([status.status, status.body.task_id]).toEqual([200, posted.body.task_id]);
  expect(status.body.meter_id).toBe(meterId);
});

test('a meter id one character too long is refused with 422 naming the field', async () => {
  const res = await call('POST', '/trainmodel/', { meter_id: `m${'d'.repeat(METER_ID_MAX)}`, meter_type: 'electricity' });
  expect(res.status).toBe(422);
  expect(res.body.detail[0].loc).toEqual(['body', 'meter_id']);
});

test('an over-long path parameter answers in the same shape as every other error', async () => {
  const res = await call('GET', `/trainmodel/status/${'z'.repeat(400)}`);
  expect(res.status).toBeGreaterThanOrEqual(400);
  expect(res.status).toBeLessThan(500);
  expect(Object.keys(res.body)).toEqual(['detail']);
});

test.each([
  ['GET', '/trainmodel/', 'POST'],
  ['DELETE', '/trainmodel/status/electricity:m1:00000000-0000-0000-0000-000000000000', 'GET'],
  ['PUT', '/health/', 'GET'],
  ['POST', '/trainmodel/bulk/00000000-0000-0000-0000-000000000000', 'GET'],
])('%s %s: 405 with Allow: %s', async (method, path, allow) => {
  const res = await call(method, path);
  expect(res.status).toBe(405);
  expect(res.headers.get('allow')).toContain(allow);
  expect(Object.keys(res.body)).toEqual(['detail']);
});

test('an unknown path: 404 with {detail}', async () => {
  const res = await call('GET', '/no/such/thing');
  expect(res.status).toBe(404);
  expect(Object.keys(res.body)).toEqual(['detail']);
  expect(typeof res.body.detail).toBe('string');
});
