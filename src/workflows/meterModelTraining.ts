// One meter's model training (the seed's Dramatiq `train_model` task), started by the API.
import { ApplicationFailure, defineQuery, log, setHandler, workflowInfo } from '@temporalio/workflow';
import {
  METER_TRAIN_JOB,
  jobMessage,
  makeTaskId,
  meterTrainingStateQueryName,
  type MeterTrainingInput,
  type MeterTrainingOutcome,
  type MeterTrainingState,
  type TrainingError,
} from '../contracts/trainings.js';
import type { StepReport } from './report.js';
import { loadJobOptions, runStep } from './steps.js';

export const meterTrainingStateQuery = defineQuery<MeterTrainingState>(meterTrainingStateQueryName);

/**
 * Runs the `meter_train` job for one meter with its configured timeout and retries. The workflow id is the
 * meter's (`meter-training:<type>:<id>`), so there is one training per meter at a time. The state query
 * answers the task's phase, timestamps, result or error; the job's stage within RUNNING is the running
 * activity's heartbeat (its latest progress line), which the API reads next to it.
 * Fails with the job's error type (DataError for unusable data, ...) and the job's own message.
 */
export async function meterModelTraining(input: MeterTrainingInput): Promise<MeterTrainingOutcome> {
  const info = workflowInfo();
  const taskId = makeTaskId(input.meterType, input.meterId, info.firstExecutionRunId);
  const ctx = { taskId, meterId: input.meterId, meterType: input.meterType, bulkId: input.bulkId };
  const startedAt = new Date().toISOString();
  const state: MeterTrainingState = {
    task_id: taskId,
    meter_id: input.meterId,
    meter_type: input.meterType,
    ...(input.bulkId ? { bulk_id: input.bulkId } : {}),
    phase: 'STARTED',
    started_at: startedAt,
    updated_at: startedAt,
  };
  const update = (patch: Partial<MeterTrainingState>) => {
    Object.assign(state, patch, { updated_at: new Date().toISOString() });
  };
  setHandler(meterTrainingStateQuery, () => ({ ...state }));
  log.info('meter training started', ctx);

  const options = await loadJobOptions([METER_TRAIN_JOB]);
  update({ phase: 'RUNNING' });
  const args = ['--meter-id', input.meterId, '--meter-type', input.meterType, '--task-id', taskId];
  const step = await runStep('train meter model', METER_TRAIN_JOB, args, options);
  if (step.status !== 'success') {
    const error = stepError(step);
    update({ phase: 'FAILED', error });
    log.warn('meter training failed', { ...ctx, errorType: error.type, error: error.message });
    throw ApplicationFailure.create({ type: error.type, message: error.message, nonRetryable: true, details: [error] });
  }
  const result = step.result ?? {};
  update({ phase: 'SUCCESS', result });
  log.info('meter training succeeded', { ...ctx, durationMs: step.durationMs });
  return {
    task_id: taskId,
    meter_id: input.meterId,
    meter_type: input.meterType,
    started_at: startedAt,
    finished_at: state.updated_at,
    attempts: step.attempts,
    result,
  };
}

/**
 * A failed step's error: the job's structured error line when the step carries it (JobFailureDetails.jobError,
 * through summarizeFailure), else the runner's message, whose stderr tail jobMessage reads.
 */
function stepError(step: StepReport): TrainingError {
  const attempts = step.attempts !== undefined ? { attempts: step.attempts } : {};
  // The failure's type is the runner's class of the exit (CantCreateError for exit 73), the message the job's.
  if (step.jobError) return { type: step.errorType ?? step.jobError.type, message: step.jobError.message, ...attempts };
  return { type: step.errorType ?? 'Error', message: jobMessage(step.error ?? 'the training failed'), ...attempts };
}
