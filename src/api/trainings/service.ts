// Starting meter trainings, for the API's routes and `hea train-meters`: one training per meter (the
// workflow id is the meter's), bulk requests with their meters once each, and the cap on queued trainings.
import { randomUUID } from 'node:crypto';
import { WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError, type Client, type WorkflowHandle } from '@temporalio/client';
import {
  bulkWorkflowId,
  makeTaskId,
  meterWorkflowId,
  uniqueMeters,
  type BulkTrainingInput,
  type BulkTrainingMemo,
  type BulkTrainingState,
  type MeterRef,
  type MeterTrainingInput,
} from '../../contracts/trainings.js';
import { Reused } from './reused.js';

export interface TrainingServiceDeps {
  client: Client;
  /** The meter trainings' task queue (temporal.meterTaskQueue). */
  taskQueue: string;
  /** Trainings queued or running before a request is refused (api.maxQueuedTrainings); 0: no cap. */
  maxQueued?: number;
  /** How long a count of queued trainings is reused (api.queueCountTtlMs). */
  queueCountTtlMs?: number;
  /** Seconds a client should wait when the queue is full (about one training's duration). */
  retryAfterSeconds?: () => number;
}

/** The training queue is full: answer 429 with Retry-After. */
export class QueueFull extends Error {
  override name = 'QueueFull';
  constructor(
    message: string,
    readonly retryAfterSeconds: number,
  ) {
    super(message);
  }
}

/** More meters in one request than the cap allows at all: it could never be admitted. */
export class OverCap extends Error {
  override name = 'OverCap';
}

export interface StartedTraining {
  taskId: string;
  /** True when the meter was already training: the task is that training's. */
  duplicate: boolean;
}

export interface StartedBulk {
  bulkId: string;
  meters: MeterRef[];
  concurrency: number;
  handle: WorkflowHandle;
}

/** How often a start is tried again when the meter's running training closed between start and describe. */
const START_TRIES = 3;

export class TrainingService {
  private readonly counts = new Reused<'queued', number>(1);
  /** Trainings admitted by this process, so admissions between two counts are not forgotten. */
  private admitted = 0;
  private admittedAtCount = 0;

  constructor(private readonly deps: TrainingServiceDeps) {}

  /**
   * A training for this meter: admitted against the queue cap and started, or the one it has running (a
   * duplicate takes no place in the queue, and is answered even when the queue is full).
   */
  async requestTraining(meter: MeterRef, summary: string): Promise<StartedTraining> {
    try {
      await this.admit(1);
    } catch (err) {
      const running = err instanceof QueueFull ? await this.runningTask(meter) : undefined;
      if (running) return { taskId: running, duplicate: true };
      throw err;
    }
    try {
      const started = await this.startTraining(meter, summary);
      if (started.duplicate) this.release(1);
      return started;
    } catch (err) {
      this.release(1);
      throw err;
    }
  }

  /**
   * Starts a meter's training, or answers the one it has running. One round-trip when none runs: the
   * start fails only if one does (conflict policy FAIL), and then one describe() finds its run.
   */
  async startTraining(meter: MeterRef, summary: string): Promise<StartedTraining> {
    const input: MeterTrainingInput = { meterId: meter.meterId, meterType: meter.meterType };
    for (let attempt = 1; attempt <= START_TRIES; attempt++) {
      try {
        const handle = await this.deps.client.workflow.start('meterModelTraining', {
          taskQueue: this.deps.taskQueue,
          workflowId: meterWorkflowId(meter.meterType, meter.meterId),
          workflowIdConflictPolicy: 'FAIL',
          args: [input],
          staticSummary: summary,
        });
        return { taskId: makeTaskId(meter.meterType, meter.meterId, handle.firstExecutionRunId), duplicate: false };
      } catch (err) {
        if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
      }
      // It may have closed in between: then a new start succeeds.
      const running = await this.runningTask(meter);
      if (running) return { taskId: running, duplicate: true };
    }
    throw new Error(`could not start or find a training of ${meter.meterType}/${meter.meterId}: it started and ended ${START_TRIES} times meanwhile`);
  }

