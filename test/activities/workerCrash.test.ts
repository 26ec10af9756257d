// A worker process killed with SIGKILL in the middle of a job: its job dies with it (no orphans), and a
// new worker picks the job up once the heartbeat timeout has passed.
import { join } from 'node:path';
import { execa } from 'execa';
import { type JobHeartbeat, type JobOutcome } from '../../src/activities/index.js';
import { ROOT, fixtureConfig, fixtureWorker, pidAlive, uniqueTaskQueue, useTestServer, waitFor } from '../helpers/env.js';

const env = useTestServer();

test('a new worker takes over a job after the first worker is killed', async () => {
  const config = fixtureConfig({
    // 20 steps of 0.5 s: long enough to kill the worker in the middle.
    long: { script: 'progress_job.py', args: ['20', '0.5'], heartbeatTimeout: '3s', retry: { initialInterval: '100ms', maximumAttempts: 3 } },
  });
  const taskQueue = uniqueTaskQueue('crash');
  const first = execa('node', [join(ROOT, 'bin', 'hea.js'), 'worker'], {
    env: { HEA_CONFIG: config.file, TEMPORAL_ADDRESS: env.address, HEA_TASK_QUEUE: taskQueue, LOG_LEVEL: 'warn' },
    reject: false,
    stdin: 'ignore',
  });
  const handle = await env.client.workflow.start('runSingleJob', {
    taskQueue,
    workflowId: `crash-${taskQueue}`,
    args: [{ job: 'long', args: [] }],
  });
  const beat = await waitFor(
    'the first attempt to report progress',
    async () => {
      const desc = await handle.describe();
      const payload = desc.raw.pendingActivities?.[0]?.heartbeatDetails?.payloads?.[0];
      if (!payload) return undefined;
      const details = env.client.options.loadedDataConverter.payloadConverter.fromPayload(payload) as JobHeartbeat;
      return details.pid && (details.progress ?? 0) > 0 ? details : undefined;
    },
    60_000,
  );
  expect(beat.attempt).toBe(1);

  first.kill('SIGKILL');
  await first;
  // The job's supervisor notices that its worker is gone and takes the job's process group down.
  await waitFor('the orphaned job to be killed', () => !pidAlive(beat.pid!), 20_000);

  const worker = await fixtureWorker(env, config, taskQueue);
  const outcome = (await worker.runUntil(handle.result())) as JobOutcome;
  expect(outcome.attempt).toBe(2);
  expect(outcome.result).toMatchObject({ steps: 20, attempt: 2 });
});
