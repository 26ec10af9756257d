// The dashboard: a page at `/` (plain ES modules and uPlot from node_modules, no build step), the JSON
// behind each of its views under /api/dashboard/ (in the OpenAPI document), and the run reports, read-only,
// under /reports/.
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join, normalize, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { ApiDeps } from '../server.js';
import { nowSeconds } from '../../store/clock.js';
import { openStoreReadOnly, type StoreDb } from '../../store/db.js';
import { readForecastHistory } from '../../store/forecastHistory.js';
import { readDataQuality } from '../../store/seriesQuality.js';
import { readToday } from '../../store/today.js';
import { meterModels, recentRuns, schedules } from './dashboardRuns.js';
import { dataSchema, forecastsQuerySchema, forecastsSchema, runsSchema, todaySchema } from './dashboardSchemas.js';

export const DASHBOARD_DIR = fileURLToPath(new URL('../../dashboard/', import.meta.url));
const UPLOT_DIR = join(dirname(createRequire(import.meta.url).resolve('uplot/package.json')), 'dist');
const TEMPORAL_DEADLINE_MS = 5_000;

export interface DashboardDeps extends ApiDeps {
  /** The Temporal Web UI (the embedded server's), for links; App's target carries it. */
  target: ApiDeps['target'] & { uiUrl?: string };
}

/**
 * The store, opened read-only on first use (it does not exist before the first job ran) and kept open.
 * Undefined while there is none.
 */
function storeHandle(deps: DashboardDeps) {
  let db: StoreDb | undefined;
  return {
    get(): StoreDb | undefined {
      db ??= openStoreReadOnly(deps.config.storeUrl, deps.config.root);
      return db;
    },
    close() {
      db?.close();
      db = undefined;
    },
  };
}

const NO_STORE = (url: string) => ({
  available: false,
  message: `no data store yet at ${url}: it is created by the first data fetch (npm start runs one)`,
});

