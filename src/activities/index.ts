import type { AppConfig } from '../config/load.js';
import type { Logger } from '../logging.js';
import { createJobOptions } from './jobOptions.js';
import { createRunJob } from './runJob.js';
import { createWriteReport } from './reports.js';
import { createFreshnessActivities } from './freshness.js';
import { createNotifyActivities } from './notify.js';
import { createAccuracyActivities } from './accuracy.js';
import { createRunStatusActivities } from './runStatus.js';
import { createPlanHomeActivities } from './planHome.js';

export type { RunJobInput, JobOutcome, JobHeartbeat, JobFailureDetails } from './runJob.js';
export type { JobActivityOptions } from './jobOptions.js';
export type { DatasetFreshness, SeriesStatus } from '../contracts/freshness.js';
export type { AlertInput, AlertOutcome } from './notify.js';
export type { Degradation, RollingAccuracy } from './accuracy.js';
export type { PlanPublished } from './planHome.js';

/** Every activity the worker registers, bound to the loaded config. */
export function createActivities(config: AppConfig, logger: Logger) {
  return {
    runJob: createRunJob(config, logger),
    jobOptions: createJobOptions(config),
    writeReport: createWriteReport(config),
    ...createFreshnessActivities(config, logger),
    ...createNotifyActivities(config, logger),
    ...createAccuracyActivities(config),
    ...createRunStatusActivities(),
    ...createPlanHomeActivities(config, logger),
  };
}

export type Activities = ReturnType<typeof createActivities>;
