// Names, ids and shapes shared by the meter training workflows, the API and the CLI. Imports nothing, so
// every layer (workflow code included) may use it.
import type { FailureSummary } from './failures.js';

export const METER_TRAIN_JOB = 'meter_train';
export const meterTrainingStateQueryName = 'meterTrainingState';
export const bulkTrainingStateQueryName = 'meterBulkTrainingState';

/** What the API accepts as a meter id: it names a file, so no separators, no "..", bounded length. */
export const METER_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
export const METER_ID_MAX = 64;

export interface MeterRef {
  meterId: string;
  meterType: string;
}

export interface MeterTrainingInput extends MeterRef {
  /** Set when the training runs as part of a bulk request. */
  bulkId?: string;
}

/** One training per meter at a time: the workflow id is the meter's, so a second start finds the first. */
export function meterWorkflowId(meterType: string, meterId: string): string {
  return `meter-training:${meterType}:${meterId}`;
}

/**
 * A task id names one run of a meter's workflow: `<meter_type>:<meter_id>:<run id>`. The API can find the
 * run from the id alone (no lookup table to lose on restart), and ids never repeat across trainings.
 */
export function makeTaskId(meterType: string, meterId: string, runId: string): string {
  return `${meterType}:${meterId}:${runId}`;
}

const RUN_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function parseTaskId(taskId: string): { meterType: string; meterId: string; runId: string; workflowId: string } | undefined {
  const parts = taskId.split(':');
  if (parts.length !== 3) return undefined;
  const [meterType, meterId, runId] = parts as [string, string, string];
  if (!/^[a-z][a-z0-9_]*$/.test(meterType) || !METER_ID_PATTERN.test(meterId) || meterId.includes('..') || !RUN_ID.test(runId)) {
    return undefined;
  }
  return { meterType, meterId, runId, workflowId: meterWorkflowId(meterType, meterId) };
}

export const BULK_PREFIX = 'meter-training-bulk:';

export function bulkWorkflowId(bulkId: string): string {
  return `${BULK_PREFIX}${bulkId}`;
}

/** The workflow's own view of a training (the query's answer). */
export interface MeterTrainingState {
  task_id: string;
  meter_id: string;
  meter_type: string;
  bulk_id?: string;
  /** STARTED: the workflow runs, the job is not started yet; RUNNING: the job is scheduled or running. */
  phase: 'STARTED' | 'RUNNING' | 'SUCCESS' | 'FAILED';
  started_at: string;
  updated_at: string;
  result?: Record<string, unknown>;
  error?: TrainingError;
}

export interface TrainingError {
  type: string;
  message: string;
  attempts?: number;
}

export interface MeterTrainingOutcome {
  task_id: string;
  meter_id: string;
  meter_type: string;
  started_at: string;
  finished_at: string;
  attempts?: number;
  /** The job's result line: {status, message, details: {model_path, data_points, metrics, ...}}. */
  result: Record<string, unknown>;
}

export type BulkItemStatus = 'QUEUED' | 'WAITING' | 'RUNNING' | 'SUCCESS' | 'FAILED';

export interface BulkItem {
  meter_id: string;
  meter_type: string;
  status: BulkItemStatus;
  task_id?: string;
  started_at?: string;
  finished_at?: string;
  message?: string;
  error?: TrainingError;
  /** Key figures of a success: the model file and its holdout error against the baseline. */
  model_path?: string;
  data_points?: number;
  mae?: number | null;
  rmae_yesterday?: number | null;
}

export interface BulkTrainingInput {
  bulkId: string;
  meters: MeterRef[];
  concurrency: number;
}

export interface BulkTrainingState {
  bulk_id: string;
  status: 'RUNNING' | 'COMPLETED';
  concurrency: number;
  total: number;
  counts: Record<BulkItemStatus, number>;
  started_at: string;
  updated_at: string;
  finished_at?: string;
  items: BulkItem[];
}

export function countItems(items: BulkItem[]): Record<BulkItemStatus, number> {
  const counts: Record<BulkItemStatus, number> = { QUEUED: 0, WAITING: 0, RUNNING: 0, SUCCESS: 0, FAILED: 0 };
  for (const item of items) counts[item.status] += 1;
  return counts;
}

/**
 * The job's own message from a runner failure that carries no structured error line (jobs that predate
 * `{"error": {...}}`, docs/job-protocol.md): the runner's message is "job X exited with code 65" plus the
 * stderr tail, whose last `SomethingError: ...` line is what the job raised. The only place that reads
 * stderr text for an error; remove it once every job prints the error line.
 */
export function jobMessage(message: string): string {
  const lines = message.split('\n');
  for (let i = lines.length - 1; i >= 0; i -= 1) {
    const m = /^([A-Za-z]+(?:Error|Exception)): (.+)$/.exec(lines[i]!.trim());
    if (m) return m[2]!;
  }
  return lines[0] ?? message;
}

/**
 * A training's error from the one failure summary (summarizeFailure): the job's own structured error line
 * when it printed one (`{"error": {"type": "DataError", "message": ...}}`), else the failure's type and
 * first line.
 */
export function trainingError(summary: FailureSummary): TrainingError {
  const own = summary.jobError;
  return {
    type: own?.type ?? summary.type,
    message: own?.message ?? summary.message,
    ...(summary.attempts !== undefined ? { attempts: summary.attempts } : {}),
  };
}

/** A meter, once: the first of each `type:id` in the given order (a bulk request, `hea train-meters`). */
export function uniqueMeters(meters: readonly MeterRef[]): MeterRef[] {
  const seen = new Set<string>();
  return meters.filter((m) => {
    const key = `${m.meterType}:${m.meterId}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/**
 * A meter training's memo (set when a bulk request starts it as a child): what the API's status reads
 * from one describe() instead of asking the workflow through a worker.
 */
export interface MeterTrainingMemo {
  bulk_id?: string;
}

/** A bulk request's memo: the meters it has not started yet (its share of the training queue). */
export interface BulkTrainingMemo {
  remaining?: number;
}
