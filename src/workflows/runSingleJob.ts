import { proxyActivities } from '@temporalio/workflow';
import type { Activities, JobOutcome, RunJobInput } from '../activities/index.js';
import { loadJobOptions } from './steps.js';

/**
 * Any one job from the registry, with its configured timeouts and retries (`hea job <name>`): for trying
 * a new script, and for measuring the runner itself. Fails when the job fails.
 */
export async function runSingleJob(input: RunJobInput): Promise<JobOutcome> {
  const options = (await loadJobOptions([input.job]))[input.job];
  const { runJob } = proxyActivities<Activities>({
    startToCloseTimeout: options?.startToCloseTimeoutMs ?? 60_000,
    heartbeatTimeout: options?.heartbeatTimeoutMs ?? 30_000,
    retry: options
      ? {
          initialInterval: options.retry.initialIntervalMs,
          backoffCoefficient: options.retry.backoffCoefficient,
          maximumInterval: options.retry.maximumIntervalMs,
          maximumAttempts: options.retry.maximumAttempts,
        }
      : { maximumAttempts: 1 },
    summary: input.job,
  });
  return runJob(input);
}
