// The schedules config asks for, in the SDK's terms. Pure: no client, easy to test.
import { createHash } from 'node:crypto';
import type { ScheduleOptions, ScheduleOverlapPolicy } from '@temporalio/client';
import type { AppConfig } from '../config/load.js';
import { FLOWS, validateFlowParams } from '../contracts/flows.js';

/** Marks a schedule as this project's: `apply` never touches schedules without it. */
export const MANAGED_BY = 'home-energy-ai';

export interface DesiredSchedule {
  id: string;
  flow: keyof typeof FLOWS;
  /** Hash of everything apply controls; kept in the action's memo to tell whether an update is due. */
  hash: string;
  options: ScheduleOptions;
  paused: boolean;
}

const OVERLAP: Record<string, ScheduleOverlapPolicy> = {
  skip: 'SKIP',
  buffer_one: 'BUFFER_ONE',
  buffer_all: 'BUFFER_ALL',
  cancel_other: 'CANCEL_OTHER',
  terminate_other: 'TERMINATE_OTHER',
  allow_all: 'ALLOW_ALL',
};

export function scheduleId(config: AppConfig, key: string): string {
  const prefix = config.schedules.idPrefix;
  return key.startsWith(prefix) ? key : `${prefix}${key}`;
}

export function desiredSchedules(config: AppConfig): DesiredSchedule[] {
  const s = config.schedules;
  return Object.entries(s.entries).map(([key, entry]) => {
    const id = scheduleId(config, key);
    const flow = FLOWS[entry.flow as keyof typeof FLOWS];
    const params = validateFlowParams(entry.flow as keyof typeof FLOWS, entry.params);
    if (!params.ok) throw new Error(`schedule ${key}: ${params.problems.join('; ')}`); // config validation prevents this
    // The whole spec is replaced on update: describe() returns calendars, never the cron text, so a
    // merge would add triggers rather than change them.
    const spec = entry.cron ? { cronExpressions: [entry.cron], timezone: s.timezone } : { intervals: [{ every: entry.every as number }], timezone: s.timezone };
    const policies = {
      overlap: OVERLAP[entry.overlap ?? s.overlap] as ScheduleOverlapPolicy,
      catchupWindow: entry.catchupWindow ?? s.catchupWindow,
      pauseOnFailure: entry.pauseOnFailure ?? s.pauseOnFailure,
    };
    const controlled = { spec, workflowType: flow.workflow, args: [params.value], taskQueue: config.temporal.taskQueue, policies, description: entry.description };
    const hash = createHash('sha256').update(JSON.stringify(controlled)).digest('hex').slice(0, 16);
    return {
      id,
      flow: entry.flow as keyof typeof FLOWS,
      hash,
      paused: entry.paused,
      options: {
        scheduleId: id,
        spec,
        action: {
          type: 'startWorkflow',
          workflowType: flow.workflow,
          workflowId: `${entry.flow}-scheduled`,
          taskQueue: config.temporal.taskQueue,
          args: [params.value],
          memo: { heaScheduleHash: hash },
          staticSummary: `${entry.flow} (schedule ${id})`,
        },
        policies,
        state: { paused: entry.paused, note: entry.description ?? `${entry.flow}: ${flow.description}` },
        memo: { managedBy: MANAGED_BY },
      },
    };
  });
}
