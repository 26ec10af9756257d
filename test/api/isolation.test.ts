// Meter trainings cannot delay the pipelines nor each other (issue 12 item 2), against a real Temporal dev
// server, real workers on both task queues and fixture jobs: hundreds of queued trainings leave a scheduled
// pipeline starting promptly, and a large bulk request does not hold back a later single POST or bulk.
import type { ScheduleHandle, WorkflowHandle } from '@temporalio/client';
import type { Worker } from '@temporalio/worker';
import { startApi, type RunningApi } from '../../src/api/server.js';
import { bulkTrainingStateQueryName, bulkWorkflowId, type BulkTrainingState } from '../../src/contracts/trainings.js';
import { fixtureConfig, fixtureWorker, testLogger, uniqueTaskQueue, useTestServer, waitFor } from '../helpers/env.js';

const env = useTestServer();
const running: Array<{ worker: Worker; done: Promise<void> }> = [];
const apis: RunningApi[] = [];

// After each test, not after all: useTestServer's own afterAll tears the server down first.
afterEach(async () => {
  for (const api of apis.splice(0)) await api.close();
  const workers = running.splice(0);
  for (const w of workers) w.worker.shutdown();
  await Promise.all(workers.map((w) => w.done));
});

/** A config whose meter training is a fixture job (one progress line, then `seconds` of sleep). */
function setUp(name: string, seconds: string) {
  const pipelines = uniqueTaskQueue(`${name}-pipelines`);
  const meters = uniqueTaskQueue(`${name}-meters`);
  const config = fixtureConfig(
    { meter_train: { script: 'progress_job.py', args: ['1', seconds] }, echo: { script: 'echo_job.py' } },
    { temporal: { taskQueue: pipelines, meterTaskQueue: meters }, worker: { maxConcurrentMeterActivities: 2 }, api: { port: 0, maxQueuedTrainings: 0 } },
  );
  return { pipelines, meters, config };
}

async function startWorker(...args: Parameters<typeof fixtureWorker>): Promise<void> {
  const worker = await fixtureWorker(...args);
  running.push({ worker, done: worker.run() });
}

async function post(api: RunningApi, path: string, body: unknown): Promise<Record<string, any>> {
  const res = await fetch(`${api.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  if (res.status !== 202) throw new Error(`POST ${path} answered ${res.status}: ${await res.text()}`);
  return (await res.json()) as Record<string, any>;
}

const bulkState = (bulkId: string) => env.client.workflow.getHandle(bulkWorkflowId(bulkId)).query<BulkTrainingState>(bulkTrainingStateQueryName);

const msOf = (t: { seconds?: unknown; nanos?: number | null } | null | undefined) => (t ? Number(t.seconds) * 1000 + Math.floor((t.nanos ?? 0) / 1e6) : NaN);

test('300 queued meter trainings do not delay a scheduled pipeline', async () => {
  const { pipelines, meters, config } = setUp('burst', '1');
  await startWorker(env, config, pipelines, { maxConcurrentActivityTaskExecutions: 2 });
  await startWorker(env, config, meters, { maxConcurrentActivityTaskExecutions: 2 });
  const api = await startApi({ config, client: env.client, target: { taskQueue: meters, namespace: 'default' }, logger: testLogger() }, { host: '127.0.0.1', port: 0 });
  apis.push(api);

  // The burst: a bulk of 200 at its highest concurrency and 100 single POSTs, all queued on the meters' queue.
  const bulk = await post(api, '/trainmodel/bulk', {
    meters: Array.from({ length: 200 }, (_, i) => ({ meter_id: `burst_bulk_${i}`, meter_type: 'gas' })),
    concurrency: 64,
  });
  for (let i = 0; i < 100; i += 20) {
    await Promise.all(Array.from({ length: 20 }, (_, k) => post(api, '/trainmodel/', { meter_id: `burst_single_${i + k}`, meter_type: 'heat' })));
  }

  // A schedule on the pipelines' queue, due every 2 s while the trainings wait.
  const schedule: ScheduleHandle = await env.client.schedule.create({
    scheduleId: `isolation-${pipelines}`,
    spec: { intervals: [{ every: '2s' }] },
    action: { type: 'startWorkflow', workflowType: 'runSingleJob', taskQueue: pipelines, args: [{ job: 'echo' }] },
    policies: { overlap: 'ALLOW_ALL' },
  });
  const actions = await waitFor(
    'three scheduled runs',
    async () => {
      const desc = await schedule.describe();
      return desc.info.recentActions.length >= 3 ? desc.info.recentActions.slice(0, 3) : undefined;
    },
    60_000,
  );
  await schedule.delete();

  const delays: number[] = [];
  for (const action of actions) {
    const wf = env.client.workflow.getHandle(action.action.workflow.workflowId, action.action.workflow.firstExecutionRunId) as WorkflowHandle;
    await wf.result();
    const started = (await wf.fetchHistory()).events?.find((e) => e.activityTaskStartedEventAttributes);
    delays.push(msOf(started?.eventTime) - action.scheduledAt.getTime());
  }
  // The burst was still there: most trainings had not run yet.
  const state = await bulkState(bulk.bulk_id);
  expect(state.counts.QUEUED).toBeGreaterThan(100);
  // Promptly: a generous bound on a loaded machine (the bench measures the p95 against its 1 s goal).
  for (const ms of delays) expect(ms).toBeLessThan(15_000);

  // Leave nothing running for the next test.
  await env.client.workflow.getHandle(bulkWorkflowId(bulk.bulk_id)).terminate('test over');
  for await (const wf of env.client.workflow.list({ query: `ExecutionStatus = 'Running' AND TaskQueue = '${meters}'` })) {
    await env.client.workflow
      .getHandle(wf.workflowId, wf.runId)
      .terminate('test over')
      .catch(() => undefined);
  }
}, 300_000);

test('a large bulk request does not hold back a later single POST or a later small bulk', async () => {
  const { meters, config } = setUp('fair', '0.2');
  await startWorker(env, config, meters, { maxConcurrentActivityTaskExecutions: 2 });
  const api = await startApi({ config, client: env.client, target: { taskQueue: meters, namespace: 'default' }, logger: testLogger() }, { host: '127.0.0.1', port: 0 });
  apis.push(api);

  const large = await post(api, '/trainmodel/bulk', {
    meters: Array.from({ length: 30 }, (_, i) => ({ meter_id: `fair_large_${i}`, meter_type: 'water' })),
    concurrency: 2,
  });
  await waitFor('the large bulk to be under way', async () => (await bulkState(large.bulk_id).catch(() => undefined))?.counts.SUCCESS);
  const single = await post(api, '/trainmodel/', { meter_id: 'fair_single', meter_type: 'water' });
  const small = await post(api, '/trainmodel/bulk', {
    meters: Array.from({ length: 3 }, (_, i) => ({ meter_id: `fair_small_${i}`, meter_type: 'water' })),
    concurrency: 2,
  });

  const status = async (path: string) => ((await (await fetch(`${api.url}${path}`)).json()) as Record<string, any>).status as string;
  await waitFor(
    'the single training and the small bulk to end',
    async () => (await status(single.status_url)) === 'SUCCESS' && (await status(small.status_url)) === 'COMPLETED',
    120_000,
  );
  // Both ended while most of the large request was still waiting its turn.
  const largeNow = await bulkState(large.bulk_id);
  expect(largeNow.status).toBe('RUNNING');
  expect(largeNow.counts.QUEUED).toBeGreaterThanOrEqual(10);
}, 300_000);
