// Worker roles: which task queues a worker process serves. No SDK imports, so the CLI can offer the
// choices without loading Temporal.
import type { AppConfig } from './config/load.js';
import type { TemporalTarget } from './temporal/connection.js';

/**
 * What a worker process polls: `pipelines` the project's task queue (schedules, flows, jobs), `meters` the
 * meter trainings' queue, `all` both (the single-process default of `npm start`).
 */
export const WORKER_ROLES = ['pipelines', 'meters', 'all'] as const;
export type WorkerRole = (typeof WORKER_ROLES)[number];

export interface RoleQueue {
  taskQueue: string;
  /** Job slots: each queue has its own, so trainings never take the pipelines' slots. */
  maxConcurrentActivities: number;
}

/** The task queues of a role, each with its own activity slots. */
export function roleQueues(config: AppConfig, target: Pick<TemporalTarget, 'taskQueue'>, role: WorkerRole): RoleQueue[] {
  const pipelines = { taskQueue: target.taskQueue, maxConcurrentActivities: config.worker.maxConcurrentActivities };
  const meters = { taskQueue: config.temporal.meterTaskQueue, maxConcurrentActivities: config.worker.maxConcurrentMeterActivities };
  if (role === 'pipelines') return [pipelines];
  if (role === 'meters') return [meters];
  return meters.taskQueue === pipelines.taskQueue ? [pipelines] : [pipelines, meters];
}
