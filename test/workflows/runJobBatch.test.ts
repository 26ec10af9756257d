// runJobBatch (`hea job <name> --runs N | --each FILE`): many runs of one job from one workflow, as local
// activities for a `local: true` job and as normal activities otherwise, on a real dev server and real jobs.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { WorkflowFailedError } from '@temporalio/client';
import { CancelledFailure } from '@temporalio/common';
import type { JobBatchSummary } from '../../src/workflows/runJobBatch.js';
import { fixtureWorker, pidAlive, tmpDir, uniqueTaskQueue, useTestServer, waitFor, writeFixtureConfig } from '../helpers/env.js';

const env = useTestServer();

/** Exits with its first argument: `each` lists pick each run's outcome. */
const EXIT_WITH = { command: '/bin/sh', args: ['-c', 'echo "run $1" >&2; exit "$1"', 'exit_with'], retry: { maximumAttempts: 1 } };

async function history(workflowId: string) {
  const events = (await env.client.workflow.getHandle(workflowId).fetchHistory()).events ?? [];
  return {
    markers: events.filter((e) => e.markerRecordedEventAttributes).length,
    activities: events.filter((e) => e.activityTaskScheduledEventAttributes).length,
  };
}

test.each([
  ['local activities', true],
  ['normal activities', false],
])('a batch through %s counts every run and lists the failures with their run and class', async (_what, local) => {
  const config = writeFixtureConfig({ exit_with: { ...EXIT_WITH, local } });
  const taskQueue = uniqueTaskQueue('batch');
  const worker = await fixtureWorker(env, config, taskQueue, { maxConcurrentLocalActivityExecutions: 4, maxConcurrentActivityTaskExecutions: 4 });
  const workflowId = `batch-${taskQueue}`;
  const each = [['0'], ['65'], ['0'], ['3'], ['0'], ['0']];
  const summary = (await worker.runUntil(
    env.client.workflow.execute('runJobBatch', { taskQueue, workflowId, args: [{ job: 'exit_with', each, concurrency: 3 }] }),
  )) as JobBatchSummary;
  expect(summary).toMatchObject({ job: 'exit_with', total: 6, succeeded: 4, failed: 2, local, concurrency: 3, workflowRuns: 1 });
  const failures = [...summary.failures].sort((a, b) => a.index - b.index);
  expect(failures).toEqual([
    expect.objectContaining({ index: 1, args: ['65'], errorType: 'DataError' }),
    expect.objectContaining({ index: 3, args: ['3'], errorType: 'JobFailed' }),
  ]);
  expect(failures[1]!.message).toContain('exited with code 3');
  // Local runs leave one marker each (and one for the job's options) and no activity task; normal ones an
  // activity each.
  const h = await history(workflowId);
  expect([h.markers, h.activities]).toEqual(local ? [7, 0] : [1, 6]);
});

test('--runs: N runs of the same command, at most `concurrency` at once', async () => {
  const dir = tmpDir();
  const log = join(dir, 'runs.log');
  // Each run appends its start and end: the file shows how many overlapped.
  const config = writeFixtureConfig({
    overlap: { command: '/bin/sh', args: ['-c', `echo start >> ${log}; sleep 0.2; echo end >> ${log}`], local: true, retry: { maximumAttempts: 1 } },
  });
  const taskQueue = uniqueTaskQueue('batch-runs');
  const worker = await fixtureWorker(env, config, taskQueue, { maxConcurrentLocalActivityExecutions: 8 });
  const summary = (await worker.runUntil(
    env.client.workflow.execute('runJobBatch', { taskQueue, workflowId: `batch-${taskQueue}`, args: [{ job: 'overlap', runs: 12, concurrency: 3 }] }),
  )) as JobBatchSummary;
  expect(summary).toMatchObject({ total: 12, succeeded: 12, failed: 0, failures: [] });
  let running = 0;
  let most = 0;
  for (const line of readFileSync(log, 'utf8').trim().split('\n')) {
    running += line === 'start' ? 1 : -1;
    most = Math.max(most, running);
  }
  expect(most).toBeLessThanOrEqual(3);
  expect(most).toBeGreaterThan(1);
});

test('an unknown job fails every run without starting any', async () => {
  const config = writeFixtureConfig({ exit_with: EXIT_WITH });
  const taskQueue = uniqueTaskQueue('batch-unknown');
  const worker = await fixtureWorker(env, config, taskQueue);
  const summary = (await worker.runUntil(
    env.client.workflow.execute('runJobBatch', { taskQueue, workflowId: `batch-${taskQueue}`, args: [{ job: 'nope', runs: 3 }] }),
  )) as JobBatchSummary;
  expect(summary).toMatchObject({ total: 3, succeeded: 0, failed: 3 });
  expect(summary.failures.map((f) => f.errorType)).toEqual(['UnknownJob', 'UnknownJob', 'UnknownJob']);
});

