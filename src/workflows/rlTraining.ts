import { workflowInfo } from '@temporalio/workflow';
import { parseParams, rlTrainingParams, type RlTrainingParams } from './params.js';
import { RunRecorder } from './run.js';
import type { RunReport } from './report.js';
import { isTraining, refreshData } from './updates.js';

/** Weekly: trains the battery agent and evaluates every controller against the optimum. */
export async function rlTraining(input: RlTrainingParams = {}): Promise<RunReport> {
  const p = parseParams(rlTrainingParams, input);
  // Workflow time, not the wall clock, so a replay sees the same date; for a scheduled or backfilled run,
  // the time it was scheduled for.
  const scheduled = workflowInfo().searchAttributes?.TemporalScheduledStartTime?.[0];
  const runDate = scheduled instanceof Date ? scheduled : new Date();
  const endDate = p.endDate ?? runDate.toISOString().slice(0, 10);
  const run = new RunRecorder({ ...p, endDate });
  const fetches = p.updateData ? (['prices_data', 'consumption_data', 'solar_actual'] as const) : [];
  await run.prepare(['rl_train', ...fetches]);
  await refreshData(run, [...fetches]);
  const args = ['--sanity-check-steps', String(p.sanityCheckSteps), '--end-date', endDate];
  if (p.startDate) args.push('--start-date', p.startDate);
  if (p.totalTimesteps !== undefined) args.push('--total-timesteps', String(p.totalTimesteps));
  await run.step('battery agent', 'rl_train', args);
  // Fetches alone succeeding do not make a training run a success: it fails when no training did.
  return run.finish({ essential: isTraining });
}
