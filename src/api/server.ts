// The meter training HTTP API (the seed's FastAPI service) on Fastify: the app (app.ts) with the training,
// health, plan and dashboard routes, over one trainings service shared with `hea train-meters`.
import type { Client } from '@temporalio/client';
import type { FastifyInstance } from 'fastify';
import type { AppConfig } from '../config/load.js';
import type { Logger } from '../logging.js';
import { buildApp } from './app.js';
import { recentPollers } from './health.js';
import { registerDashboard } from './routes/dashboard.js';
import { healthRoutes } from './routes/health.js';
import { planRoutes } from './routes/plan.js';
import { trainingRoutes } from './routes/trainings.js';
import type { TaskStatus } from './schemas.js';
import { StageTimes, type StatusDeps } from './status.js';
import { BULK_PREFIX } from '../contracts/trainings.js';
import { onMeterTaskQueue } from './tasks.js';
import { bulkStatus } from './trainings/bulkStatus.js';
import { Reused } from './trainings/reused.js';
import { TrainingService } from './trainings/service.js';

export { MAX_PARAM_LENGTH } from './app.js';
export { bulkStatus };

export interface ApiDeps {
  config: AppConfig;
  client: Client;
  target: { taskQueue: string; namespace: string };
  logger: Logger;
}

export interface RunningApi {
  app: FastifyInstance;
  /** http://host:port, with the port actually bound (port 0 picks a free one). */
  url: string;
  close(): Promise<void>;
}

/** How long "does a worker poll?" (two describeTaskQueue calls) is reused for PENDING statuses. */
const WORKERS_POLLING_TTL_MS = 2_000;

/** Builds the API (not listening): tests use `startApi`. */
export async function buildApi(deps: ApiDeps): Promise<FastifyInstance> {
  const { config, client, target } = deps;
  const api = config.api;
  const { app, metrics, requireToken, rateLimited, security } = await buildApp(api, deps.logger);

  const stageTimes = StageTimes.forDataDir(config.dirs.data);
  const polling = new Reused<'polling', boolean>(1);
  const workersPolling = () =>
    polling.get(
      'polling',
      async () => (await recentPollers(client, target.namespace, target.taskQueue)).length > 0,
      () => WORKERS_POLLING_TTL_MS,
    );
  const statusDeps: StatusDeps = { client, stageTimes, workersPolling, cache: new Reused<string, TaskStatus>(), runningTtlMs: api.statusCacheMs };
  const trainings = new TrainingService({
    client,
    taskQueue: target.taskQueue,
    maxQueued: api.maxQueuedTrainings,
    queueCountTtlMs: api.queueCountTtlMs,
    // About one training: the measured stages' sum once known.
    retryAfterSeconds: () => {
      const stages = stageTimes.expected();
      return stages ? Math.max(1, Math.ceil(Object.values(stages).reduce((a, b) => a + b, 0))) : 30;
    },
  });

  await app.register(trainingRoutes, { api, trainings, statusDeps, metrics, requireToken, rateLimited, security });
  await app.register(healthRoutes, { client, target });
  await app.register(planRoutes, { config });
  // The root answers with the dashboard (it links the API docs and health).
  await registerDashboard(app, deps);
  return app;
}

/** Starts the API on config.api.host/port (or the given ones; port 0 picks a free port). */
export async function startApi(deps: ApiDeps, options: { host?: string; port?: number } = {}): Promise<RunningApi> {
  const app = await buildApi(deps);
  const host = options.host ?? deps.config.api.host;
  const port = options.port ?? deps.config.api.port;
  await app.listen({ host, port });
  const address = app.server.address();
  const bound = typeof address === 'object' && address ? address.port : port;
  const shownHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
  const url = `http://${shownHost.includes(':') ? `[${shownHost}]` : shownHost}:${bound}`;
  deps.logger.info({ url, docs: `${url}/docs`, auth: Boolean(deps.config.api.token) }, 'meter training API listening');
  return { app, url, close: () => app.close() };
}

export { BULK_PREFIX };

/**
 * For `hea start` / `hea worker`: starts the API next to the app when `api.enabled` (the default), on
 * api.host:api.port (HEA_API_HOST / HEA_API_PORT). Returns undefined when disabled.
 */
export async function startApiForApp(app: ApiDeps): Promise<RunningApi | undefined> {
  if (!app.config.api.enabled) return undefined;
  return startApi(onMeterTaskQueue(app));
}
