import { NativeConnection, Worker, type WorkflowBundleOption } from '@temporalio/worker';
import { createActivities } from './activities/index.js';
import type { AppConfig } from './config/load.js';
import type { Logger } from './logging.js';
import { cachedWorkflowBundle } from './temporal/bundle.js';
import type { TemporalTarget } from './temporal/connection.js';
import { roleQueues, type WorkerRole } from './workerRoles.js';

export { WORKFLOWS_PATH, bundleWorkflows } from './temporal/bundle.js';

type WorkerState = ReturnType<Worker['getState']>;

/**
 * The SDK's workers of one process (one per task queue), run and stopped together: when one stops, for
 * good or with an error, the others are shut down too, so a process never looks alive with half its work.
 */
export class WorkerGroup {
  constructor(readonly workers: Worker[]) {}

  async run(): Promise<void> {
    const results = await Promise.allSettled(this.workers.map((w) => w.run().finally(() => this.shutdown())));
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
  }

  shutdown(): void {
    for (const w of this.workers) if (w.getState() === 'RUNNING') w.shutdown();
  }

  /** RUNNING while any worker runs. */
  getState(): WorkerState {
    return this.workers.find((w) => w.getState() === 'RUNNING')?.getState() ?? this.workers[0]!.getState();
  }
}

export interface WorkerOptions {
  config: AppConfig;
  target: TemporalTarget;
  logger: Logger;
  /** Which task queues this process serves (default all). */
  role?: WorkerRole;
  connection?: NativeConnection;
  workflowBundle?: WorkflowBundleOption;
  /** Overrides config.worker.shutdownGraceTime (tests use a short one). */
  shutdownGraceTimeMs?: number;
  identity?: string;
}

/** The workers of a role, with every workflow and activity registered (one bundle, one connection). */
export async function createWorker(options: WorkerOptions): Promise<{ worker: WorkerGroup; connection: NativeConnection; ownsConnection: boolean }> {
  const { config, target, logger } = options;
  const connection = options.connection ?? (await NativeConnection.connect(target.connectionOptions));
  const workflowBundle = options.workflowBundle ?? (await cachedWorkflowBundle(config.dirs.var, logger));
  const activities = createActivities(config, logger);
  const workers = await Promise.all(
    roleQueues(config, target, options.role ?? 'all').map((queue) =>
      Worker.create({
        connection,
        namespace: target.namespace,
        taskQueue: queue.taskQueue,
        workflowBundle,
        activities,
        maxConcurrentActivityTaskExecutions: queue.maxConcurrentActivities,
        // Batches of `local: true` jobs run them as local activities: the same job slots bound them.
        maxConcurrentLocalActivityExecutions: queue.maxConcurrentActivities,
        maxConcurrentWorkflowTaskExecutions: config.worker.maxConcurrentWorkflowTasks,
        shutdownGraceTime: options.shutdownGraceTimeMs ?? config.worker.shutdownGraceTime,
        // Progress reaches the server (and so the Web UI, `hea run` and the API) within seconds, whatever
        // the job's heartbeat timeout; the SDK would otherwise wait up to 0.8 x that timeout.
        maxHeartbeatThrottleInterval: '2s',
        ...(options.identity ? { identity: options.identity } : {}),
      }),
    ),
  );
  return { worker: new WorkerGroup(workers), connection, ownsConnection: !options.connection };
}
