// Prometheus metrics of the API: request durations by route and status, trainings started, and the
// process's own figures (prom-client's defaults). The worker's metrics come from the Temporal runtime.
import type { FastifyInstance } from 'fastify';
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export interface ApiMetrics {
  registry: Registry;
  trainingsStarted: Counter<'meter_type' | 'duplicate'>;
}

export function registerMetrics(app: FastifyInstance): ApiMetrics {
  // One registry per API instance: tests start several in one process.
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'hea_api_' });
  const duration = new Histogram({
    name: 'hea_api_request_duration_seconds',
    help: 'HTTP request duration by method, route and status code',
    labelNames: ['method', 'route', 'status_code'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });
  const trainingsStarted = new Counter({
    name: 'hea_api_training_requests_total',
    help: 'POST /trainmodel/ requests accepted, by meter type and whether a training was already running',
    labelNames: ['meter_type', 'duplicate'] as const,
    registers: [registry],
  });
  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched';
    duration.observe({ method: request.method, route, status_code: String(reply.statusCode) }, reply.elapsedTime / 1000);
  });
  app.get('/metrics', { schema: { hide: true } }, async (_request, reply) => {
    void reply.header('content-type', registry.contentType);
    return registry.metrics();
  });
  return { registry, trainingsStarted };
}
