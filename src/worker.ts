import { fileURLToPath } from 'node:url';
import { NativeConnection, Worker, bundleWorkflowCode, type WorkflowBundle } from '@temporalio/worker';
import { createActivities } from './activities/index.js';
import type { AppConfig } from './config/load.js';
import { TemporalPinoLogger, isDebug, type Logger } from './logging.js';
import type { TemporalTarget } from './temporal/connection.js';

export const WORKFLOWS_PATH = fileURLToPath(new URL('./workflows/index.ts', import.meta.url));

/**
 * The workflow bundle. Sources are TypeScript with NodeNext-style `.js` import specifiers, so webpack is
 * told that `./x.js` may be `./x.ts`.
 */
export function bundleWorkflows(logger?: Logger): Promise<WorkflowBundle> {
  return bundleWorkflowCode({
    workflowsPath: WORKFLOWS_PATH,
    webpackConfigHook: (cfg) => ({
      ...cfg,
      resolve: { ...cfg.resolve, extensionAlias: { '.js': ['.ts', '.js'] } },
    }),
    // webpack's statistics are noise unless something is wrong.
    logger: logger ? new TemporalPinoLogger(logger.child({ component: 'bundler' }, { level: isDebug() ? 'debug' : 'warn' })) : undefined,
  });
}

export interface WorkerOptions {
  config: AppConfig;
  target: TemporalTarget;
  logger: Logger;
  connection?: NativeConnection;
  workflowBundle?: WorkflowBundle;
  /** Overrides config.worker.shutdownGraceTime (tests use a short one). */
  shutdownGraceTimeMs?: number;
  identity?: string;
}

/** A worker for the project's task queue, with every workflow and activity registered. */
export async function createWorker(options: WorkerOptions): Promise<{ worker: Worker; connection: NativeConnection; ownsConnection: boolean }> {
  const { config, target, logger } = options;
  const connection = options.connection ?? (await NativeConnection.connect(target.connectionOptions));
  const worker = await Worker.create({
    connection,
    namespace: target.namespace,
    taskQueue: target.taskQueue,
    workflowBundle: options.workflowBundle ?? (await bundleWorkflows(logger)),
    activities: createActivities(config, logger),
    maxConcurrentActivityTaskExecutions: config.worker.maxConcurrentActivities,
    maxConcurrentWorkflowTaskExecutions: config.worker.maxConcurrentWorkflowTasks,
    shutdownGraceTime: options.shutdownGraceTimeMs ?? config.worker.shutdownGraceTime,
    // Progress reaches the server (and so the Web UI, `hea run` and the API) within seconds, whatever
    // the job's heartbeat timeout; the SDK would otherwise wait up to 0.8 x that timeout.
    maxHeartbeatThrottleInterval: '2s',
    ...(options.identity ? { identity: options.identity } : {}),
  });
  return { worker, connection, ownsConnection: !options.connection };
}
