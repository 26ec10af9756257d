// Running jobs as report steps: the one place where workflows call the runJob activity.
import { isCancellation, proxyLocalActivities, proxyActivities, workflowInfo } from '@temporalio/workflow';
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import type { Activities, JobActivityOptions, JobOutcome } from '../activities/index.js';
import { summarizeFailure } from '../contracts/failures.js';
import type { StepReport } from '../contracts/report.js';

const { jobOptions } = proxyLocalActivities<Activities>({ startToCloseTimeout: '10s' });

/** Fallback for a job missing from config: the attempt fails fast with UnknownJob. */
const UNKNOWN_JOB: JobActivityOptions = {
  startToCloseTimeoutMs: 60_000,
  heartbeatTimeoutMs: 30_000,
  retry: { initialIntervalMs: 1_000, backoffCoefficient: 2, maximumIntervalMs: 10_000, maximumAttempts: 1 },
};

export type JobOptionsTable = Record<string, JobActivityOptions>;

const SCHEDULED_START = defineSearchAttributeKey('TemporalScheduledStartTime', SearchAttributeType.DATETIME);

/**
 * "Now" for this run's jobs: the time a schedule (or a backfill) started it for, so a backfilled daily
 * pipeline plans for its own day, not for today. Undefined for a run started by hand (the jobs use the
 * clock). Read from the start event's search attributes: the same on every replay.
 */
export function scheduledNow(): string | undefined {
  const at = workflowInfo().typedSearchAttributes.get(SCHEDULED_START);
  return at ? at.toISOString() : undefined;
}

/** Timeouts and retry policies of the given jobs, from the worker's config (recorded in history). */
export function loadJobOptions(jobs: string[]): Promise<JobOptionsTable> {
  return jobOptions([...new Set(jobs)]);
}

/**
 * How soon a job is retried when its attempt ended without a failure from the job (its worker died and
 * the heartbeat timed out, or the server timed it out). A job's own failures carry the delay of its
 * configured retry policy (runJob sets nextRetryDelay), so only this case uses the policy's interval.
 */
export const CRASH_RETRY_INTERVAL_MS = 1_000;

function runJobWith(step: string, options: JobActivityOptions) {
  return proxyActivities<Activities>({
    startToCloseTimeout: options.startToCloseTimeoutMs,
    heartbeatTimeout: options.heartbeatTimeoutMs,
    retry: {
      initialInterval: Math.min(options.retry.initialIntervalMs, CRASH_RETRY_INTERVAL_MS),
      backoffCoefficient: options.retry.backoffCoefficient,
      maximumInterval: options.retry.maximumIntervalMs,
      maximumAttempts: options.retry.maximumAttempts,
    },
    summary: step,
  }).runJob;
}

/** The flow that trains what a job needs: named when the job finds no trained model (a fresh clone). */
const TRAINED_BY: Record<string, string> = {
  price_predictions: 'weekly-training',
  demand_predictions: 'weekly-training',
  rl_control: 'rl-training',
};

/** A missing model is fixed by a flow, not by a Python command: say which (`npx hea run ...`). */
function withTrainingHint(job: string, errorType: string, message: string): string {
  const flow = TRAINED_BY[job];
  if (!flow || errorType !== 'NoInputError' || !/no trained model|has no file/.test(message)) return message;
  const hint = `run \`npx hea run ${flow}\` first (hea start does it by itself when no model is trained yet)`;
  // The first line is what `hea run` and the Web UI show; the job's own words follow in the stderr tail.
  const [first, ...rest] = message.replace(/run `python -m [^`]+`( first)?/g, hint).split('\n');
  return [`${first}: no trained model yet: ${hint}`, ...rest].join('\n');
}

function describeFailure(job: string, err: unknown): Pick<StepReport, 'error' | 'errorType' | 'attempts' | 'jobError'> {
  const failure = summarizeFailure(err);
  if (failure.type === 'TimedOut') return { error: `activity timed out (${failure.timeoutType})`, errorType: 'Timeout' };
  return {
    error: withTrainingHint(job, failure.type, failure.fullMessage),
    errorType: failure.type,
    attempts: failure.attempts,
    ...(failure.jobError ? { jobError: failure.jobError } : {}),
  };
}

/**
 * Runs one job as a step of a report. Never throws for a failed job (the report says so and the
 * workflow decides what depends on it); rethrows cancellation so a cancelled run stops.
 */
export async function runStep(step: string, job: string, args: string[], options: JobOptionsTable): Promise<StepReport & { outcome?: JobOutcome }> {
  const startedAt = new Date(); // workflow time: deterministic on replay
  try {
    const now = scheduledNow();
    const outcome = await runJobWith(step, options[job] ?? UNKNOWN_JOB)({ job, args, ...(now ? { now } : {}) });
    return {
      step,
      job,
      status: 'success',
      attempts: outcome.attempt,
      startedAt: startedAt.toISOString(),
      durationMs: Date.now() - startedAt.getTime(),
      result: outcome.result,
      outcome,
    };
  } catch (err) {
    if (isCancellation(err)) throw err;
    return {
      step,
      job,
      status: 'failed',
      startedAt: startedAt.toISOString(),
      durationMs: Date.now() - startedAt.getTime(),
      ...describeFailure(job, err),
    };
  }
}