export async function registerDashboard(app: FastifyInstance, deps: DashboardDeps): Promise<void> {
  const api = app.withTypeProvider<ZodTypeProvider>();
  const { config } = deps;
  const timezone = config.jobDefaults.env.HEA_TIMEZONE ?? config.schedules.timezone;
  const maxAges = Object.fromEntries(
    Object.values(config.freshness.datasets)
      .filter((d) => d.series)
      .map((d) => [d.series!, Math.round(d.maxAge / 1000)]),
  );
  const store = storeHandle(deps);
  app.addHook('onClose', async () => store.close());

  await app.register(fastifyStatic, { root: DASHBOARD_DIR, prefix: '/dashboard/', index: false, list: false });
  await app.register(fastifyStatic, { root: UPLOT_DIR, prefix: '/dashboard/vendor/uplot/', decorateReply: false, index: false, list: false });
  app.get('/', { schema: { hide: true } }, (_request, reply) => reply.header('cache-control', 'no-cache').sendFile('index.html', DASHBOARD_DIR));

  api.get(
    '/api/dashboard/today',
    {
      schema: {
        summary: 'Today and tomorrow: prices, the battery plan, PV and load forecasts, costs',
        description:
          "Hourly, from local midnight today to the end of tomorrow (HEA_TIMEZONE). The price forecast's band is its own " +
          'error quantiles over the last 30 days. Costs in EUR, from the newest battery plan.',
        tags: ['dashboard'],
        response: { 200: todaySchema },
      },
    },
    async () => {
      const now = nowSeconds();
      const db = store.get();
      if (!db) {
        return {
          store: NO_STORE(config.storeUrl),
          ...readTodayEmpty(now, timezone),
        };
      }
      return { store: { available: true }, ...readToday(db, { now, timezone }) };
    },
  );

  api.get(
    '/api/dashboard/forecasts',
    {
      schema: {
        summary: "Forecasts against actuals, and each forecaster's realised accuracy against the naive ones",
        description: 'Per hour, the newest forecast issued before the hour; daily MAEs from forecast_scores; alerts.',
        tags: ['dashboard'],
        querystring: forecastsQuerySchema,
        response: { 200: forecastsSchema },
      },
    },
    async (request) => {
      const now = nowSeconds();
      const { days } = request.query;
      const db = store.get();
      if (!db) {
        return { store: NO_STORE(config.storeUrl), now: new Date(now * 1000).toISOString(), days, kinds: [], accuracy: [], alerts: [], scores_table: false };
      }
      return { store: { available: true }, ...readForecastHistory(db, { now, days, timezone }) };
    },
  );

  api.get(
    '/api/dashboard/data',
    {
      schema: {
        summary: "Every series' freshness and quality",
        description:
          "Last value, age (against the freshness config's maxAge, else 3 intervals), gaps, outliers (far from the same " +
          "hour's median) and stuck sensors (no change for 24 h) over the last 30 days; every forecast's latest issue.",
        tags: ['dashboard'],
        response: { 200: dataSchema },
      },
    },
    async () => {
      const now = nowSeconds();
      const db = store.get();
      if (!db) return { store: NO_STORE(config.storeUrl), now: new Date(now * 1000).toISOString(), window_days: 30, series: [], forecasts: [] };
      return { store: { available: true }, ...readDataQuality(db, { now, maxAges }) };
    },
  );

  api.get(
    '/api/dashboard/runs',
    {
      schema: {
        summary: 'Recent runs, schedules and meter models',
        description:
          "The last 25 workflow runs with their outcome (success / partial / failed, from each run's report), duration and " +
          'links to the Web UI and the report; schedules with their next run; meter models with their holdout MAE against naive.',
        tags: ['dashboard'],
        response: { 200: runsSchema },
      },
    },
    async () => {
      const runsDeps = {
        client: deps.client,
        namespace: deps.target.namespace,
        webUi: deps.target.uiUrl,
        reportsDir: config.dirs.reports,
        modelsDir: config.dirs.models,
      };
      const models = await meterModels(config.dirs.models);
      const temporal = { namespace: deps.target.namespace, web_ui: deps.target.uiUrl ?? null };
      try {
        const [runs, scheduleList] = await deps.client.withDeadline(Date.now() + TEMPORAL_DEADLINE_MS, () => Promise.all([recentRuns(runsDeps), schedules(runsDeps)]));
        return { temporal: { available: true, ...temporal }, runs, schedules: scheduleList, meter_models: models };
      } catch (err) {
        return {
          temporal: { available: false, message: `cannot ask Temporal: ${(err as Error).message}`, ...temporal },
          runs: [],
          schedules: [],
          meter_models: models,
        };
      }
    },
  );

  // Reports, read-only: Markdown as text, and whatever sits beside it (charts, JSON) by its type.
  app.get('/reports/*', { schema: { hide: true } }, async (request, reply) => {
    const rel = normalize((request.params as { '*': string })['*']); // already URL-decoded by the router
    const file = resolve(config.dirs.reports, rel);
    if (rel.startsWith('..') || !file.startsWith(resolve(config.dirs.reports) + sep)) return reply.code(404).send({ detail: 'no such report' });
    if (file.endsWith('.md')) {
      const text = await readFile(file, 'utf8').catch(() => undefined);
      if (text === undefined) return reply.code(404).send({ detail: 'no such report' });
      return reply.type('text/plain; charset=utf-8').send(text);
    }
    return reply.sendFile(rel, config.dirs.reports);
  });
}

function readTodayEmpty(now: number, timezone: string) {
  return {
    now: new Date(now * 1000).toISOString(),
    timezone,
    days: [],
    hours: [],
    price: { unit: 'EUR/MWh' as const, published: [], forecast: [], lo: [], hi: [], band: null, forecast_model: null },
    pv_forecast_kwh: [],
    load_forecast_kwh: [],
    battery: { power_kw: [], soc_pct: [] },
    plan: null,
    totals: [],
  };
}
