// Health checks: the API's Temporal connection, and whether any worker polls the task queue.
import type { Client } from '@temporalio/client';
import proto from '@temporalio/proto';

// A default import: @temporalio/proto is CommonJS whose named exports Node's ESM loader cannot always see.
const { temporal } = proto;

export interface PollerInfo {
  identity: string;
  last_access_time: string | null;
  polls: string[];
}

/**
 * Workers that polled the task queue within `withinMs` (for workflows or activities). Temporal keeps a
 * dead worker's pollers listed for a few minutes, so an old lastAccessTime does not count; a live worker
 * re-polls at least every minute (long polls end after 60 s).
 */
export async function recentPollers(client: Client, namespace: string, taskQueue: string, withinMs = 90_000, timeoutMs = 5_000): Promise<PollerInfo[]> {
  const types = [
    ['workflow', temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW],
    ['activity', temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY],
  ] as const;
  const now = Date.now();
  const byIdentity = new Map<string, { last: number; polls: string[] }>();
  await client.withDeadline(now + timeoutMs, async () => {
    for (const [label, taskQueueType] of types) {
      const res = await client.workflowService.describeTaskQueue({ namespace, taskQueue: { name: taskQueue }, taskQueueType });
      for (const p of res.pollers ?? []) {
        const t = p.lastAccessTime;
        const ms = t ? Number(t.seconds ?? 0) * 1000 + Math.floor((t.nanos ?? 0) / 1e6) : 0;
        if (now - ms >= withinMs) continue;
        const identity = p.identity ?? 'unknown';
        const entry = byIdentity.get(identity) ?? { last: 0, polls: [] };
        entry.last = Math.max(entry.last, ms);
        entry.polls.push(label);
        byIdentity.set(identity, entry);
      }
    }
  });
  return [...byIdentity.entries()].map(([identity, e]) => ({
    identity,
    last_access_time: e.last ? new Date(e.last).toISOString() : null,
    polls: e.polls,
  }));
}

/** The Temporal server's version, proving the connection works end to end. */
export async function temporalVersion(client: Client, timeoutMs = 3_000): Promise<string> {
  const info = await client.withDeadline(Date.now() + timeoutMs, () => client.workflowService.getSystemInfo({}));
  return info.serverVersion ?? 'unknown';
}
