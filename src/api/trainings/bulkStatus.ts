// A bulk request's aggregate status: the bulk workflow's own state (its query while it runs, its result
// once done) with the stage of each meter training now, from that training's status.
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { summarizeFailure } from '../../contracts/failures.js';
import { bulkTrainingStateQueryName, bulkWorkflowId, countItems, type BulkTrainingState } from '../../contracts/trainings.js';
import type { BulkStatus } from '../schemas.js';
import { taskStatus, type StatusDeps } from '../status.js';

/** What a bulk id looks like (a UUID): anything else is not one, without asking Temporal. */
export const BULK_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** The aggregate status of a bulk request, or undefined when there is none with this id. */
export async function bulkStatus(client: Client, statusDeps: StatusDeps, bulkId: string): Promise<BulkStatus | undefined> {
  const handle = client.workflow.getHandle(bulkWorkflowId(bulkId));
  let desc;
  try {
    desc = await handle.describe();
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return undefined;
    throw err;
  }
  if (desc.type !== 'meterModelTrainingBulk') return undefined;
  let state: BulkTrainingState | undefined;
  let failed: string | undefined;
  if (desc.status.name === 'COMPLETED') {
    state = (await handle.result()) as BulkTrainingState;
  } else if (desc.status.name === 'RUNNING') {
    state = await client.withDeadline(Date.now() + 3_000, () => handle.query<BulkTrainingState>(bulkTrainingStateQueryName)).catch(() => undefined);
  } else {
    failed = await handle.result().then(
      () => desc.status.name,
      (err: unknown) => summarizeFailure(err).message,
    );
  }
  if (!state) {
    return {
      bulk_id: bulkId,
      status: failed ? 'FAILED' : 'PENDING',
      progress: 0,
      message: failed ? `the bulk request ended: ${failed}` : 'Bulk training queued (no worker has answered yet: see /health/worker)',
      total: null,
      concurrency: null,
      counts: {},
      started_at: desc.startTime.toISOString(),
      updated_at: desc.startTime.toISOString(),
      items: [],
    };
  }
  // Meters training now: their own stage and progress, from their task status.
  const items = await Promise.all(
    state.items.map(async (item) => {
      if (item.status !== 'RUNNING' || !item.task_id) return { ...item, progress: item.status === 'SUCCESS' || item.status === 'FAILED' ? 100 : 0 };
      const s = await taskStatus(statusDeps, item.task_id).catch(() => undefined);
      return { ...item, stage: s?.status, progress: s?.progress ?? 0 };
    }),
  );
  const progress = items.length ? items.reduce((sum, i) => sum + (i.progress ?? 0), 0) / items.length : 100;
  const counts = countItems(state.items);
  return {
    bulk_id: bulkId,
    status: state.status,
    progress: Math.round(progress * 10) / 10,
    message: `${counts.SUCCESS} succeeded, ${counts.FAILED} failed, ${counts.RUNNING} running, ${counts.QUEUED + counts.WAITING} waiting of ${state.total}`,
    total: state.total,
    concurrency: state.concurrency,
    counts,
    started_at: state.started_at,
    updated_at: state.updated_at,
    finished_at: state.finished_at ?? null,
    items,
  };
}
