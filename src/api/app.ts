// The Fastify instance every route module registers on: request logging, 405 for a known path with the
// wrong method, FastAPI's 422 shape for validation errors, 503 when Temporal is unreachable, the OpenAPI
// document at /docs, Prometheus metrics, bearer auth and the per-token rate limit of mutating endpoints.
import { createHash, randomUUID, timingSafeEqual } from 'node:crypto';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import fastifyRateLimit from '@fastify/rate-limit';
import fastifySwagger from '@fastify/swagger';
import fastifySwaggerUi from '@fastify/swagger-ui';
import { hasZodFastifySchemaValidationErrors, jsonSchemaTransform, serializerCompiler, validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import type { ApiConfig } from '../config/api.js';
import type { Logger } from '../logging.js';
import { registerMetrics, type ApiMetrics } from './metrics.js';

/**
 * Path parameters may be this long. A task id is `<meter type (<= 32)>:<meter id (<= 64)>:<run id (36)>`,
 * up to 134 characters: Fastify's default of 100 answered 414 for the status URL of a valid long meter id.
 */
export const MAX_PARAM_LENGTH = 256;

export interface BuiltApp {
  app: FastifyInstance;
  metrics: ApiMetrics;
  /** onRequest hook of mutating routes: 401 without the bearer token (before the body is parsed). */
  requireToken: (request: FastifyRequest, reply: FastifyReply) => Promise<FastifyReply | undefined>;
  /** Route config that applies the per-token rate limit (`config: rateLimited`). */
  rateLimited: { rateLimit?: { max: number; timeWindow: number } };
  /** OpenAPI security of mutating routes (undefined when no token is configured). */
  security: Array<Record<string, string[]>> | undefined;
}

function sha256(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

function bearer(request: FastifyRequest): string | undefined {
  const match = /^Bearer\s+(.+)$/i.exec(request.headers.authorization ?? '');
  return match ? match[1]!.trim() : undefined;
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
    loc: [
      err.validationContext ?? 'body',
      ...v.instancePath
        .split('/')
        .filter(Boolean)
        .map((p) => (/^\d+$/.test(p) ? Number(p) : p)),
    ],
    msg: v.message ?? 'invalid',
    type: v.keyword,
  }));
}

/** Requests are logged once they are answered: at debug when a GET went fine (health checks, pollers). */
function logRequests(app: FastifyInstance): void {
  app.addHook('onResponse', async (request, reply) => {
    const entry = { method: request.method, url: request.url, statusCode: reply.statusCode, ms: Math.round(reply.elapsedTime) };
    if (reply.statusCode >= 500) request.log.warn(entry, 'request failed');
    else if (reply.statusCode >= 400 || request.method !== 'GET') request.log.info(entry, 'request');
    else request.log.debug(entry, 'request');
  });
}

/** 405 with Allow for a known path and the wrong method; 404 otherwise; both as `{detail}`. */
function notFoundOr405(app: FastifyInstance): void {
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
}

function mapErrors(app: FastifyInstance): void {
  app.setErrorHandler((error, request, reply) => {
    const err = error as Error & { code?: string; statusCode?: number };
    if (hasZodFastifySchemaValidationErrors(err)) {
      return reply.code(422).send({ detail: validationDetail(err as never) });
    }
    if (err.code === 'FST_ERR_CTP_INVALID_JSON_BODY' || err.code === 'FST_ERR_CTP_EMPTY_JSON_BODY' || (err instanceof SyntaxError && err.statusCode === 400)) {
      return reply.code(422).send({ detail: [{ loc: ['body'], msg: err.message, type: 'json_invalid' }] });
    }
    const status = err.statusCode;
    if (status && status >= 400 && status < 500) return reply.code(status).send({ detail: err.message });
    // Temporal unreachable, a deadline: the service is unavailable, not broken.
    request.log.error({ err }, 'request failed');
    return reply.code(503).send({ detail: `the training service is unavailable: ${err.message}` });
  });
}

async function registerDocs(app: FastifyInstance): Promise<void> {
  await app.register(fastifySwagger, {
    openapi: {
      info: {
        title: 'home-energy-ai meter training API',
        description:
          'Trains one forecasting model per meter in the background (Temporal workflows). ' +
          'Mutating endpoints need `Authorization: Bearer <token>` when a token is configured, and are rate limited per token.',
        version: '1.0.0',
      },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
    },
    transform: jsonSchemaTransform,
  });
  await app.register(fastifySwaggerUi, { routePrefix: '/docs' });
}

/**
 * The per-token rate limit (api.rateLimit) of the routes that opt in: keyed on the bearer token (hashed,
 * so the token never sits in memory as a key), or the client's address when none is sent. 429 with
 * Retry-After and the `{detail}` body when exceeded.
 */
async function registerRateLimit(app: FastifyInstance): Promise<void> {
  await app.register(fastifyRateLimit, {
    global: false,
    keyGenerator: (request) => {
      const token = bearer(request);
      return token ? `token:${sha256(token).toString('hex')}` : `ip:${request.ip}`;
    },
    // Thrown by the plugin: an Error with a status, so mapErrors answers it as `{detail}`.
    errorResponseBuilder: (_request, context) =>
      Object.assign(new Error(`Too many requests: at most ${context.max} per ${context.after} for this token; retry in ${Math.ceil(context.ttl / 1000)} s`), {
        statusCode: 429,
      }),
  });
}

/** Builds the Fastify instance with everything but the routes (not listening). */
export async function buildApp(api: ApiConfig, logger: Logger): Promise<BuiltApp> {
  const app = Fastify({
    loggerInstance: logger.child({ component: 'api' }) as FastifyBaseLogger,
    genReqId: () => randomUUID(),
    // The seed (FastAPI) redirected /health to /health/; here both spellings answer.
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: MAX_PARAM_LENGTH },
    // Health checks every few seconds would drown the log: requests are logged by logRequests.
    // (logController, not the deprecated top-level option: that printed FSTDEP023 on every start.)
    logController: new LogController({ disableRequestLogging: true }),
    // A bad URL or an over-long path parameter: the same `{detail}` body as every other error.
    frameworkErrors: (error, _request, reply) => {
      void (reply as FastifyReply).code(error.statusCode ?? 400).send({ detail: error.message });
    },
  }).withTypeProvider<ZodTypeProvider>();
  logRequests(app);
  notFoundOr405(app);
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  await registerDocs(app);
  await registerRateLimit(app);
  const metrics = registerMetrics(app);
  mapErrors(app);

  // Bearer auth before the body is parsed, so an unauthenticated client learns nothing about validation.
  const requireToken = async (request: FastifyRequest, reply: FastifyReply) => {
    if (!api.token) return undefined;
    const token = bearer(request);
    if (!token || !timingSafeEqual(sha256(token), sha256(api.token))) {
      void reply.code(401).header('WWW-Authenticate', 'Bearer').send({ detail: 'Not authenticated: send Authorization: Bearer <token>' });
      return reply;
    }
    return undefined;
  };
  const rateLimited: BuiltApp['rateLimited'] = api.rateLimit.max > 0 ? { rateLimit: { max: api.rateLimit.max, timeWindow: api.rateLimit.window } } : {};
  return { app, metrics, requireToken, rateLimited, security: api.token ? [{ bearer: [] }] : undefined };
}
