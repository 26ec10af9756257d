// Process-level plumbing shared by the CLI commands: config, logging, Temporal, an in-process worker.
import { Client, Connection } from '@temporalio/client';
import type { NativeConnection } from '@temporalio/worker';
import proto from '@temporalio/proto';
import { loadConfigOrExit, type AppConfig } from './config/load.js';
import { createLogger, type Logger } from './logging.js';
import { resolveTemporal, type TemporalTarget } from './temporal/connection.js';
import { installRuntime } from './temporal/runtime.js';
import { prepareNamespace } from './temporal/namespace.js';
import { createWorker, type WorkerGroup } from './worker.js';
import type { WorkerRole } from './workerRoles.js';
import { signalGroup } from './process/group.js';
import { StopSignals } from './process/signals.js';

export class UsageError extends Error {
  override name = 'UsageError';
}

export interface App {
  config: AppConfig;
  logger: Logger;
  target: TemporalTarget;
  client: Client;
  connection: Connection;
  worker?: { worker: WorkerGroup; connection: NativeConnection; running: Promise<void> };
  close(): Promise<void>;
}

/** Connects to Temporal (starting the embedded server if needed) and optionally runs a worker. */
export async function openApp(options: {
  configFile?: string;
  worker?: 'always' | 'if-none' | 'never';
  logger?: Logger;
  /** false: connect to whatever answers at the configured address, never start a server. */
  embedded?: boolean;
  /** The worker's task queues (`hea worker --role`) and identity; default all queues. */
  role?: WorkerRole;
  identity?: string;
  /** A service's stop signals (StopSignals.aborted): once aborted, start-up stops and closes what it opened. */
  stop?: AbortSignal;
}): Promise<App> {
  // Commands print their data on stdout (`hea run --json | jq`), so their logs go to stderr; the services
  // (start, dev, worker: a worker always runs) log to stdout.
  const logger = options.logger ?? createLogger({ destination: options.worker === 'always' ? 1 : 2 });
  const config = loadConfigOrExit(options.configFile);
  // Only a process that runs a worker serves metrics (a CLI run next to `hea start` must not take the port).
  const metricsAddress = options.worker === 'always' ? config.worker.metricsAddress : undefined;
  try {
    installRuntime(logger, { metricsAddress });
  } catch (err) {
    if (metricsAddress && /address already in use/i.test((err as Error).message)) {
      throw new Error(
        `the worker's metrics address ${metricsAddress} is taken (is \`npm start\` or another \`hea dev\` running?): ` +
          'set HEA_METRICS_ADDRESS to a free host:port, e.g. HEA_METRICS_ADDRESS=127.0.0.1:9465 npx hea dev (or worker.metricsAddress in config)',
      );
    }
    throw err;
  }
  options.stop?.throwIfAborted();
  // A worker process (start, dev, worker) takes charge of a server its crashed predecessor left running.
  const target = await resolveTemporal(config, logger, { embedded: options.embedded ?? true, adopt: options.worker === 'always' });
  const server = target.embedded;
  if (server?.owned && server.pid && options.worker !== 'always') {
    // Only a service (start, dev, worker) leaves its server running when it dies; the server a one-off
    // command started (nothing else was running) goes with it, Ctrl-C included.
    const pid = server.pid;
    const kill = () => signalGroup(pid, 'SIGKILL');
    process.once('exit', kill);
    for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
      process.once(signal, () => {
        kill();
        process.exit(130);
      });
    }
  }
  let connection: Connection;
  let client: Client;
  let worker: App['worker'];
  try {
    connection = await Connection.connect(target.connectionOptions);
    client = new Client({ connection, namespace: target.namespace });
    await prepareNamespace(connection, { namespace: target.namespace, embedded: target.embedded !== undefined, retentionMs: config.temporal.embedded.retention, logger });
    options.stop?.throwIfAborted();
    const mode = options.worker ?? 'never';
    if (mode === 'always' || (mode === 'if-none' && !(await hasWorkers(client, target)))) {
      const created = await createWorker({ config, target, logger, role: options.role, identity: options.identity });
      const running = created.worker.run().catch((err: unknown) => {
        logger.error({ err }, 'the worker stopped with an error');
        throw err;
      });
      running.catch(() => undefined); // reported above; untilSignal and close() look at it
      worker = { ...created, running };
      if (mode === 'if-none') logger.info({ taskQueue: target.taskQueue }, 'no worker polls the task queue: running one in this process');
    }
  } catch (err) {
    // The embedded server outlives a crash on purpose; a start that failed must not leave it behind.
    await target.embedded?.stop();
    throw err;
  }
  let closed = false;
  const app: App = {
    config,
    logger,
    target,
    client,
    connection,
    worker,
    async close() {
      if (closed) return;
      closed = true;
      try {
        if (worker) {
          // A worker that already failed cannot be shut down (the SDK throws): just collect it.
          if (worker.worker.getState() === 'RUNNING') worker.worker.shutdown();
          await worker.running.catch(() => undefined);
          await worker.connection.close().catch((err) => logger.warn({ err }, 'closing the worker connection failed'));
        }
        await connection.close().catch((err) => logger.warn({ err }, 'closing the client connection failed'));
      } finally {
        await target.embedded?.stop();
      }
    },
  };
  if (options.stop?.aborted) {
    await app.close();
    options.stop.throwIfAborted();
  }
  return app;
}

/** Whether any worker polled the task queue recently (a dead worker's poller lingers for minutes). */
export async function hasWorkers(client: Client, target: TemporalTarget, withinMs = 90_000): Promise<boolean> {
  const res = await client.workflowService.describeTaskQueue({
    namespace: target.namespace,
    taskQueue: { name: target.taskQueue },
    taskQueueType: proto.temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
  });
  const now = Date.now();
  return (res.pollers ?? []).some((p) => {
    const t = p.lastAccessTime;
    const ms = t ? Number(t.seconds ?? 0) * 1000 + Math.floor((t.nanos ?? 0) / 1e6) : 0;
    return now - ms < withinMs;
  });
}

/**
 * Waits for SIGINT/SIGTERM, then closes the app (running jobs get the worker's grace time). A worker that
 * stops on its own (a fatal error) ends the wait too, with exit code 1: a process without its worker
 * should be restarted, not left looking alive. `signals` should be listening from the command's start, so
 * a signal received while the app was starting counts (the SDK stops the worker on it too: that is then
 * the signal's doing, not a failure).
 */
export function untilSignal(app: App, signals: StopSignals = new StopSignals()): Promise<void> {
  return new Promise((resolve) => {
    let stopping = false;
    const stop = (why: string, failed = false) => {
      if (stopping) return;
      stopping = true;
      app.logger.info({ why }, 'shutting down');
      if (failed) process.exitCode = 1;
      app
        .close()
        .catch((err) => {
          app.logger.error({ err }, 'shutdown failed');
          process.exitCode = 1;
        })
        .finally(resolve);
    };
    void signals.next().then((signal) => stop(signal));
    app.worker?.running.then(
      () => stop(signals.received ?? 'the worker stopped', !signals.received),
      () => stop('the worker failed', true),
    );
  });
}
