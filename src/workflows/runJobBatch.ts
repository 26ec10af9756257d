// Many runs of one job from a single workflow (`hea job <name> --runs N | --each FILE`): on the embedded
// SQLite server each workflow costs more than a short job, so a bulk of short jobs is one workflow.
import { ActivityCancellationType, CancelledFailure, continueAsNew, isCancellation, proxyActivities, proxyLocalActivities, workflowInfo } from '@temporalio/workflow';
import { ApplicationFailure } from '@temporalio/common';
import type { Activities, JobActivityOptions, RunJobInput } from '../activities/index.js';
import { summarizeFailure } from '../contracts/failures.js';
import { BATCH_MAX_CONCURRENCY } from '../contracts/jobs.js';
import { CRASH_RETRY_INTERVAL_MS, loadJobOptions } from './steps.js';

/** The most failures a summary lists (each with its run); the counts cover all of them. */
export const BATCH_FAILURES_LISTED = 20;
/**
 * Past this many events the batch goes on in a new run (continue-as-new) with its counts so far. 1,000 local
 * runs are about 1,010 events (one marker each); 1,000 normal activities about 5,000.
 */
export const BATCH_HISTORY_EVENTS_PER_RUN = 10_000;

export interface JobBatchInput {
  job: string;
  /** Runs of the job with its configured args (exclusive with `each`). */
  runs?: number;
  /** One run per list: each list's arguments are appended to the job's configured args (and `args`). */
  each?: string[][];
  /** Arguments of every run, after the job's configured args and before the run's own from `each`. */
  args?: string[];
  /** Runs at once (default 1). */
  concurrency?: number;
  /** Continue-as-new past this many events (default BATCH_HISTORY_EVENTS_PER_RUN; tests set a small one). */
  historyEventsPerRun?: number;
  /** Carried by continue-as-new: where the previous runs of this batch left off. Not for callers. */
  carried?: BatchProgress;
}

export interface BatchFailure {
  /** The run's index in the batch (0-based; the line of `--each`'s file is index + 1). */
  index: number;
  args: string[];
  /** The failure's class: the job's exit-code class (`DataError`, `JobTimedOut`, ...), `TimedOut`, ... */
  errorType: string;
  message: string;
  attempts?: number;
}

export interface BatchProgress {
  /** Index of the next run to start (runs before it have ended). */
  next: number;
  succeeded: number;
  failed: number;
  failures: BatchFailure[];
  /** When the batch's first run began (epoch ms, workflow time). */
  startedAtMs: number;
  /** Workflow runs of this batch before this one (continue-as-new). */
  continuedRuns: number;
}

export interface JobBatchSummary {
  job: string;
  total: number;
  succeeded: number;
  failed: number;
  durationMs: number;
  /** Whether the runs were local activities (config `jobs.<name>.local`). */
  local: boolean;
  concurrency: number;
  /** The first BATCH_FAILURES_LISTED failures, in the order they ended. */
  failures: BatchFailure[];
  /** Workflow runs the batch took (continue-as-new keeps each history bounded). */
  workflowRuns: number;
}

/** The batch's run function: a local or a normal activity, with the job's configured timeout and retries. */
function runnerFor(options: JobActivityOptions): (input: RunJobInput) => Promise<unknown> {
  const retry = {
    // As runStep: a job's own failure carries its configured delay (nextRetryDelay); this only covers a
    // crash without a failure from the job.
    initialInterval: Math.min(options.retry.initialIntervalMs, CRASH_RETRY_INTERVAL_MS),
    backoffCoefficient: options.retry.backoffCoefficient,
    maximumInterval: options.retry.maximumIntervalMs,
    maximumAttempts: options.retry.maximumAttempts,
  };
  // Cancelling the batch waits for each run to end, so the workflow is cancelled only once every job's
  // process tree has been stopped (the runner kills the tree on cancel).
  const cancellationType = ActivityCancellationType.WAIT_CANCELLATION_COMPLETED;
  if (options.local) {
    // No heartbeats for a local activity: its start-to-close timeout (the job's timeout plus its kill grace)
    // is what bounds a run whose worker is alive; a dead worker's batch is retried as a whole workflow task.
    return proxyLocalActivities<Activities>({ startToCloseTimeout: options.startToCloseTimeoutMs, retry, cancellationType }).runJob;
  }
  return proxyActivities<Activities>({
    startToCloseTimeout: options.startToCloseTimeoutMs,
    heartbeatTimeout: options.heartbeatTimeoutMs,
    retry,
    cancellationType,
  }).runJob;
}

