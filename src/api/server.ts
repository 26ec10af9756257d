// The meter training HTTP API (the seed's FastAPI service) on Fastify: zod schemas, OpenAPI at /docs.
import { createHash, randomUUID, timingSafeEqual } from 'node:crypto';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import fastifySwagger from '@fastify/swagger';
import fastifySwaggerUi from '@fastify/swagger-ui';
import {
  hasZodFastifySchemaValidationErrors,
  jsonSchemaTransform,
  serializerCompiler,
  validatorCompiler,
  type ZodTypeProvider,
} from 'fastify-type-provider-zod';
import { z } from 'zod';
import { WorkflowNotFoundError, WorkflowFailedError, type Client } from '@temporalio/client';
import type { AppConfig } from '../config/load.js';
import type { Logger } from '../logging.js';
import { registerMetrics } from './metrics.js';
import { registerDashboard } from './routes/dashboard.js';
import { planRoutes } from './routes/plan.js';
import { recentPollers, temporalVersion } from './health.js';
import {
  acceptedSchema,
  bulkAcceptedSchema,
  bulkRequestSchema,
  bulkStatusSchema,
  detailSchema,
  healthSchema,
  taskStatusSchema,
  trainRequestSchema,
  workerHealthSchema,
  type BulkStatus,
} from './schemas.js';
import { StageTimes, TaskNotFound, taskStatus, type StatusDeps } from './status.js';
import {
  BULK_PREFIX,
  bulkTrainingStateQueryName,
  bulkWorkflowId,
  countItems,
  makeTaskId,
  meterWorkflowId,
  onMeterTaskQueue,
  type BulkTrainingInput,
  type BulkTrainingState,
  type MeterTrainingInput,
} from './tasks.js';

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

/**
 * Path parameters may be this long. A task id is `<meter type (<= 32)>:<meter id (<= 64)>:<run id (36)>`,
 * up to 134 characters: Fastify's default of 100 answered 414 for the status URL of a valid long meter id.
 */
export const MAX_PARAM_LENGTH = 256;

const BULK_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