test.each([
  ['local activities', true],
  ['normal activities', false],
])('cancelling a batch through %s kills every running job with its children', async (_what, local) => {
  const dir = tmpDir();
  const pids = join(dir, 'pids');
  // Each run starts a child, records both pids, and waits: a tree per run. The child ignores SIGTERM, so
  // only the runner's SIGKILL of the whole group ends it.
  const config = writeFixtureConfig({
    tree: {
      command: '/bin/sh',
      args: ['-c', `sh -c 'trap "" TERM; sleep 300' & echo "$$ $!" >> ${pids}; wait`],
      killGrace: '500ms',
      local,
      retry: { maximumAttempts: 1 },
    },
  });
  const taskQueue = uniqueTaskQueue('batch-cancel');
  const worker = await fixtureWorker(env, config, taskQueue, { maxConcurrentLocalActivityExecutions: 4, maxConcurrentActivityTaskExecutions: 4 });
  await worker.runUntil(async () => {
    const handle = await env.client.workflow.start('runJobBatch', { taskQueue, workflowId: `batch-${taskQueue}`, args: [{ job: 'tree', runs: 10, concurrency: 3 }] });
    const started = await waitFor('three runs with their children', () => {
      const lines = (() => {
        try {
          return readFileSync(pids, 'utf8').trim().split('\n').filter(Boolean);
        } catch {
          return [];
        }
      })();
      return lines.length >= 3 && lines.flatMap((l) => l.split(' ').map(Number));
    });
    expect(started.every(pidAlive)).toBe(true);
    await handle.cancel();
    const err = await handle.result().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WorkflowFailedError);
    expect((err as WorkflowFailedError).cause).toBeInstanceOf(CancelledFailure);
    // The workflow ends only once its runs have (WAIT_CANCELLATION_COMPLETED): nothing of them is left.
    expect(started.filter(pidAlive)).toEqual([]);
    // And no further run started after the cancellation.
    expect(readFileSync(pids, 'utf8').trim().split('\n')).toHaveLength(3);
  });
});

test('a batch needs runs or each, not both', async () => {
  const config = writeFixtureConfig({ exit_with: EXIT_WITH });
  const taskQueue = uniqueTaskQueue('batch-invalid');
  const worker = await fixtureWorker(env, config, taskQueue);
  const err = await worker
    .runUntil(env.client.workflow.execute('runJobBatch', { taskQueue, workflowId: `batch-${taskQueue}`, args: [{ job: 'exit_with', runs: 2, each: [['0']] }] }))
    .catch((e: unknown) => e);
  expect(err).toBeInstanceOf(WorkflowFailedError);
  expect(String((err as WorkflowFailedError).cause?.message)).toContain('either runs');
});

test('a batch past its history budget continues as new with its counts, and each run happens once', async () => {
  const dir = tmpDir();
  const log = join(dir, 'runs.log');
  const config = writeFixtureConfig({ note: { command: '/bin/sh', args: ['-c', `echo "$1" >> ${log}; exit "$2"`, 'note'], retry: { maximumAttempts: 1 } } });
  const taskQueue = uniqueTaskQueue('batch-can');
  const worker = await fixtureWorker(env, config, taskQueue, { maxConcurrentActivityTaskExecutions: 4 });
  const each = Array.from({ length: 12 }, (_, i) => [String(i), i % 5 === 4 ? '1' : '0']);
  // Normal activities: every run's end is a workflow task, so 30 events come after a few runs.
  const summary = (await worker.runUntil(
    env.client.workflow.execute('runJobBatch', { taskQueue, workflowId: `batch-${taskQueue}`, args: [{ job: 'note', each, concurrency: 2, historyEventsPerRun: 30 }] }),
  )) as JobBatchSummary;
  expect(summary.workflowRuns).toBeGreaterThan(1);
  expect(summary).toMatchObject({ total: 12, succeeded: 10, failed: 2 });
  expect(summary.failures.map((f) => f.index).sort((a, b) => a - b)).toEqual([4, 9]);
  const ran = readFileSync(log, 'utf8').trim().split('\n').map(Number);
  expect(ran.sort((a, b) => a - b)).toEqual(Array.from({ length: 12 }, (_, i) => i));
});
