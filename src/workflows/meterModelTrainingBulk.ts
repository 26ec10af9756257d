// Many meters' trainings with bounded concurrency (POST /trainmodel/bulk, `hea train-meters`).
import { defineQuery, log, patched, setHandler, sleep, startChild, upsertMemo } from '@temporalio/workflow';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import { summarizeFailure } from '../contracts/failures.js';
import {
  bulkTrainingStateQueryName,
  countItems,
  makeTaskId,
  meterWorkflowId,
  trainingError,
  type BulkItem,
  type BulkTrainingInput,
  type BulkTrainingMemo,
  type BulkTrainingState,
  type MeterTrainingMemo,
  type MeterTrainingOutcome,
} from '../contracts/trainings.js';
import { meterModelTraining } from './meterModelTraining.js';

export const bulkTrainingStateQuery = defineQuery<BulkTrainingState>(bulkTrainingStateQueryName);

/** How long a meter that is already in training (started outside this request) waits before a new try. */
const BUSY_RETRY_MS = 5_000;
const BUSY_RETRY_MAX_MS = 60_000;

/**
 * Trains each meter as a child meterModelTraining (the same workflow id as a single POST, so a meter is never
 * trained twice at once), at most `concurrency` at a time. A meter already in training is retried after
 * that training ends. A failed meter does not stop the others; the result lists every meter's outcome.
 */
export async function meterModelTrainingBulk(input: BulkTrainingInput): Promise<BulkTrainingState> {
  const now = () => new Date().toISOString();
  const items: BulkItem[] = input.meters.map((m) => ({ meter_id: m.meterId, meter_type: m.meterType, status: 'QUEUED' }));
  const state: BulkTrainingState = {
    bulk_id: input.bulkId,
    status: 'RUNNING',
    concurrency: input.concurrency,
    total: items.length,
    counts: countItems(items),
    started_at: now(),
    updated_at: now(),
    items,
  };
  const touch = () => {
    state.counts = countItems(items);
    state.updated_at = now();
  };
  setHandler(bulkTrainingStateQuery, () => ({ ...state, items: items.map((i) => ({ ...i })) }));
  log.info('bulk meter training started', { bulkId: input.bulkId, meters: items.length, concurrency: input.concurrency });

  const trainOne = async (item: BulkItem) => {
    const ctx = { bulkId: input.bulkId, meterId: item.meter_id, meterType: item.meter_type };
    // Waiting on another request's training: back off, so an hour-long training costs a few dozen
    // history events rather than hundreds.
    let wait = BUSY_RETRY_MS;
    for (;;) {
      try {
        const child = await startChild(meterModelTraining, {
          workflowId: meterWorkflowId(item.meter_type, item.meter_id),
          args: [{ meterId: item.meter_id, meterType: item.meter_type, bulkId: input.bulkId }],
          staticSummary: `meter ${item.meter_type}/${item.meter_id} (bulk ${input.bulkId})`,
          // The API's status reads the bulk id from the child's description (no query through a worker).
          memo: { bulk_id: input.bulkId } satisfies MeterTrainingMemo,
        });
        Object.assign(item, {
          status: 'RUNNING',
          task_id: makeTaskId(item.meter_type, item.meter_id, child.firstExecutionRunId),
          started_at: now(),
          message: undefined,
        });
        touch();
        const outcome: MeterTrainingOutcome = await child.result();
        const details = (outcome.result.details ?? {}) as Record<string, unknown>;
        const metrics = (details.metrics ?? {}) as Record<string, number | null>;
        Object.assign(item, {
          status: 'SUCCESS',
          finished_at: now(),
          message: String(outcome.result.message ?? 'trained'),
          model_path: details.model_path as string | undefined,
          data_points: details.data_points as number | undefined,
          mae: metrics.mae ?? null,
          rmae_yesterday: metrics.rmae_yesterday ?? null,
        });
      } catch (err) {
        if (err instanceof WorkflowExecutionAlreadyStartedError) {
          if (item.status !== 'WAITING') log.info('meter already in training; waiting for it to end', ctx);
          Object.assign(item, { status: 'WAITING', message: 'already in training (another request); starts when that ends' });
          touch();
          await sleep(wait);
          wait = Math.min(wait * 2, BUSY_RETRY_MAX_MS);
          continue;
        }
        const { type, message } = trainingError(summarizeFailure(err));
        const error = { type, message };
        Object.assign(item, { status: 'FAILED', finished_at: now(), error, message });
        log.warn('meter training failed', { ...ctx, errorType: error.type });
      }
      touch();
      return;
    }
  };

  // The meters not started yet, in the memo: the API counts them against its cap on queued trainings
  // without asking this workflow through a worker. (Patched: histories recorded before it have no memo.)
  const countsRemaining = patched('bulk-remaining-memo');
  const remainingToMemo = (remaining: number) => {
    if (countsRemaining) upsertMemo({ remaining } satisfies BulkTrainingMemo);
  };
  remainingToMemo(items.length);

  // A fixed pool of loops, each taking the next meter: at most `concurrency` trainings of this request at
  // any moment, so a large request holds a bounded share of the job slots and later requests interleave.
  let next = 0;
  const loop = async () => {
    while (next < items.length) {
      const item = items[next]!;
      next += 1;
      remainingToMemo(items.length - next);
      await trainOne(item);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(input.concurrency, items.length)) }, loop));
  state.status = 'COMPLETED';
  state.finished_at = now();
  touch();
  log.info('bulk meter training finished', { bulkId: input.bulkId, ...state.counts });
  return { ...state, items };
}
