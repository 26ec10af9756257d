// Worker roles: which task queues a worker process serves. The default (`npm start`, `hea worker`) is one
// process serving both the pipelines' queue and the meter trainings' queue, each with its own job slots;
// the API starts trainings on the meter queue.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { startApi } from '../src/api/server.js';
import { meterWorkflowId } from '../src/contracts/trainings.js';
import { onMeterTaskQueue } from '../src/api/tasks.js';
import { createWorker } from '../src/worker.js';
import { roleQueues } from '../src/workerRoles.js';
import { ROOT, fixtureConfig, testLogger, uniqueTaskQueue, useTestServer, waitFor, workflowBundle } from './helpers/env.js';

const env = useTestServer();

const taskQueue = uniqueTaskQueue('roles');
const meterTaskQueue = uniqueTaskQueue('roles-meters');
const config = fixtureConfig(
  { meter_train: { script: 'echo_job.py' }, trivial: { command: '/bin/true' } },
  { temporal: { taskQueue, meterTaskQueue }, worker: { maxConcurrentActivities: 3, maxConcurrentMeterActivities: 2 } },
);

test('each role polls its task queues, each queue with its own job slots', () => {
  const target = { taskQueue };
  expect(roleQueues(config, target, 'pipelines')).toEqual([{ taskQueue, maxConcurrentActivities: 3 }]);
  expect(roleQueues(config, target, 'meters')).toEqual([{ taskQueue: meterTaskQueue, maxConcurrentActivities: 2 }]);
  expect(roleQueues(config, target, 'all')).toEqual([
    { taskQueue, maxConcurrentActivities: 3 },
    { taskQueue: meterTaskQueue, maxConcurrentActivities: 2 },
  ]);
  // One queue for both (a config that wants no split): one worker, the pipelines' slots.
  expect(roleQueues({ ...config, temporal: { ...config.temporal, meterTaskQueue: taskQueue } }, target, 'all')).toEqual([{ taskQueue, maxConcurrentActivities: 3 }]);
});

test('the default worker serves both queues: a flow on one, an API training on the other; shutdown stops both', async () => {
  const target = { connectionOptions: { address: env.address }, namespace: 'default', taskQueue };
  const { worker } = await createWorker({
    config,
    target,
    logger: testLogger(),
    connection: env.nativeConnection,
    workflowBundle: await workflowBundle(),
    identity: 'roles-test',
  });
  expect(worker.workers).toHaveLength(2);
  const running = worker.run();
  const api = await startApi(onMeterTaskQueue({ config, client: env.client, target, logger: testLogger() }), { host: '127.0.0.1', port: 0 });
  try {
    const job = await env.client.workflow.execute('runSingleJob', { taskQueue, workflowId: `job-${taskQueue}`, args: [{ job: 'trivial' }] });
    expect(job).toMatchObject({ job: 'trivial' });

    const res = await fetch(`${api.url}/trainmodel/`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ meter_id: 'meter_roles_1', meter_type: 'electricity' }),
    });
    expect(res.status).toBe(202);
    const handle = env.client.workflow.getHandle(meterWorkflowId('electricity', 'meter_roles_1'));
    await waitFor('the training to complete', async () => (await handle.describe()).status.name === 'COMPLETED', 60_000);
    expect((await handle.describe()).taskQueue).toBe(meterTaskQueue);
    const health = (await (await fetch(`${api.url}/health/worker`)).json()) as { task_queue: string; workers: { identity: string }[] };
    expect(health.task_queue).toBe(meterTaskQueue);
    expect(health.workers.map((w) => w.identity)).toContain('roles-test');
  } finally {
    await api.close();
    worker.shutdown();
    await running;
  }
  expect(worker.workers.map((w) => w.getState())).toEqual(['STOPPED', 'STOPPED']);
  expect(worker.getState()).toBe('STOPPED');
});

test('hea worker --role refuses an unknown role with a usage error (exit 2), before connecting anywhere', () => {
  const res = spawnSync(process.execPath, [join(ROOT, 'bin', 'hea.js'), 'worker', '--role', 'trainers'], {
    encoding: 'utf8',
    env: { ...process.env, TEMPORAL_ADDRESS: '127.0.0.1:1' },
  });
  expect(res.status).toBe(2);
  expect(res.stderr).toMatch(/--role.*trainers.*pipelines, meters, all/s);
});
