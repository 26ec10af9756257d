import { ScheduleAlreadyRunning, ScheduleNotFoundError, type Client, type ScheduleDescription } from '@temporalio/client';
import type { AppConfig } from '../config/load.js';
import { MANAGED_BY, desiredSchedules, type DesiredSchedule } from './desired.js';

export interface SchedulePlan {
  create: string[];
  update: string[];
  unchanged: string[];
  delete: string[];
}

function currentHash(desc: ScheduleDescription): string | undefined {
  const action = desc.action as { memo?: Record<string, unknown> };
  return action.memo?.heaScheduleHash as string | undefined;
}

async function describeOrUndefined(client: Client, id: string): Promise<ScheduleDescription | undefined> {
  try {
    return await client.schedule.getHandle(id).describe();
  } catch (err) {
    if (err instanceof ScheduleNotFoundError) return undefined;
    throw err;
  }
}

/** Schedules this project created (by its memo mark and id prefix), whatever config says now. */
export async function managedScheduleIds(client: Client, config: AppConfig): Promise<string[]> {
  const ids: string[] = [];
  for await (const summary of client.schedule.list()) {
    if (summary.memo?.managedBy === MANAGED_BY && summary.scheduleId.startsWith(config.schedules.idPrefix)) ids.push(summary.scheduleId);
  }
  return ids;
}

/** What `apply` would do: compares config with the server (describe is strongly consistent; list is not). */
export async function planSchedules(client: Client, config: AppConfig): Promise<{ plan: SchedulePlan; desired: DesiredSchedule[] }> {
  const desired = desiredSchedules(config);
  const plan: SchedulePlan = { create: [], update: [], unchanged: [], delete: [] };
  for (const d of desired) {
    const desc = await describeOrUndefined(client, d.id);
    if (!desc) plan.create.push(d.id);
    else if (currentHash(desc) !== d.hash) plan.update.push(d.id);
    else plan.unchanged.push(d.id);
  }
  const wanted = new Set(desired.map((d) => d.id));
  for (const id of await managedScheduleIds(client, config)) {
    if (!wanted.has(id)) {
      // The visibility list lags: make sure it still exists and is really ours before deleting.
      const desc = await describeOrUndefined(client, id);
      if (desc && desc.memo?.managedBy === MANAGED_BY) plan.delete.push(id);
    }
  }
  return { plan, desired };
}

/**
 * Makes the server's schedules match config: creates what is missing, updates what changed (keeping a
 * manual pause), deletes the project's schedules that config no longer names. Idempotent.
 */
export async function applySchedules(client: Client, config: AppConfig, options: { dryRun?: boolean } = {}): Promise<SchedulePlan> {
  const { plan, desired } = await planSchedules(client, config);
  if (options.dryRun) return plan;
  const byId = new Map(desired.map((d) => [d.id, d]));
  for (const id of plan.create) {
    try {
      await client.schedule.create(byId.get(id)!.options);
    } catch (err) {
      // Created by a concurrent apply between our describe and create: update it instead.
      if (!(err instanceof ScheduleAlreadyRunning)) throw err;
      plan.create.splice(plan.create.indexOf(id), 1);
      plan.update.push(id);
    }
  }
  for (const id of plan.update) {
    const d = byId.get(id)!;
    // The updater may run more than once (on a conflict): it must be a pure function of `prev`.
    await client.schedule.getHandle(id).update((prev) => ({
      ...prev,
      spec: d.options.spec,
      action: d.options.action as typeof prev.action,
      policies: { ...prev.policies, ...d.options.policies },
      state: prev.state,
    }));
  }
  for (const id of plan.delete) await client.schedule.getHandle(id).delete();
  return plan;
}

export function formatPlan(plan: SchedulePlan): string {
  const lines = [
    ...plan.create.map((id) => `+ ${id} (created)`),
    ...plan.update.map((id) => `~ ${id} (updated)`),
    ...plan.delete.map((id) => `- ${id} (deleted)`),
    ...plan.unchanged.map((id) => `  ${id} (unchanged)`),
  ];
  const changed = plan.create.length + plan.update.length + plan.delete.length;
  return `${lines.join('\n')}\n${changed === 0 ? 'no changes' : `${plan.create.length} created, ${plan.update.length} updated, ${plan.delete.length} deleted`}`;
}
