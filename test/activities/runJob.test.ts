// The job runner against a real Temporal dev server and real child processes.
import { WorkflowFailedError } from '@temporalio/client';
import { ActivityFailure, ApplicationFailure } from '@temporalio/common';
import type { AppConfig } from '../../src/config/load.js';
import type { JobHeartbeat, JobOutcome } from '../../src/activities/index.js';
import { fixtureConfig, fixtureWorker, pidAlive, uniqueTaskQueue, useTestServer, waitFor } from '../helpers/env.js';

const env = useTestServer();

const config: AppConfig = fixtureConfig({
  progress: { script: 'progress_job.py', args: ['6', '0.5'], heartbeatTimeout: '1s' },
  flaky: { script: 'flaky_job.py', args: ['3'] },
  bad_data: { script: 'exit_code_job.py', args: ['65'] },
  tree: { script: 'tree_job.py', timeout: '30s', heartbeatTimeout: '2s', killGrace: '1s', retry: { maximumAttempts: 1 } },
  tree_timeout: { script: 'tree_job.py', args: ['ignore-term'], timeout: '2s', heartbeatTimeout: '2s', killGrace: '1s', retry: { maximumAttempts: 1 } },
  missing: { command: '/nonexistent/bin/job' },
});

/** Runs `jobWorkflow` (a test-only workflow: one runJob call) with a worker on a fresh task queue. */
async function withWorker<T>(fn: (taskQueue: string) => Promise<T>): Promise<T> {
  const taskQueue = uniqueTaskQueue('runjob');
  const worker = await fixtureWorker(env, config, taskQueue);
  return worker.runUntil(fn(taskQueue));
}

function start(taskQueue: string, job: string, args: string[] = []) {
  return env.client.workflow.start('runSingleJob', {
    taskQueue,
    workflowId: `${job}-${taskQueue}`,
    args: [{ job, args }],
  });
}

test('progress lines arrive as heartbeat details and the result carries the job context', async () => {
  await withWorker(async (taskQueue) => {
    const handle = await start(taskQueue, 'progress');
    const seen: JobHeartbeat[] = [];
    const outcome = handle.result() as Promise<JobOutcome>;
    let done = false;
    void outcome.finally(() => (done = true));
    await waitFor('a heartbeat with progress', async () => {
      if (done) return true;
      const desc = await handle.describe();
      const payload = desc.raw.pendingActivities?.[0]?.heartbeatDetails?.payloads?.[0];
      if (payload) {
        const beat = env.client.options.loadedDataConverter.payloadConverter.fromPayload(payload) as JobHeartbeat;
        if (beat.progress !== undefined) seen.push(beat);
      }
      return seen.length > 0 && seen[seen.length - 1]!.progress! > 0;
    });
    const result = await outcome;
    expect(seen.length).toBeGreaterThan(0);
    expect(seen[0]).toMatchObject({ job: 'progress', attempt: 1 });
    expect(seen[0]!.stage).toMatch(/^step-\d$/);
    expect(result.result).toMatchObject({ steps: 6, attempt: 1, run_id: handle.firstExecutionRunId });
    expect(result.result.data_dir).toBe(config.dirs.data);
    expect(result.result.store_url).toBe(config.storeUrl);
    expect(result.lastProgress).toMatchObject({ progress: 100, stage: 'step-6' });
  });
});

test('a transient failure is retried and the job sees its attempt number', async () => {
  await withWorker(async (taskQueue) => {
    const result = (await (await start(taskQueue, 'flaky')).result()) as JobOutcome;
    expect(result.attempt).toBe(3);
    expect(result.result).toEqual({ attempt: 3 });
  });
});

test('an exit code in 64-78 fails at once, not retried, with its type and stderr tail', async () => {
  await withWorker(async (taskQueue) => {
    const handle = await start(taskQueue, 'bad_data');
    const err = await handle.result().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WorkflowFailedError);
    const activityFailure = (err as WorkflowFailedError).cause as ActivityFailure;
    expect(activityFailure).toBeInstanceOf(ActivityFailure);
    const cause = activityFailure.cause as ApplicationFailure;
    expect(cause).toBeInstanceOf(ApplicationFailure);
    expect(cause.type).toBe('DataError');
    expect(cause.nonRetryable).toBe(true);
    expect(cause.message).toContain('exited with code 65');
    expect(cause.message).toContain('fatal: giving up with exit code 65');
    const details = cause.details?.[0] as { attempt: number; stderrTail: string[]; exitCode: number };
    expect(details.attempt).toBe(1);
    expect(details.exitCode).toBe(65);
    expect(details.stderrTail.length).toBe(40);
    expect(details.stderrTail.at(-1)).toBe('fatal: giving up with exit code 65');
    // Exactly one attempt was made: the history has a single ActivityTaskStarted event.
    const history = await handle.fetchHistory();
    const started = history.events?.filter((e) => e.activityTaskStartedEventAttributes) ?? [];
    expect(started).toHaveLength(1);
    expect(started[0]!.activityTaskStartedEventAttributes!.attempt).toBe(1);
  });
});

test('a command that does not exist fails at once as JobNotFound', async () => {
  await withWorker(async (taskQueue) => {
    const err = await (await start(taskQueue, 'missing')).result().catch((e: unknown) => e);
    const cause = ((err as WorkflowFailedError).cause as ActivityFailure).cause as ApplicationFailure;
    expect(cause.type).toBe('JobNotFound');
    expect(cause.nonRetryable).toBe(true);
  });
});

async function pidsFromHeartbeat(handle: Awaited<ReturnType<typeof start>>): Promise<{ pid: number; child: number }> {
  return waitFor('the job to report its pids', async () => {
    const desc = await handle.describe();
    const payload = desc.raw.pendingActivities?.[0]?.heartbeatDetails?.payloads?.[0];
    if (!payload) return undefined;
    const beat = env.client.options.loadedDataConverter.payloadConverter.fromPayload(payload) as JobHeartbeat;
    return beat.message ? (JSON.parse(beat.message) as { pid: number; child: number }) : undefined;
  });
}

test('cancelling a run kills the job and its own child process', async () => {
  await withWorker(async (taskQueue) => {
    const handle = await start(taskQueue, 'tree');
    const { pid, child } = await pidsFromHeartbeat(handle);
    expect(pidAlive(pid)).toBe(true);
    expect(pidAlive(child)).toBe(true);
    await handle.cancel();
    await expect(handle.result()).rejects.toThrow();
    await waitFor('the job and its child to be gone', () => !pidAlive(pid) && !pidAlive(child), 15_000);
  });
});

test('a timeout kills the job and its child, escalating to SIGKILL when SIGTERM is ignored', async () => {
  await withWorker(async (taskQueue) => {
    const handle = await start(taskQueue, 'tree_timeout');
    const { pid, child } = await pidsFromHeartbeat(handle);
    const err = await handle.result().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WorkflowFailedError);
    await waitFor('the job and its child to be gone', () => !pidAlive(pid) && !pidAlive(child), 15_000);
  });
});
