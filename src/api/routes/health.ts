// Health checks: the API's Temporal connection (/health/) and whether workers poll the meter trainings'
// task queue (/health/worker).
import type { Client } from '@temporalio/client';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { recentPollers, temporalVersion } from '../health.js';
import { healthSchema, workerHealthSchema } from '../schemas.js';

export interface HealthRoutesOptions {
  client: Client;
  target: { taskQueue: string; namespace: string };
}

export const healthRoutes: FastifyPluginAsyncZod<HealthRoutesOptions> = async (app, { client, target }) => {
  const startedAt = Date.now();

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
};
