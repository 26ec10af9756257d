import type { AppConfig } from '../config/load.js';

/** The activity options of each job, in a form a workflow can pass to proxyActivities. */
export interface JobActivityOptions {
  startToCloseTimeoutMs: number;
  heartbeatTimeoutMs: number;
  /**
   * Config `jobs.<name>.local`: batches (runJobBatch) run this job as local activities. Optional: histories
   * recorded before it have no such field, and a missing one means a normal activity.
   */
  local?: boolean;
  retry: {
    initialIntervalMs: number;
    backoffCoefficient: number;
    maximumIntervalMs: number;
    maximumAttempts: number;
  };
}

/**
 * Read by workflows through a local activity at the start of a run: timeouts and retry policies live in
 * config (the seed's per-task settings), and a workflow may not read files itself. The answer is recorded
 * in the history, so a replay sees the same options even if config changed since.
 */
export function createJobOptions(config: AppConfig) {
  return async function jobOptions(jobs: string[]): Promise<Record<string, JobActivityOptions>> {
    const out: Record<string, JobActivityOptions> = {};
    for (const name of jobs) {
      const spec = config.jobs[name];
      if (!spec) continue; // the step fails with UnknownJob, as a report line rather than a crash
      out[name] = {
        // The runner kills the job at its own deadline; Temporal's timeout leaves room for the grace period.
        startToCloseTimeoutMs: spec.timeoutMs + spec.killGraceMs + 5_000,
        heartbeatTimeoutMs: spec.heartbeatTimeoutMs,
        local: spec.local,
        retry: {
          initialIntervalMs: spec.retry.initialInterval,
          backoffCoefficient: spec.retry.backoffCoefficient,
          maximumIntervalMs: spec.retry.maximumInterval,
          maximumAttempts: spec.retry.maximumAttempts,
        },
      };
    }
    return out;
  };
}
