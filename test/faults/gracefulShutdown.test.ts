// SIGTERM to a worker process (docker stop, systemctl stop): a job that ends within the shutdown grace
// time finishes and reports its result; one that does not is stopped when the grace time is up and handed
// over at once (a new attempt on another worker, without waiting for a heartbeat timeout); the worker
// exits within the bound.
import { join } from 'node:path';
import { Worker } from '@temporalio/worker';
import { createActivities, type JobOutcome } from '../../src/activities/index.js';
import { pidAlive, testLogger, tmpDir, uniqueTaskQueue, useTestServer, waitFor, workflowBundle } from '../helpers/env.js';
import { RUNLOG_JOB, pendingHeartbeat, readRuns, startWorkerProcess, writeConfig, writeScript } from '../helpers/faults.js';

const env = useTestServer();

const GRACE_MS = 3_000;
const KILL_GRACE_MS = 1_000;

test('SIGTERM: a short job finishes within the grace time, a long one is handed over, the worker exits in time', async () => {
  const dir = tmpDir('hea-shutdown-');
  const script = writeScript(dir, 'runlog_job.py', RUNLOG_JOB);
  // A heartbeat timeout far longer than the test: a hand-over that waited for it would time the test out.
  const job = { heartbeatTimeout: '5m', killGrace: `${KILL_GRACE_MS}ms`, retry: { initialInterval: '100ms', maximumAttempts: 3 } };
  const config = writeConfig(
    {
      short: { ...job, args: [script, '8', '0.25'] }, // 2 s
      long: { ...job, args: [script, '120', '0.25'] }, // 30 s
    },
    { worker: { shutdownGraceTime: `${GRACE_MS}ms` } },
    dir,
  );
  const taskQueue = uniqueTaskQueue('shutdown');
  const first = startWorkerProcess({ configFile: config.file, address: env.address, taskQueue, logFile: join(dir, 'worker.log') });
  const long = await env.client.workflow.start('runSingleJob', { taskQueue, workflowId: `long-${taskQueue}`, args: [{ job: 'long' }] });
  const longBeat = await waitFor('the long job to run', async () => (await pendingHeartbeat(env.client, long, 'long'))?.pid, 90_000);
  const short = await env.client.workflow.start('runSingleJob', { taskQueue, workflowId: `short-${taskQueue}`, args: [{ job: 'short' }] });
  await waitFor('the short job to run', async () => (await pendingHeartbeat(env.client, short, 'short'))?.pid, 30_000);

  const t0 = Date.now();
  first.kill('SIGTERM');
  const exited = await first;
  const exitMs = Date.now() - t0;
  expect(exited.exitCode).toBe(0);
  // Grace time, then the job's own SIGTERM-to-SIGKILL grace, plus the SDK's reporting.
  expect(exitMs).toBeGreaterThanOrEqual(GRACE_MS - 200);
  expect(exitMs).toBeLessThan(GRACE_MS + KILL_GRACE_MS + 5_000);
  expect(pidAlive(longBeat)).toBe(false);

  // The short job finished on the first worker, within the grace time (its workflow's last task needs a
  // worker, so it completes once the next one runs). The long one starts again on the new worker straight
  // away (attempt 2), long before its heartbeat timeout.
  const second = await Worker.create({
    connection: env.nativeConnection,
    taskQueue,
    workflowBundle: await workflowBundle(),
    activities: createActivities(config, testLogger()),
  });
  const [shortOutcome, runs] = await second.runUntil(async () => {
    const outcome = (await short.result()) as JobOutcome;
    await waitFor('attempt 2 of the long job', () => readRuns(config.dirs.data).some((r) => r.job === 'long' && r.attempt === 2), 30_000);
    await long.terminate('enough: the hand-over is what this test checks');
    return [outcome, readRuns(config.dirs.data)] as const;
  });
  expect(shortOutcome.attempt).toBe(1);
  expect(runs.filter((r) => r.job === 'short').map((r) => r.attempt)).toEqual([1]);
  const attempts = runs.filter((r) => r.job === 'long');
  expect(attempts.map((r) => r.attempt)).toEqual([1, 2]);
  expect(attempts[1]!.t * 1000 - t0).toBeLessThan(GRACE_MS + KILL_GRACE_MS + 10_000);
}, 120_000);
