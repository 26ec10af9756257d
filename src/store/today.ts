// The "today and tomorrow" view: prices (published and forecast with a band), the battery plan hour by
// hour, PV and load forecasts, and what the plan costs with and without the battery.
import type { StoreDb } from './db.js';
import { addDays, iso, localDate, localMidnight } from './clock.js';
import { at, forecastAsOf, hourlySeries, hoursBetween, quantile, tableExists } from './queries.js';

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

type PlanData = Record<string, unknown>;
const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

/** The plan's columns under either spelling (the agent's own, or the plan table's documented names). */
function planHour(ts: number, d: PlanData): PlanHour {
  const power = num(d.power_kw) ?? num(d.battery_kw) ?? (num(d.charge_kw) ?? 0) - (num(d.discharge_kw) ?? 0);
  const soc = num(d.soc_pct) ?? (num(d.soc) !== null ? num(d.soc)! * 100 : null);
  const action = typeof d.action === 'string' ? d.action : power > 0.05 ? 'charge' : power < -0.05 ? 'discharge' : 'idle';
  const buy = num(d.price_buy_eur_kwh) ?? num(d.price_buy);
  const sell = num(d.price_sell_eur_kwh) ?? num(d.price_sell);
  return {
    ts,
    action,
    power_kw: power,
    soc_pct: soc,
    price_buy_eur_kwh: buy,
    price_sell_eur_kwh: sell,
    cost_eur: num(d.cost_eur),
    cost_no_battery_eur: num(d.cost_no_battery_eur),
    why: typeof d.why === 'string' && d.why ? d.why : describe(action, power, d, buy),
  };
}

/** For plans written before the agent explained itself: what the hour's columns say, nothing more. */
function describe(action: string, power: number, d: PlanData, buy: number | null): string {
  const pv = num(d.pv_kwh);
  const load = num(d.load_kwh);
  const price = buy !== null ? ` at ${buy.toFixed(3)} EUR/kWh` : '';
  const mode = d.mode === 'self_consumption' ? ' (self-consumption)' : '';
  if (action === 'charge') return pv !== null && load !== null && pv > load ? `charge ${power.toFixed(1)} kW from surplus PV${mode}` : `charge ${power.toFixed(1)} kW from the grid${price}${mode}`;
  if (action === 'discharge') return `discharge ${(-power).toFixed(1)} kW to cover the load${price}${mode}`;
  return `idle${price}${mode}`;
}

/** For each hour, the row of the newest plan issued at or before `asOf` that covers it. */
function readPlan(db: StoreDb, start: number, end: number, asOf: number) {
  if (!tableExists(db, 'plans')) return undefined;
  const rows = db
    .prepare(
      `SELECT ts, issued_at, controller, data FROM (
         SELECT ts, issued_at, controller, data, ROW_NUMBER() OVER (PARTITION BY ts ORDER BY issued_at DESC) AS rn
         FROM plans WHERE ts >= ? AND ts < ? AND issued_at <= ?
       ) WHERE rn = 1 ORDER BY ts`,
    )
    .all(start, end, asOf) as { ts: number; issued_at: number; controller: string; data: string }[];
  if (rows.length === 0) return undefined;
  const latest = rows.reduce((a, b) => (b.issued_at > a.issued_at ? b : a));
  const data = rows.map((r) => JSON.parse(r.data) as PlanData);
  const socSource = data.find((d) => typeof d.soc_source === 'string')?.soc_source as string | undefined;
  return {
    issued_at: iso(latest.issued_at),
    controller: latest.controller,
    soc_source: socSource ?? null,
    hours: rows.map((r, i) => planHour(r.ts, data[i]!)),
  };
}

function forecastModel(db: StoreDb, name: string, asOf: number): string | null {
  const row = db.prepare('SELECT model FROM forecasts WHERE name = ? AND issued_at <= ? ORDER BY issued_at DESC LIMIT 1').get(name, asOf) as
    | { model: string | null }
    | undefined;
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
