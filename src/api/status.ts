// A training's status, put together from Temporal with one describe() of its run: whether it is closed,
// whether the job is scheduled, the job's latest progress line (the running activity's heartbeat) and the
// memo the bulk request gave it. A closed run's status never changes, so it is read once; a running one is
// shared by the pollers who ask together (never with a read begun before the request: trainings/reused.ts)
// or within api.statusCacheMs. Nothing is asked through a worker, so the status
// answers as fast with a busy or absent worker, and survives an API restart (it lives in Temporal).
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { WorkflowNotFoundError, type Client, type WorkflowExecutionDescription } from '@temporalio/client';
import type { JobHeartbeat } from '../activities/index.js';
import { summarizeFailure } from '../contracts/failures.js';
import { parseTaskId, trainingError, type MeterTrainingMemo, type MeterTrainingOutcome, type TrainingError } from '../contracts/trainings.js';
import type { TaskStatus, TaskStatusName } from './schemas.js';
import type { Reused } from './trainings/reused.js';

/** The job's stages (its progress lines' `stage`), in order, and the statuses they map to. */
export const STAGES = ['connecting', 'fetching_data', 'validating_data', 'training_model', 'saving_model'] as const;
const STAGE_STATUS: Record<string, TaskStatusName> = {
  connecting: 'CONNECTING',
  fetching_data: 'FETCHING_DATA',
  validating_data: 'VALIDATING_DATA',
  training_model: 'TRAINING_MODEL',
  saving_model: 'SAVING_MODEL',
};

export class TaskNotFound extends Error {
  override name = 'TaskNotFound';
}

const iso = (d: Date | undefined | null) => (d ? d.toISOString() : null);

function tsToDate(t: { seconds?: unknown; nanos?: number | null } | null | undefined): Date | undefined {
  if (!t || t.seconds === undefined || t.seconds === null) return undefined;
  return new Date(Number(t.seconds) * 1000 + Math.floor((t.nanos ?? 0) / 1e6));
}

/**
 * Measured stage durations, written by the job after each training (<data dir>/meters/stage_times.json,
 * an exponentially weighted mean per stage). Re-read when the file changes.
 */
export class StageTimes {
  private cache?: { mtimeMs: number; stages: Record<string, number> };

  constructor(private readonly file: string) {}

  static forDataDir(dataDir: string): StageTimes {
    return new StageTimes(join(dataDir, 'meters', 'stage_times.json'));
  }

  /** Seconds per stage, or undefined until every stage has been measured at least once. */
  expected(): Record<string, number> | undefined {
    let mtimeMs: number;
    try {
      mtimeMs = statSync(this.file).mtimeMs;
    } catch {
      return undefined;
    }
    if (this.cache?.mtimeMs !== mtimeMs) {
      try {
        const data = JSON.parse(readFileSync(this.file, 'utf8')) as { stages?: Record<string, { mean_seconds?: number }> };
        const stages: Record<string, number> = {};
        for (const [name, s] of Object.entries(data.stages ?? {})) {
          if (typeof s.mean_seconds === 'number' && Number.isFinite(s.mean_seconds)) stages[name] = s.mean_seconds;
        }
        this.cache = { mtimeMs, stages };
      } catch {
        return undefined; // being replaced right now: no estimate this time
      }
    }
    const stages = this.cache.stages;
    return STAGES.every((s) => stages[s] !== undefined) ? stages : undefined;
  }

  /**
   * When the training should end: the current stage ends when its measured duration says (or now, if it
   * is overdue), then each later stage takes its measured time. `jobStartedAt` undefined: the job has not
   * started, so all stages are still ahead.
   */
  estimate(now: Date, stage: string | undefined, jobStartedAt: Date | undefined): string | null {
    const expected = this.expected();
    if (!expected) return null;
    const ms = (s: string) => (expected[s] ?? 0) * 1000;
    const index = stage ? STAGES.indexOf(stage as (typeof STAGES)[number]) : -1;
    if (!jobStartedAt || index < 0) {
      return new Date(now.getTime() + STAGES.reduce((sum, s) => sum + ms(s), 0)).toISOString();
    }
    const untilStageEnd = STAGES.slice(0, index + 1).reduce((sum, s) => sum + ms(s), 0);
    const stageEnd = Math.max(jobStartedAt.getTime() + untilStageEnd, now.getTime());
    const rest = STAGES.slice(index + 1).reduce((sum, s) => sum + ms(s), 0);
    return new Date(stageEnd + rest).toISOString();
  }
}

export interface StatusDeps {
  client: Client;
  stageTimes: StageTimes;
  /** Asked only for a PENDING task, to say why it waits. */
  workersPolling: () => Promise<boolean>;
  /** Statuses shared between requests: closed runs' for good, running ones' for runningTtlMs. */
  cache?: Reused<string, TaskStatus>;
  runningTtlMs?: number;
}

/** Whether the run's training job has ended (completed or failed for good): read from its history. */
async function jobEnded(handle: ReturnType<Client['workflow']['getHandle']>): Promise<boolean> {
  const history = await handle.fetchHistory();
  return (history.events ?? []).some((e) => e.activityTaskCompletedEventAttributes || e.activityTaskFailedEventAttributes);
}

/** The failure that ended a run, read through the one failure summary. */
async function runError(handle: ReturnType<Client['workflow']['getHandle']>, statusName: string): Promise<TrainingError> {
  return handle.result().then(
    () => ({ type: statusName, message: `the training ended as ${statusName}` }),
    (err: unknown) => trainingError(summarizeFailure(err)),
  );
}

