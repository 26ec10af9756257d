// The benchmark's workflow bundle: the project's workflows plus one with a single in-process activity, to
// measure Temporal itself (start, one activity, result) apart from the job runner.
import { proxyActivities, proxyLocalActivities } from '@temporalio/workflow';

export * from '../src/workflows/index.js';

interface BenchActivities {
  noop(i: number): Promise<number>;
  sleepMs(ms: number): Promise<number>;
}

const { noop } = proxyActivities<BenchActivities>({ startToCloseTimeout: '10s', retry: { maximumAttempts: 1 } });

/** Start, one trivial activity, result. */
export async function benchNoop(i: number): Promise<number> {
  return noop(i);
}

const { runJob } = proxyActivities<{ runJob(input: { job: string; args?: string[] }): Promise<unknown> }>({
  startToCloseTimeout: '5m',
  heartbeatTimeout: '30s',
  retry: { maximumAttempts: 1 },
});

/** `n` runs of one job from a single workflow, `concurrency` at a time: the fan-out alternative to a workflow per job. */
export async function benchFanOut(job: string, n: number, concurrency: number): Promise<number> {
  let next = 0;
  let done = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < n) {
        next += 1;
        await runJob({ job });
        done += 1;
      }
    }),
  );
  return done;
}

const { sleepMs } = proxyLocalActivities<BenchActivities>({ startToCloseTimeout: '10s', retry: { maximumAttempts: 1 } });

/**
 * `n` in-process local activities of `ms` each, `concurrency` at a time: runJobBatch's path without the job
 * runner, so the batch row can say how much of its cost is Temporal's and how much the runner's.
 */
export async function benchLocalFanOut(n: number, concurrency: number, ms: number): Promise<number> {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < n) {
        next += 1;
        await sleepMs(ms);
      }
    }),
  );
  return n;
}