  /** The task id of the meter's running training, if it has one. */
  private async runningTask(meter: MeterRef): Promise<string | undefined> {
    try {
      const desc = await this.deps.client.workflow.getHandle(meterWorkflowId(meter.meterType, meter.meterId)).describe();
      return desc.status.name === 'RUNNING' ? makeTaskId(meter.meterType, meter.meterId, desc.runId) : undefined;
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) return undefined;
      throw err;
    }
  }

  /** Starts a bulk request: each meter once (the first of each), at most `concurrency` training at once. */
  async startBulk(meters: readonly MeterRef[], concurrency: number, summary: string): Promise<StartedBulk> {
    const unique = uniqueMeters(meters);
    const bulkId = randomUUID();
    const input: BulkTrainingInput = { bulkId, meters: unique, concurrency };
    const handle = await this.deps.client.workflow.start('meterModelTrainingBulk', {
      taskQueue: this.deps.taskQueue,
      workflowId: bulkWorkflowId(bulkId),
      args: [input],
      // Its meters count against the queue cap before its first workflow task updates the memo.
      memo: { remaining: unique.length } satisfies BulkTrainingMemo,
      staticSummary: summary,
    });
    return { bulkId, meters: unique, concurrency, handle };
  }

  /**
   * Trainings queued or running on the meter task queue: open meter trainings plus the meters of open bulk
   * requests not started yet (their memo). Two visibility calls, shared for queueCountTtlMs; admissions
   * by this process since the count began are added.
   */
  async queuedTrainings(): Promise<number> {
    const counted = await this.counts.get(
      'queued',
      async () => {
        const admittedBefore = this.admitted;
        const value = await this.countQueued();
        this.admittedAtCount = admittedBefore;
        return value;
      },
      () => this.deps.queueCountTtlMs ?? 1_000,
    );
    return counted + (this.admitted - this.admittedAtCount);
  }

  private async countQueued(): Promise<number> {
    const { client, taskQueue } = this.deps;
    const open = (type: string) => `WorkflowType = '${type}' AND ExecutionStatus = 'Running' AND TaskQueue = '${taskQueue}'`;
    const [trainings, waiting] = await Promise.all([
      client.workflow.count(open('meterModelTraining')).then((c) => c.count),
      (async () => {
        let sum = 0;
        for await (const bulk of client.workflow.list({ query: open('meterModelTrainingBulk') })) {
          sum += Number((bulk.memo as BulkTrainingMemo | undefined)?.remaining ?? 0);
        }
        return sum;
      })(),
    ]);
    return trainings + waiting;
  }

  /**
   * Admits `n` more trainings, or throws QueueFull (try later) or OverCap (never fits). With no cap, free.
   * Approximate by design: the count is up to queueCountTtlMs old and other API processes admit too.
   */
  async admit(n: number): Promise<void> {
    const cap = this.deps.maxQueued ?? 0;
    if (cap <= 0) return;
    if (n > cap) throw new OverCap(`${n} meters exceed the cap of ${cap} queued trainings (api.maxQueuedTrainings): send fewer`);
    const queued = await this.queuedTrainings();
    if (queued + n > cap) {
      const retry = this.deps.retryAfterSeconds?.() ?? 30;
      throw new QueueFull(`The training queue is full (${queued} of ${cap} trainings queued or running): retry in ${retry} s`, retry);
    }
    this.admitted += n;
  }

  /** Gives back admissions that started nothing (a duplicate POST, a failed start). */
  release(n: number): void {
    this.admitted -= n;
  }
}

/** The bulk's final state, watching its progress through `onState` (the CLI's progress lines). */
export async function followBulk(handle: WorkflowHandle, queryName: string, onState: (state: BulkTrainingState) => void, everyMs = 1_000): Promise<BulkTrainingState> {
  const timer = setInterval(() => {
    void handle
      .query<BulkTrainingState>(queryName)
      .then(onState)
      .catch(() => undefined);
  }, everyMs);
  return (await handle.result().finally(() => clearInterval(timer))) as BulkTrainingState;
}