/** The status of a task id; throws TaskNotFound for an id that names no training. */
export function taskStatus(deps: StatusDeps, taskId: string): Promise<TaskStatus> {
  if (!deps.cache) return readTaskStatus(deps, taskId);
  const runningTtl = deps.runningTtlMs ?? 0;
  return deps.cache.get(
    taskId,
    () => readTaskStatus(deps, taskId),
    (s) => (s.status === 'SUCCESS' || s.status === 'FAILED' ? Infinity : runningTtl),
  );
}

async function readTaskStatus(deps: StatusDeps, taskId: string): Promise<TaskStatus> {
  const parsed = parseTaskId(taskId);
  if (!parsed) throw new TaskNotFound(`no task ${taskId}`);
  const handle = deps.client.workflow.getHandle(parsed.workflowId, parsed.runId);
  let desc: WorkflowExecutionDescription;
  try {
    desc = await handle.describe();
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) throw new TaskNotFound(`no task ${taskId}`);
    throw err;
  }
  if (desc.type !== 'meterModelTraining') throw new TaskNotFound(`no task ${taskId}`);
  const base = {
    task_id: taskId,
    meter_id: parsed.meterId,
    meter_type: parsed.meterType,
    started_at: iso(desc.startTime),
  };
  const now = new Date();

  switch (desc.status.name) {
    case 'COMPLETED': {
      const outcome = (await handle.result()) as MeterTrainingOutcome;
      return {
        ...base,
        status: 'SUCCESS',
        progress: 100,
        // A model worse than "same time yesterday" is saved, but its task does not read as a plain success.
        message:
          (outcome.result as { status?: string; message?: string } | undefined)?.status === 'worse_than_naive'
            ? `Model training completed with a warning: ${(outcome.result as { message?: string }).message}`
            : 'Model training completed successfully!',
        updated_at: iso(desc.closeTime),
        finished_at: iso(desc.closeTime),
        estimated_completion: iso(desc.closeTime),
        ...(outcome.attempts ? { attempt: outcome.attempts } : {}),
        result: outcome.result,
      };
    }
    case 'RUNNING':
      break;
    default: {
      const error = await runError(handle, desc.status.name);
      return {
        ...base,
        status: 'FAILED',
        progress: null,
        message: `Model training failed: ${error.message}`,
        updated_at: iso(desc.closeTime),
        finished_at: iso(desc.closeTime),
        estimated_completion: null,
        error,
      };
    }
  }

  const raw = desc.raw;
  const bulkId = (desc.memo as MeterTrainingMemo | undefined)?.bulk_id;
  const taskStarted = (raw.pendingWorkflowTask?.state ?? 0) === 2; // PENDING_WORKFLOW_TASK_STATE_STARTED
  if (desc.historyLength <= 2 && !taskStarted) {
    const polled = await deps.workersPolling().catch(() => true);
    return {
      ...base,
      status: 'PENDING',
      progress: 0,
      message: polled ? 'Task queued for processing' : 'Task queued, but no worker polls the task queue: start one (npm start or hea worker); see /health/worker',
      updated_at: iso(desc.startTime),
      estimated_completion: polled ? deps.stageTimes.estimate(now, undefined, undefined) : null,
      ...(bulkId ? { bulk_id: bulkId } : {}),
    };
  }

  const activity = raw.pendingActivities?.find((a) => a.activityType?.name === 'runJob');
  let status: TaskStatusName = 'STARTED';
  let progress = 0;
  let message = 'Worker picked up the task';
  let updated = desc.startTime;
  let jobStartedAt: Date | undefined;
  let stage: string | undefined;
  let attempt: number | undefined;
  if (activity) {
    attempt = activity.attempt ?? undefined;
    const converter = deps.client.options.loadedDataConverter;
    const payload = activity.heartbeatDetails?.payloads?.[0];
    const beat = payload ? (converter.payloadConverter.fromPayload(payload) as JobHeartbeat) : undefined;
    const started = activity.state === 2; // PENDING_ACTIVITY_STATE_STARTED
    jobStartedAt = started ? tsToDate(activity.lastStartedTime) : undefined;
    const heartbeatAt = tsToDate(activity.lastHeartbeatTime);
    for (const t of [jobStartedAt, heartbeatAt]) if (t && t > updated) updated = t;
    // A heartbeat from an earlier attempt stays in the description until the new attempt beats.
    const current = started && beat && (beat.attempt ?? 1) === (activity.attempt ?? 1);
    if (current && beat.stage && STAGE_STATUS[beat.stage]) {
      stage = beat.stage;
      status = STAGE_STATUS[beat.stage]!;
      progress = beat.progress ?? 0;
      message = beat.message ?? status;
    } else if (!started && (activity.attempt ?? 1) > 1) {
      // The last attempt's failure, through the one failure summary (the job's own error line when it printed one).
      const last = activity.lastFailure
        ? trainingError(summarizeFailure(converter.failureConverter.failureToError(activity.lastFailure, converter.payloadConverter)))
        : undefined;
      message = `Retrying (attempt ${activity.attempt}) after: ${last?.message ?? 'a failure'}`;
    } else if (started) {
      message = 'Training job started';
    } else {
      message = 'Training job scheduled';
    }
  } else if (desc.historyLength > 6 && (await jobEnded(handle))) {
    // The job has ended but the workflow has not closed yet: never report STARTED again (a status only
    // moves forward); the next poll sees SUCCESS or FAILED.
    status = 'SAVING_MODEL';
    progress = 99;
    message = 'Training job finished; recording the result';
  }
  return {
    ...base,
    status,
    progress,
    message,
    updated_at: updated.toISOString(),
    estimated_completion: deps.stageTimes.estimate(now, stage, jobStartedAt),
    ...(attempt ? { attempt } : {}),
    ...(bulkId ? { bulk_id: bulkId } : {}),
  };
}
