// The meter training endpoints (the seed's FastAPI routes): start one training, its status, a bulk
// request and its aggregate status. The work is the trainings service's; these parse and answer.
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { ApiConfig } from '../../config/api.js';
import { uniqueMeters } from '../../contracts/trainings.js';
import type { ApiMetrics } from '../metrics.js';
import { MAX_PARAM_LENGTH, type BuiltApp } from '../app.js';
import { acceptedSchema, bulkAcceptedSchema, bulkRequestSchema, bulkStatusSchema, detailSchema, taskStatusSchema, trainRequestSchema } from '../schemas.js';
import { TaskNotFound, taskStatus, type StatusDeps } from '../status.js';
import { BULK_ID, bulkStatus } from '../trainings/bulkStatus.js';
import { OverCap, QueueFull, type TrainingService } from '../trainings/service.js';

export interface TrainingRoutesOptions {
  api: ApiConfig;
  trainings: TrainingService;
  statusDeps: StatusDeps;
  metrics: ApiMetrics;
  requireToken: (request: FastifyRequest, reply: FastifyReply) => Promise<FastifyReply | undefined>;
  rateLimited: BuiltApp['rateLimited'];
  security: Array<Record<string, string[]>> | undefined;
}

/** Answers 429 (queue full, with Retry-After) or 422 (more meters than the cap) for a refused admission. */
function refuse(err: unknown, reply: FastifyReply): FastifyReply {
  if (err instanceof QueueFull) return reply.code(429).header('Retry-After', String(err.retryAfterSeconds)).send({ detail: err.message });
  if (err instanceof OverCap) return reply.code(422).send({ detail: [{ loc: ['body', 'meters'], msg: err.message, type: 'too_long' }] });
  throw err;
}

export const trainingRoutes: FastifyPluginAsyncZod<TrainingRoutesOptions> = async (app, opts) => {
  const { api, trainings, statusDeps, metrics, requireToken, rateLimited, security } = opts;
  const types = api.meterTypes;
  const busy = { 429: detailSchema };

  app.post(
    '/trainmodel/',
    {
      onRequest: requireToken,
      config: rateLimited,
      schema: {
        summary: 'Start training a meter model',
        description:
          'Answers 202 with a task id at once. One training per meter at a time: while a meter trains, a new request ' +
          "for it answers that training's task (`duplicate: true`). 429 with Retry-After when the training queue is " +
          'full or the token sent too many requests.',
        tags: ['training'],
        body: trainRequestSchema(types),
        security,
        response: { 202: acceptedSchema, 401: detailSchema, 422: detailSchema, ...busy, 503: detailSchema },
      },
    },
    async (request, reply) => {
      const { meter_id: meterId, meter_type: meterType } = request.body;
      let started;
      try {
        started = await trainings.requestTraining({ meterId, meterType }, `meter ${meterType}/${meterId} (API)`);
      } catch (err) {
        return refuse(err, reply);
      }
      const { taskId } = started;
      const log = request.log.child({ taskId, meterId, meterType });
      const statusUrl = `/trainmodel/status/${taskId}`;
      void reply.header('Location', statusUrl);
      metrics.trainingsStarted.inc({ meter_type: meterType, duplicate: String(started.duplicate) });
      if (started.duplicate) {
        const current = await taskStatus(statusDeps, taskId);
        log.info('training already running for this meter: returning its task');
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
        summary: "A training task's status",
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

  app.post(
    '/trainmodel/bulk',
    {
      onRequest: requireToken,
      config: rateLimited,
      schema: {
        summary: 'Train many meters',
        description:
          'Trains each meter (duplicates removed) with at most `concurrency` trainings at once. Answers 202 with a bulk id. ' +
          'Its meters count against the cap on queued trainings (429 with Retry-After when they do not fit).',
        tags: ['training'],
        body: bulkRequestSchema(types, 64),
        security,
        response: { 202: bulkAcceptedSchema, 401: detailSchema, 422: detailSchema, ...busy, 503: detailSchema },
      },
    },
    async (request, reply) => {
      const meters = uniqueMeters(request.body.meters.map((m) => ({ meterId: m.meter_id, meterType: m.meter_type })));
      const concurrency = request.body.concurrency ?? api.bulkConcurrency;
      try {
        await trainings.admit(meters.length);
      } catch (err) {
        return refuse(err, reply);
      }
      const bulk = await trainings.startBulk(meters, concurrency, `bulk training of ${meters.length} meters`).catch((err: unknown) => {
        trainings.release(meters.length);
        throw err;
      });
      request.log.info({ bulkId: bulk.bulkId, meters: bulk.meters.length, concurrency }, 'bulk training queued');
      const statusUrl = `/trainmodel/bulk/${bulk.bulkId}`;
      return reply
        .code(202)
        .header('Location', statusUrl)
        .send({ bulk_id: bulk.bulkId, status: 'PENDING', total: bulk.meters.length, concurrency, message: 'Bulk training queued', status_url: statusUrl });
    },
  );

  app.get(
    '/trainmodel/bulk/:bulk_id',
    {
      schema: {
        summary: "A bulk training's aggregate status",
        description: "Counts per status, overall progress, and each meter's status (with the stage of those training now).",
        tags: ['training'],
        params: z.object({ bulk_id: z.string().max(MAX_PARAM_LENGTH) }),
        response: { 200: bulkStatusSchema, 404: detailSchema, 503: detailSchema },
      },
    },
    async (request, reply) => {
      const bulkId = request.params.bulk_id;
      const notFound = () => reply.code(404).send({ detail: `Bulk request ${bulkId} not found` });
      if (!BULK_ID.test(bulkId)) return notFound();
      const status = await bulkStatus(statusDeps.client, statusDeps, bulkId);
      return status ? reply.send(status) : notFound();
    },
  );
};
