// Jobs that misbehave: one hangs (its timeout kills its whole process tree), one ignores SIGTERM (the
// grace period ends in SIGKILL), one floods stdout with garbage (the runner logs it, keeps the result and
// stays up for the next job).
import { join } from 'node:path';
import { WorkflowFailedError } from '@temporalio/client';
import { ActivityFailure, ApplicationFailure } from '@temporalio/common';
import type { JobFailureDetails, JobOutcome } from '../../src/activities/index.js';
import { FIXTURES, pidAlive, tmpDir, useTestServer, waitFor } from '../helpers/env.js';
import { capturingLogger, pendingHeartbeat, startSingleJob, withJobWorker, writeConfig, writeScript } from '../helpers/faults.js';

const env = useTestServer();

const dir = tmpDir('hea-jobfaults-');

const GARBAGE_JOB = writeScript(
  dir,
  'garbage_job.py',
  `
import sys
out = sys.stdout.buffer
out.write(b'{"progress": 10, "stage": "start"}\\n')
out.write(b'{"progress": oops, this is not JSON\\n')
out.write(b'{"progress": 500, "stage": "out of range"}\\n')
out.write(b'{"result": "not an object"}\\n')
out.write(bytes(range(256)) + b"\\n")
out.write(b"\\xff\\xfe\\x00binary\\x80\\x81 without a meaning\\n")
out.write(b"x" * (10 * 1024 * 1024) + b"\\n")
out.write(b'{"result": {"ok": true, "rows_written": 3}}\\n')
out.flush()
out.write(b"y" * (10 * 1024 * 1024))
out.flush()
`,
);

const HANG = { args: [join(FIXTURES, 'tree_job.py')], timeout: '2s', heartbeatTimeout: '1s', killGrace: '5s', retry: { maximumAttempts: 1 } };
const config = writeConfig(
  {
    // Hangs but honours SIGTERM: the timeout's SIGTERM is enough.
    hang: HANG,
    // Hangs and ignores SIGTERM, and so does its child: only SIGKILL ends them, after the grace period.
    stubborn: { ...HANG, args: [...HANG.args, 'ignore-term'], killGrace: '1500ms' },
    garbage: { args: [GARBAGE_JOB] },
    echo: { args: [join(FIXTURES, 'echo_job.py'), 'after'] },
  },
  {},
  dir,
);

const captured = capturingLogger();

const withWorker = <T>(fn: (taskQueue: string) => Promise<T>) => withJobWorker(env, config, captured.logger, 'jobfaults', fn);
const start = (taskQueue: string, job: string) => startSingleJob(env, taskQueue, job);

async function treeOf(handle: Awaited<ReturnType<typeof start>>, job: string) {
  return waitFor('the job to report its pids', async () => {
    const beat = await pendingHeartbeat(env.client, handle, job);
    return beat?.message ? { ...(JSON.parse(beat.message) as { pid: number; child: number }), group: beat.pid! } : undefined;
  });
}

async function failureOf(handle: Awaited<ReturnType<typeof start>>) {
  const err = await handle.result().catch((e: unknown) => e);
  expect(err).toBeInstanceOf(WorkflowFailedError);
  const cause = ((err as WorkflowFailedError).cause as ActivityFailure).cause as ApplicationFailure;
  expect(cause).toBeInstanceOf(ApplicationFailure);
  return { cause, details: cause.details?.[0] as JobFailureDetails };
}

test.each([
  ['hang', 'SIGTERM at the timeout', 2_000, 2_000 + 5_000],
  ['stubborn', 'SIGKILL after the grace period', 2_000 + 1_500, 2_000 + 1_500 + 3_000],
])('a %s job is killed with its child (%s)', async (job, _how, minMs, maxMs) => {
  await withWorker(async (taskQueue) => {
    const handle = await start(taskQueue, job);
    const { pid, child, group } = await treeOf(handle, job);
    expect([pidAlive(pid), pidAlive(child)]).toEqual([true, true]);
    const { cause, details } = await failureOf(handle);
    expect(cause.type).toBe('JobTimedOut');
    expect(cause.message).toContain(`job ${job} exceeded its timeout of 2000 ms`);
    expect(details.signal).toBe(job === 'hang' ? 'SIGTERM' : 'SIGKILL');
    expect(details.durationMs).toBeGreaterThanOrEqual(minMs);
    expect(details.durationMs).toBeLessThan(maxMs);
    // The job, its own child and its supervisor: all gone, no orphan left behind.
    await waitFor('the process tree to be gone', () => !pidAlive(pid) && !pidAlive(child) && !pidAlive(group), 10_000);
  });
});

test('garbage on stdout (invalid JSON, bad messages, binary, 10 MB lines) is logged; the result is still read; the runner stays up', async () => {
  await withWorker(async (taskQueue) => {
    const outcome = (await (await start(taskQueue, 'garbage')).result()) as JobOutcome;
    expect(outcome.result).toEqual({ ok: true, rows_written: 3 });
    expect(outcome.lastProgress).toEqual({ progress: 10, stage: 'start' });

    const lines = captured.lines().filter((l) => l.job === 'garbage');
    const messages = lines.map((l) => String(l.msg));
    // Two over-long lines (one ended by a newline, one by the end of the stream), each cut at 64 KiB.
    const longOnes = lines.filter((l) => l.msg === 'job printed an over-long line; truncated');
    expect(longOnes.map((l) => l.bytes)).toEqual([64 * 1024, 64 * 1024]);
    // Protocol-shaped lines that break the schema are warnings naming the problem.
    const malformed = lines.filter((l) => l.msg === 'malformed protocol line');
    expect(malformed.map((l) => l.problem)).toEqual([expect.stringContaining('progress'), expect.stringContaining('result')]);
    // Invalid JSON and binary are plain log lines (bytes that are not UTF-8 replaced, never fatal).
    expect(messages).toContain('{"progress": oops, this is not JSON');
    expect(messages.some((m) => m.includes('binary') && m.includes('\uFFFD'))).toBe(true);

    // Same worker, next job: business as usual.
    const next = (await (await start(taskQueue, 'echo')).result()) as JobOutcome;
    expect(next.result).toEqual({ args: ['after'] });
  });
});
