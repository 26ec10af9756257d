// The dashboard's JSON, as zod schemas: they validate what the routes send and document it in OpenAPI.
import { z } from 'zod';

const nums = z.array(z.number().nullable());
const store = z.object({
  available: z.boolean().describe('false until the first job created the store (a fresh clone)'),
  message: z.string().optional(),
});

export const todaySchema = z.object({
  store,
  now: z.string(),
  timezone: z.string(),
  days: z.array(z.string()).describe('today and tomorrow, local dates'),
  hours: z.array(z.number()).describe('hour starts, UTC epoch seconds; every array below is aligned with it'),
  price: z.object({
    unit: z.literal('EUR/MWh'),
    published: nums.describe('day-ahead spot price, hourly mean'),
    forecast: nums,
    lo: nums.describe("the band's lower edge, where no price is published yet"),
    hi: nums,
    band: z.object({ quantiles: z.array(z.number()), basis: z.string(), hours: z.number() }).nullable(),
    forecast_model: z.string().nullable(),
  }),
  pv_forecast_kwh: nums,
  load_forecast_kwh: nums,
  battery: z.object({ power_kw: nums.describe('+ charges, - discharges'), soc_pct: nums }),
  plan: z
    .object({
      issued_at: z.string(),
      controller: z.string(),
      soc_source: z.string().nullable(),
      hours: z.array(
        z.object({
          ts: z.number(),
          action: z.string(),
          power_kw: z.number().nullable(),
          soc_pct: z.number().nullable(),
          price_buy_eur_kwh: z.number().nullable(),
          price_sell_eur_kwh: z.number().nullable(),
          cost_eur: z.number().nullable(),
          cost_no_battery_eur: z.number().nullable(),
          why: z.string(),
        }),
      ),
    })
    .nullable()
    .describe('null until a battery plan was made (the daily pipeline)'),
  totals: z.array(z.object({ day: z.string(), cost_eur: z.number(), cost_no_battery_eur: z.number(), saving_eur: z.number(), hours: z.number() })),
});

const kind = z.enum(['price', 'demand', 'solar']);
export const forecastsSchema = z.object({
  store,
  now: z.string(),
  days: z.number(),
  kinds: z.array(
    z.object({
      kind,
      unit: z.string(),
      hours: z.array(z.number()),
      actual: nums,
      forecast: nums.describe('per hour, the newest issue made before the hour'),
      mae: z.number().nullable(),
      matched_hours: z.number(),
    }),
  ),
  accuracy: z.array(
    z.object({
      kind,
      days: z.array(z.string()),
      forecasters: z.array(
        z.object({
          forecaster: z.string(),
          serving: z.boolean(),
          naive: z.boolean(),
          mae: nums,
          rolling_mae: nums.describe('mean of the last 7 daily MAEs'),
        }),
      ),
      alert_days: z.array(z.string()).describe('days with a degradation alert for this kind'),
    }),
  ),
  alerts: z.array(z.object({ id: z.number(), at: z.string(), kind: z.string(), subject: z.string(), message: z.string(), data: z.unknown() })),
  scores_table: z.boolean().describe('false until the accuracy scoring step first ran'),
});

export const forecastsQuerySchema = z.object({
  days: z.coerce.number().int().min(1).max(90).default(7).describe('7 or 30 in the dashboard'),
});

export const dataSchema = z.object({
  store,
  now: z.string(),
  window_days: z.number(),
  series: z.array(
    z.object({
      name: z.string(),
      rows: z.number(),
      first: z.string(),
      last: z.string(),
      last_value: z.number(),
      resolution_s: z.number(),
      age_s: z.number(),
      max_age_s: z.number(),
      max_age_from: z.enum(['freshness config', 'resolution']),
      stale: z.boolean(),
      window_rows: z.number(),
      gaps: z.number(),
      missing: z.number(),
      outliers: z.number(),
      stuck_for_s: z.number(),
      stuck: z.boolean(),
      status: z.enum(['ok', 'stale', 'suspect']),
      problems: z.array(z.string()),
    }),
  ),
  forecasts: z.array(z.object({ name: z.string(), issues: z.number(), last_issued_at: z.string(), age_s: z.number(), model: z.string().nullable() })),
});

export const runsSchema = z.object({
  temporal: z.object({ available: z.boolean(), message: z.string().optional(), namespace: z.string(), web_ui: z.string().nullable() }),
  runs: z.array(
    z.object({
      workflow: z.string(),
      workflow_id: z.string(),
      run_id: z.string(),
      temporal_status: z.string(),
      status: z.enum(['success', 'partial', 'failed', 'running', 'other']),
      started_at: z.string(),
      closed_at: z.string().nullable(),
      duration_ms: z.number().nullable(),
      steps: z.object({ success: z.number(), failed: z.number(), skipped: z.number() }).nullable(),
      web_ui: z.string().nullable(),
      report: z.string().nullable().describe("the run's report under /reports/"),
    }),
  ),
  schedules: z.array(
    z.object({
      id: z.string(),
      workflow: z.string().nullable(),
      paused: z.boolean(),
      note: z.string().nullable(),
      next_run: z.string().nullable(),
      last_run: z.string().nullable(),
      web_ui: z.string().nullable(),
    }),
  ),
  meter_models: z.array(
    z.object({
      meter_type: z.string(),
      meter_id: z.string(),
      version: z.string().nullable(),
      trained_at: z.string().nullable(),
      mae: z.number().nullable(),
      naive_mae: z.number().nullable().describe('the better of same-time-yesterday and the 7-day same-hour mean'),
      naive: z.string().nullable(),
      skill: z.number().nullable().describe('1 - mae / naive_mae: above 0 beats naive'),
      status: z.enum(['beats naive', 'worse than naive', 'unscored']),
    }),
  ),
});

export type TodayResponse = z.infer<typeof todaySchema>;
export type RunsResponse = z.infer<typeof runsSchema>;