function sha256(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

/** A route's URL pattern (`/a/:id`, `/docs/*`) as a regular expression over request paths. */
function routePattern(url: string): RegExp {
  const body = url
    .replace(/(.)\/$/, '$1')
    .split('/')
    .map((part) => (part === '*' ? '.*' : part.startsWith(':') ? '[^/]+' : part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
    .join('/');
  return new RegExp(`^${body}/?$`);
}

/** FastAPI's 422 shape, so the seed's clients read our validation errors as they read its own. */
function validationDetail(err: { validation: Array<{ instancePath: string; message?: string; keyword: string }>; validationContext?: string }) {
  return err.validation.map((v) => ({
    loc: [err.validationContext ?? 'body', ...v.instancePath.split('/').filter(Boolean).map((p) => (/^\d+$/.test(p) ? Number(p) : p))],
    msg: v.message ?? 'invalid',
    type: v.keyword,
  }));
}

/** Builds the API (not listening): tests use `inject` or `startApi`. */
export async function buildApi(deps: ApiDeps): Promise<FastifyInstance> {
  const { config, client, target } = deps;
  const api = config.api;
  const startedAt = Date.now();
  const app = Fastify({
    loggerInstance: deps.logger.child({ component: 'api' }) as FastifyBaseLogger,
    genReqId: () => randomUUID(),
    // The seed (FastAPI) redirected /health to /health/; here both spellings answer.
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: MAX_PARAM_LENGTH },
    // Health checks every few seconds would drown the log: requests are logged below, at debug when fine.
    // (logController, not the deprecated top-level option: that printed FSTDEP023 on every start.)
    logController: new LogController({ disableRequestLogging: true }),
    // A bad URL or an over-long path parameter: the same `{detail}` body as every other error.
    frameworkErrors: (error, _request, reply) => {
      void (reply as FastifyReply).code(error.statusCode ?? 400).send({ detail: error.message });
    },
  }).withTypeProvider<ZodTypeProvider>();
  app.addHook('onResponse', async (request, reply) => {
    const entry = { method: request.method, url: request.url, statusCode: reply.statusCode, ms: Math.round(reply.elapsedTime) };
    if (reply.statusCode >= 500) request.log.warn(entry, 'request failed');
    else if (reply.statusCode >= 400 || request.method !== 'GET') request.log.info(entry, 'request');
    else request.log.debug(entry, 'request');
  });
  // Every route's path pattern and methods, so a known path with the wrong method answers 405, not 404.
  const routes: Array<{ pattern: RegExp; methods: string[] }> = [];
  app.addHook('onRoute', (route) => {
    const methods = ([] as string[]).concat(route.method).filter((m) => m !== 'HEAD');
    routes.push({ pattern: routePattern(route.url), methods });
  });
  app.setNotFoundHandler((request, reply) => {
    const path = (request.url.split('?')[0] ?? '/').replace(/(.)\/$/, '$1');
    const allowed = [...new Set(routes.filter((r) => r.pattern.test(path)).flatMap((r) => r.methods))];
    if (allowed.length > 0) {
      return reply
        .code(405)
        .header('Allow', allowed.join(', '))
        .send({ detail: `Method ${request.method} not allowed for ${path}; allowed: ${allowed.join(', ')}` });
    }
    return reply.code(404).send({ detail: `Not found: ${request.method} ${path}` });
  });
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);

  const stageTimes = StageTimes.forDataDir(config.dirs.data);
  const workersPolling = async () => (await recentPollers(client, target.namespace, target.taskQueue)).length > 0;
  const statusDeps: StatusDeps = { client, stageTimes, workersPolling };

  await app.register(fastifySwagger, {
    openapi: {
      info: {
        title: 'home-energy-ai meter training API',
        description:
          'Trains one forecasting model per meter in the background (Temporal workflows). ' +
          'Mutating endpoints need `Authorization: Bearer <token>` when a token is configured.',
        version: '1.0.0',
      },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
    },
    transform: jsonSchemaTransform,
  });
  await app.register(fastifySwaggerUi, { routePrefix: '/docs' });
  const metrics = registerMetrics(app);

  app.setErrorHandler((error, request, reply) => {
    const err = error as Error & { code?: string; statusCode?: number };
    if (hasZodFastifySchemaValidationErrors(err)) {
      return reply.code(422).send({ detail: validationDetail(err as never) });
    }
    const code = (err as { code?: string }).code;
    if (code === 'FST_ERR_CTP_INVALID_JSON_BODY' || code === 'FST_ERR_CTP_EMPTY_JSON_BODY' || (err instanceof SyntaxError && (err as { statusCode?: number }).statusCode === 400)) {
      return reply.code(422).send({ detail: [{ loc: ['body'], msg: err.message, type: 'json_invalid' }] });
    }
    const status = (err as { statusCode?: number }).statusCode;
    if (status && status >= 400 && status < 500) return reply.code(status).send({ detail: err.message });
    // Temporal unreachable, a deadline: the service is unavailable, not broken.
    request.log.error({ err }, 'request failed');
    return reply.code(503).send({ detail: `the training service is unavailable: ${err.message}` });
  });

  // Bearer auth before the body is parsed, so an unauthenticated client learns nothing about validation.
  const requireToken = async (request: FastifyRequest, reply: FastifyReply) => {
    if (!api.token) return;
    const header = request.headers.authorization ?? '';
    const match = /^Bearer\s+(.+)$/i.exec(header);
    if (!match || !timingSafeEqual(sha256(match[1]!.trim()), sha256(api.token))) {
      void reply.code(401).header('WWW-Authenticate', 'Bearer').send({ detail: 'Not authenticated: send Authorization: Bearer <token>' });
      return reply;
    }
  };

  const types = api.meterTypes;
  const trainBody = trainRequestSchema(types);
  const security = api.token ? [{ bearer: [] }] : undefined;

  app.post(
    '/trainmodel/',
    {
      onRequest: requireToken,
      schema: {
        summary: 'Start training a meter model',
        description:
          'Answers 202 with a task id at once. One training per meter at a time: while a meter trains, a new request ' +
          'for it answers that training\'s task (`duplicate: true`).',
        tags: ['training'],
        body: trainBody,
        security,
        response: { 202: acceptedSchema, 401: detailSchema, 422: detailSchema, 503: detailSchema },
      },
    },
    async (request, reply) => {
      const { meter_id: meterId, meter_type: meterType } = request.body;
      const requestId = randomUUID();
      const input: MeterTrainingInput = { meterId, meterType };
      const handle = await client.workflow.start('meterModelTraining', {
        taskQueue: target.taskQueue,
        workflowId: meterWorkflowId(meterType, meterId),
        workflowIdConflictPolicy: 'USE_EXISTING',
        args: [input],
        memo: { requestId },
        staticSummary: `meter ${meterType}/${meterId} (API)`,
      });
      const taskId = makeTaskId(meterType, meterId, handle.firstExecutionRunId);
      const log = request.log.child({ taskId, meterId, meterType });
      const statusUrl = `/trainmodel/status/${taskId}`;
      void reply.header('Location', statusUrl);
      // USE_EXISTING answers the running training's run; our memo tells whether this request started it.
      const desc = await client.workflow.getHandle(handle.workflowId, handle.firstExecutionRunId).describe();
      if ((desc.memo as { requestId?: string } | undefined)?.requestId !== requestId) {
        const current = await taskStatus(statusDeps, taskId);
        log.info('training already running for this meter: returning its task');
        metrics.trainingsStarted.inc({ meter_type: meterType, duplicate: 'true' });
        return reply.code(202).send({
          task_id: taskId,
          status: current.status,
          progress: current.progress,
          message: `A training for ${meterType}/${meterId} is already running: this is its task`,
          meter_id: meterId,
          meter_type: meterType,
          status_url: statusUrl,
          duplicate: true,
        });
      }
      log.info('training queued');
      metrics.trainingsStarted.inc({ meter_type: meterType, duplicate: 'false' });
      return reply.code(202).send({
        task_id: taskId,
        status: 'PENDING',
        progress: 0,
        message: 'Task queued for processing',
        meter_id: meterId,
        meter_type: meterType,
        status_url: statusUrl,
        duplicate: false,
      });
    },
  );

  app.get(
    '/trainmodel/status/:task_id',
    {
      schema: {
        summary: 'A training task\'s status',
        description:
          'PENDING, STARTED, CONNECTING, FETCHING_DATA, VALIDATING_DATA, TRAINING_MODEL, SAVING_MODEL, then SUCCESS (with `result`) ' +
          'or FAILED (with `error`). `estimated_completion` comes from measured stage durations of earlier trainings ' +
          '(null until one has finished).',
        tags: ['training'],
        params: z.object({ task_id: z.string().max(MAX_PARAM_LENGTH) }),
        response: { 200: taskStatusSchema, 404: detailSchema, 503: detailSchema },
      },
    },
    async (request, reply) => {
      try {
        return reply.send(await taskStatus(statusDeps, request.params.task_id));
      } catch (err) {
        if (err instanceof TaskNotFound) return reply.code(404).send({ detail: `Task ${request.params.task_id} not found` });
        throw err;
      }
    },
  );

  const bulkBody = bulkRequestSchema(types, 64);
  app.post(
    '/trainmodel/bulk',
    {
      onRequest: requireToken,
      schema: {
        summary: 'Train many meters',
        description: 'Trains each meter (duplicates removed) with at most `concurrency` trainings at once. Answers 202 with a bulk id.',
        tags: ['training'],
        body: bulkBody,
        security,
        response: { 202: bulkAcceptedSchema, 401: detailSchema, 422: detailSchema, 503: detailSchema },
      },
    },
    async (request, reply) => {
      const seen = new Set<string>();
      const meters = request.body.meters
        .filter((m) => {
          const key = `${m.meter_type}:${m.meter_id}`;
          if (seen.has(key)) return false;
          seen.add(key);
          return true;
        })
        .map((m) => ({ meterId: m.meter_id, meterType: m.meter_type }));
      const concurrency = request.body.concurrency ?? api.bulkConcurrency;
      const bulkId = randomUUID();
      const input: BulkTrainingInput = { bulkId, meters, concurrency };
      await client.workflow.start('meterModelTrainingBulk', {
        taskQueue: target.taskQueue,
        workflowId: bulkWorkflowId(bulkId),
        args: [input],
        staticSummary: `bulk training of ${meters.length} meters`,
      });
      request.log.info({ bulkId, meters: meters.length, concurrency }, 'bulk training queued');
      const statusUrl = `/trainmodel/bulk/${bulkId}`;
      return reply
        .code(202)
        .header('Location', statusUrl)
        .send({ bulk_id: bulkId, status: 'PENDING', total: meters.length, concurrency, message: 'Bulk training queued', status_url: statusUrl });
    },
  );

  app.get(
    '/trainmodel/bulk/:bulk_id',
    {
      schema: {
        summary: 'A bulk training\'s aggregate status',
        description: 'Counts per status, overall progress, and each meter\'s status (with the stage of those training now).',
        tags: ['training'],
        params: z.object({ bulk_id: z.string().max(MAX_PARAM_LENGTH) }),
        response: { 200: bulkStatusSchema, 404: detailSchema, 503: detailSchema },
      },
    },
    async (request, reply) => {
      const bulkId = request.params.bulk_id;
      const notFound = () => reply.code(404).send({ detail: `Bulk request ${bulkId} not found` });
      if (!BULK_ID.test(bulkId)) return notFound();
      const status = await bulkStatus(client, statusDeps, bulkId);
      return status ? reply.send(status) : notFound();
    },
  );

  app.get(
    '/health/',
    {
      schema: {
        summary: 'The API and its Temporal connection',
        tags: ['health'],
        response: { 200: healthSchema, 503: healthSchema },
      },
    },
    async (_request, reply) => {
      const base = { timestamp: new Date().toISOString(), uptime_seconds: Math.round((Date.now() - startedAt) / 1000) };
      const temporal = { namespace: target.namespace, task_queue: target.taskQueue };
      try {
        const version = await temporalVersion(client);
        return reply.send({ status: 'healthy', ...base, temporal: { status: 'connected', ...temporal, server_version: version } });
      } catch (err) {
        return reply.code(503).send({ status: 'unhealthy', ...base, temporal: { status: 'unreachable', ...temporal, error: (err as Error).message } });
      }
    },
  );

  app.get(
    '/health/worker',
    {
      schema: {
        summary: 'Whether workers poll the task queue',
        description: '503 when no worker has polled the task queue in the last 90 s: trainings then stay PENDING.',
        tags: ['health'],
        response: { 200: workerHealthSchema, 503: workerHealthSchema },
      },
    },
    async (_request, reply) => {
      const base = { timestamp: new Date().toISOString(), task_queue: target.taskQueue };
      let workers;
      try {
        workers = await recentPollers(client, target.namespace, target.taskQueue);
      } catch (err) {
        return reply.code(503).send({ status: 'unhealthy', ...base, workers: [], message: `cannot ask Temporal: ${(err as Error).message}` });
      }
      if (workers.length === 0) {
        return reply.code(503).send({
          status: 'unhealthy',
          ...base,
          workers,
          message: `no worker polls task queue ${target.taskQueue}: trainings stay PENDING until one does (npm start or hea worker)`,
        });
      }
      return reply.send({ status: 'healthy', ...base, workers, message: `${workers.length} worker(s) polling` });
    },
  );

  await app.register(planRoutes, { config });

  // The root answers with the dashboard (it links the API docs and health).
  await registerDashboard(app, deps);

  return app;
}

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
    state = await client
      .withDeadline(Date.now() + 3_000, () => handle.query<BulkTrainingState>(bulkTrainingStateQueryName))
      .catch(() => undefined);
  } else {
    failed = await handle.result().then(
      () => desc.status.name,
      (err: unknown) => (err instanceof WorkflowFailedError ? (err.cause?.message ?? err.message) : String(err)),
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
