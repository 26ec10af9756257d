// The "today and tomorrow" view: prices (published and forecast with a band), the battery plan hour by
// hour, PV and load forecasts, and what the plan costs with and without the battery.
import type { StoreDb } from './db.js';
import { addDays, iso, localDate, localMidnight } from './clock.js';
import { at, forecastAsOf, hourlySeries, hoursBetween, quantile } from './queries.js';
import { readLatestPlan } from './plan.js';

/** The band is the forecast plus these quantiles of its own errors over the last BAND_DAYS days. */
const BAND_QUANTILES = [0.1, 0.9] as const;
const BAND_DAYS = 30;
const BAND_MIN_HOURS = 48;

export interface PlanHour {
  ts: number;
  action: string;
  power_kw: number | null;
  soc_pct: number | null;
  price_buy_eur_kwh: number | null;
  price_sell_eur_kwh: number | null;
  cost_eur: number | null;
  cost_no_battery_eur: number | null;
  why: string;
}

export interface TodayView {
  now: string;
  timezone: string;
  days: string[];
  hours: number[];
  price: {
    unit: 'EUR/MWh';
    published: (number | null)[];
    forecast: (number | null)[];
    lo: (number | null)[];
    hi: (number | null)[];
    band: { quantiles: number[]; basis: string; hours: number } | null;
    forecast_model: string | null;
  };
  pv_forecast_kwh: (number | null)[];
  load_forecast_kwh: (number | null)[];
  battery: { power_kw: (number | null)[]; soc_pct: (number | null)[] };
  plan: { issued_at: string; controller: string; soc_source: string | null; hours: PlanHour[] } | null;
  totals: { day: string; cost_eur: number; cost_no_battery_eur: number; saving_eur: number; hours: number }[];
}

/**
 * The newest plan issued by `asOf` (GET /plan's reader): from the hour after it was made to the end of
 * tomorrow. Hours already past in today have no plan row.
 */
function readPlan(db: StoreDb, start: number, end: number, asOf: number) {
  const plan = readLatestPlan(db, new Date(asOf * 1000));
  if (!plan) return undefined;
  const hours = plan.hours
    .map((h): PlanHour => {
      const power = h.power_kw;
      return {
        ts: Date.parse(h.ts) / 1000,
        action: h.action ?? (power === null ? 'unknown' : power > 0.05 ? 'charge' : power < -0.05 ? 'discharge' : 'idle'),
        power_kw: power,
        soc_pct: h.soc_pct,
        price_buy_eur_kwh: h.price_buy_eur_kwh,
        price_sell_eur_kwh: h.price_sell_eur_kwh,
        cost_eur: h.cost_eur,
        cost_no_battery_eur: h.cost_no_battery_eur,
        why: h.why ?? '',
      };
    })
    .filter((h) => h.ts >= start && h.ts < end);
  return { issued_at: plan.issued_at, controller: plan.controller, soc_source: plan.soc_source, hours };
}

function forecastModel(db: StoreDb, name: string, asOf: number): string | null {
  const row = db.prepare('SELECT model FROM forecasts WHERE name = ? AND issued_at <= ? ORDER BY issued_at DESC LIMIT 1').get(name, asOf) as
    { model: string | null } | undefined;
  return row?.model ?? null;
}

/** The forecast's errors (actual - forecast) over the last days, as the band's quantiles. */
function errorBand(db: StoreDb, now: number) {
  const start = now - BAND_DAYS * 86_400;
  const actual = hourlySeries(db, 'price.spot', start, now);
  const forecast = forecastAsOf(db, 'forecast.price', start, now, now);
  const errors: number[] = [];
  for (const [h, f] of forecast) {
    const a = actual.get(h);
    if (a !== undefined) errors.push(a - f);
  }
  if (errors.length < BAND_MIN_HOURS) return undefined;
  errors.sort((a, b) => a - b);
  return { offsets: BAND_QUANTILES.map((q) => quantile(errors, q)), hours: errors.length };
}

export function readToday(db: StoreDb, options: { now: number; timezone: string }): TodayView {
  const { now, timezone } = options;
  const today = localDate(now, timezone);
  const days = [today, addDays(today, 1)];
  const start = localMidnight(today, timezone);
  const end = localMidnight(addDays(today, 2), timezone);
  const hours = hoursBetween(start, end);

  const published = at(hourlySeries(db, 'price.spot', start, end), hours);
  const forecast = at(forecastAsOf(db, 'forecast.price', start, end, now), hours);
  const band = errorBand(db, now);
  // The band where it matters: hours without a published price.
  const withBand = (i: number, k: 0 | 1) => {
    const f = forecast[i];
    return band && f !== null && f !== undefined && published[i] === null ? f + band.offsets[k]! : null;
  };
  const plan = readPlan(db, start, end, now);
  const byHour = new Map((plan?.hours ?? []).map((h) => [h.ts, h]));

  const totals = days.map((day) => {
    const lo = localMidnight(day, timezone);
    const hi = localMidnight(addDays(day, 1), timezone);
    const planned = (plan?.hours ?? []).filter((h) => h.ts >= lo && h.ts < hi);
    const cost = planned.reduce((s, h) => s + (h.cost_eur ?? 0), 0);
    const without = planned.reduce((s, h) => s + (h.cost_no_battery_eur ?? 0), 0);
    return { day, cost_eur: cost, cost_no_battery_eur: without, saving_eur: without - cost, hours: planned.length };
  });

  return {
    now: iso(now),
    timezone,
    days,
    hours,
    price: {
      unit: 'EUR/MWh',
      published,
      forecast,
      lo: hours.map((_, i) => withBand(i, 0)),
      hi: hours.map((_, i) => withBand(i, 1)),
      band: band
        ? {
            quantiles: [...BAND_QUANTILES],
            basis: `the forecast's own errors (10th-90th percentile) over the last ${BAND_DAYS} days, ${band.hours} hours`,
            hours: band.hours,
          }
        : null,
      forecast_model: forecastModel(db, 'forecast.price', now),
    },
    pv_forecast_kwh: at(forecastAsOf(db, 'forecast.solar', start, end, now), hours),
    load_forecast_kwh: at(forecastAsOf(db, 'forecast.demand', start, end, now), hours),
    battery: {
      power_kw: hours.map((h) => byHour.get(h)?.power_kw ?? null),
      soc_pct: hours.map((h) => byHour.get(h)?.soc_pct ?? null),
    },
    plan: plan ?? null,
    totals: plan ? totals : [],
  };
}