/**
 * Runs one job `runs` times, or once per argument list of `each`, `concurrency` at a time; a failed run does
 * not stop the others. Returns the counts and the first failures. Cancelling it stops every running job.
 */
export async function runJobBatch(input: JobBatchInput): Promise<JobBatchSummary> {
  if ((input.runs === undefined) === (input.each === undefined) || (input.runs !== undefined && !(Number.isInteger(input.runs) && input.runs >= 0))) {
    throw ApplicationFailure.create({ type: 'InvalidBatch', message: 'a batch needs either runs (a whole number) or each (argument lists)', nonRetryable: true });
  }
  const total = input.each ? input.each.length : (input.runs ?? 0);
  const concurrency = Math.max(1, Math.min(input.concurrency ?? 1, BATCH_MAX_CONCURRENCY));
  const argsOf = (index: number): string[] => [...(input.args ?? []), ...(input.each?.[index] ?? [])];
  const options = (await loadJobOptions([input.job]))[input.job];
  const progress: BatchProgress = input.carried ?? { next: 0, succeeded: 0, failed: 0, failures: [], startedAtMs: Date.now(), continuedRuns: 0 };
  const summary = (): JobBatchSummary => ({
    job: input.job,
    total,
    succeeded: progress.succeeded,
    failed: progress.failed,
    durationMs: Date.now() - progress.startedAtMs,
    local: options?.local ?? false,
    concurrency,
    failures: progress.failures,
    workflowRuns: progress.continuedRuns + 1,
  });
  const fail = (failure: BatchFailure) => {
    progress.failed += 1;
    if (progress.failures.length < BATCH_FAILURES_LISTED) progress.failures.push(failure);
  };
  if (!options) {
    // No such job in the worker's config: every run fails the same way, without starting any.
    for (let index = progress.next; index < total; index++) fail({ index, args: argsOf(index), errorType: 'UnknownJob', message: `no job named "${input.job}"` });
    progress.next = total;
    return summary();
  }
  const run = runnerFor(options);
  const historyFull = () => workflowInfo().continueAsNewSuggested || workflowInfo().historyLength >= (input.historyEventsPerRun ?? BATCH_HISTORY_EVENTS_PER_RUN);

  let cancelled: unknown;
  let started = progress.next;
  const loop = async () => {
    while (started < total && cancelled === undefined && !historyFull()) {
      const index = started;
      started += 1;
      const args = argsOf(index);
      try {
        await run({ job: input.job, args });
        progress.succeeded += 1;
      } catch (err) {
        if (isCancellation(err)) {
          cancelled ??= err;
          return;
        }
        const f = summarizeFailure(err);
        fail({ index, args, errorType: f.type, message: f.message, ...(f.attempts !== undefined ? { attempts: f.attempts } : {}) });
      }
    }
  };
  // A fixed pool of loops, each taking the next run: at most `concurrency` at any moment. allSettled, not
  // all: on cancellation every loop's run must have ended (its tree killed) before the workflow ends.
  await Promise.allSettled(Array.from({ length: Math.min(concurrency, Math.max(1, total - progress.next)) }, loop));
  if (cancelled !== undefined) throw cancelled instanceof CancelledFailure ? cancelled : new CancelledFailure('batch cancelled');
  // Every loop stops taking runs at once, so the runs started are exactly the runs that ended.
  progress.next = started;
  if (progress.next < total) {
    await continueAsNew<typeof runJobBatch>({ ...input, carried: { ...progress, continuedRuns: progress.continuedRuns + 1 } });
  }
  return summary();
}
