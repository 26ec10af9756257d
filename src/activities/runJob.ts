import { Context, CancelledFailure } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { AppConfig, JobSpec } from '../config/load.js';
import { isDebug, type Logger } from '../logging.js';
import type { JobError, JobFailureDetails, JobProgress } from '../contracts/jobs.js';
import { runJobProcess, warmHostOf } from './jobProcess.js';
import { classifyExit } from './protocol.js';

export type { JobFailureDetails } from '../contracts/jobs.js';

export interface RunJobInput {
  /** The job's name in the registry (config `jobs`). */
  job: string;
  /** Appended to the job's configured args, e.g. ["--model", "trend", "--production"]. */
  args?: string[];
  /** The run's "now" (ISO 8601) when a schedule or backfill started it: the job gets it as HEA_NOW. */
  now?: string;
}

/** What the workflow gets back from a job that succeeded. */
export interface JobOutcome {
  job: string;
  result: Record<string, unknown>;
  attempt: number;
  durationMs: number;
  lastProgress?: JobProgress;
}

/** Heartbeat details: what the Web UI, `hea run` and the workflow see of a running job. */
export interface JobHeartbeat extends Partial<JobProgress> {
  job: string;
  pid?: number;
  attempt: number;
  elapsedMs: number;
}

/**
 * When a failed attempt of this job is retried: its configured retry policy, exponential from the
 * attempt number. The workflow's retry policy itself starts at a second, which is what a worker that died
 * (a heartbeat timeout, no failure from here) gets; a job's own failure carries its configured delay.
 */
export function jobRetryDelayMs(retry: JobSpec['retry'], attempt: number): number {
  return Math.min(retry.initialInterval * retry.backoffCoefficient ** Math.max(0, attempt - 1), retry.maximumInterval);
}

/** The first line of a failure's message: what happened to the process, then what the job said of it. */
export function failureHeadline(what: string, jobError: JobError | undefined): string {
  if (!jobError) return what;
  return `${what}: ${jobError.type}: ${jobError.message.split('\n')[0]}${jobError.field ? ` (field ${jobError.field})` : ''}`;
}

export function createRunJob(config: AppConfig, logger: Logger) {
  const host = warmHostOf(config, logger);
  return async function runJob(input: RunJobInput): Promise<JobOutcome> {
    const ctx = Context.current();
    const info = ctx.info;
    const execution = { workflowId: info.workflowExecution?.workflowId ?? '', runId: info.workflowExecution?.runId ?? '' };
    const spec = config.jobs[input.job];
    if (!spec) {
      throw ApplicationFailure.create({
        type: 'UnknownJob',
        message: `no job named "${input.job}" in ${config.file}`,
        nonRetryable: true,
      });
    }
    const started = Date.now();
    let latest: JobHeartbeat = { job: spec.name, attempt: info.attempt, elapsedMs: 0 };
    // A local activity (a batch of a `local: true` job) has no heartbeats: the server never sees it, its
    // cancellation comes from the worker itself and its start-to-close timeout bounds it. Beating would only
    // encode details the SDK drops.
    const beat = info.isLocal ? () => undefined : () => ctx.heartbeat({ ...latest, elapsedMs: Date.now() - started });
    // Cancellation (and the server's verdict on timeouts) only reaches an activity that heartbeats,
    // so beat on a clock as well as on progress; the SDK throttles what it actually sends.
    const ticker = info.isLocal ? undefined : setInterval(beat, Math.max(200, Math.min(5_000, spec.heartbeatTimeoutMs / 4)));
    const run = await runJobProcess(spec, {
      args: input.args,
      signal: ctx.cancellationSignal,
      host,
      logger: logger.child({ workflowId: execution.workflowId, attempt: info.attempt }),
      env: {
        HEA_JOB_NAME: spec.name,
        HEA_RUN_ID: execution.runId,
        HEA_WORKFLOW_ID: execution.workflowId,
        HEA_ACTIVITY_ID: info.activityId,
        HEA_ATTEMPT: String(info.attempt),
        HEA_DATA_DIR: config.dirs.data,
        HEA_MODELS_DIR: config.dirs.models,
        HEA_REPORTS_DIR: config.dirs.reports,
        HEA_STORE_URL: config.storeUrl,
        HEA_DEBUG: isDebug() ? 'true' : 'false',
        ...(input.now ? { HEA_NOW: input.now } : {}),
      },
      onStart: (pid) => {
        latest = { ...latest, pid };
        beat();
      },
      onProgress: (progress) => {
        latest = { ...latest, ...progress };
        beat();
      },
    }).finally(() => clearInterval(ticker));

    const details: JobFailureDetails = {
      job: spec.name,
      exitCode: run.exitCode,
      signal: run.signal,
      attempt: info.attempt,
      durationMs: run.durationMs,
      lastProgress: run.lastProgress,
      ...(run.jobError ? { jobError: run.jobError } : {}),
      stderrTail: run.stderrTail,
    };
    const nextRetryDelay = jobRetryDelayMs(spec.retry, info.attempt);
    const tail = run.stderrTail.slice(-10).join('\n');
    const withTail = (what: string) => {
      const message = failureHeadline(what, run.jobError);
      return tail ? `${message}\n--- stderr (last lines) ---\n${tail}` : message;
    };

    if (run.aborted) {
      // Temporal decides what a cancelled attempt means (a retry after a timeout, or the end).
      throw ctx.cancellationSignal.reason instanceof CancelledFailure ? ctx.cancellationSignal.reason : new CancelledFailure(`job ${spec.name} cancelled`);
    }
    if (run.timedOut) {
      throw ApplicationFailure.create({
        type: 'JobTimedOut',
        message: withTail(`job ${spec.name} exceeded its timeout of ${spec.timeoutMs} ms and was killed`),
        details: [details],
        nextRetryDelay,
      });
    }
    const failure = classifyExit(run.exitCode, run.signal);
    if (failure) {
      const how = run.signal ? `was killed by ${run.signal}` : `exited with code ${run.exitCode}`;
      throw ApplicationFailure.create({
        type: failure.type,
        message: withTail(`job ${spec.name} ${how}`),
        nonRetryable: !failure.retryable,
        details: [details],
        nextRetryDelay,
      });
    }
    if (run.exitCode === undefined) {
      throw ApplicationFailure.create({
        type: 'JobFailed',
        message: withTail(`job ${spec.name} could not be run`),
        details: [details],
        nextRetryDelay,
      });
    }
    return {
      job: spec.name,
      result: run.result,
      attempt: info.attempt,
      durationMs: run.durationMs,
      lastProgress: run.lastProgress,
    };
  };
}
