// The "forecasts" view: each forecast against what happened over the last days, and every forecaster's
// realised daily error (table forecast_scores) next to the naive ones, with degradation alerts (table alerts).
import type { StoreDb } from './db.js';
import { addDays, iso, localDate } from './clock.js';
import { forecastAsOf, hourlySeries, hoursBetween, mean, tableExists } from './queries.js';

export const FORECAST_KINDS = {
  price: { actual: 'price.spot', forecast: 'forecast.price', unit: 'EUR/MWh' },
  demand: { actual: 'home.consumption', forecast: 'forecast.demand', unit: 'kWh/h' },
  solar: { actual: 'solar.production', forecast: 'forecast.solar', unit: 'kWh/h' },
} as const;
export type ForecastKind = keyof typeof FORECAST_KINDS;
const KINDS = Object.keys(FORECAST_KINDS) as ForecastKind[];
const ROLLING_DAYS = 7;

export interface Alert {
  id: number;
  at: string;
  kind: string;
  subject: string;
  message: string;
  data: unknown;
}

export interface ForecastHistoryView {
  now: string;
  days: number;
  kinds: {
    kind: ForecastKind;
    unit: string;
    hours: number[];
    actual: (number | null)[];
    forecast: (number | null)[];
    mae: number | null;
    matched_hours: number;
  }[];
  accuracy: {
    kind: ForecastKind;
    days: string[];
    forecasters: { forecaster: string; serving: boolean; naive: boolean; mae: (number | null)[]; rolling_mae: (number | null)[] }[];
    alert_days: string[];
  }[];
  alerts: Alert[];
  scores_table: boolean;
}

function readAlerts(db: StoreDb, since: number): Alert[] {
  if (!tableExists(db, 'alerts')) return [];
  const rows = db.prepare('SELECT id, at, kind, subject, message, data FROM alerts WHERE at >= ? ORDER BY at DESC LIMIT 200').all(since) as {
    id: number;
    at: number;
    kind: string;
    subject: string;
    message: string;
    data: string | null;
  }[];
  return rows.map((r) => {
    let data: unknown = null;
    try {
      data = r.data ? JSON.parse(r.data) : null;
    } catch {
      data = r.data;
    }
    return { id: r.id, at: iso(r.at), kind: r.kind, subject: r.subject, message: r.message, data };
  });
}

/** Whether an alert is about a forecast kind: its subject names it, or its data does. */
function alertKind(alert: Alert): string | undefined {
  const data = alert.data as { kind?: unknown } | null;
  if (data && typeof data.kind === 'string') return data.kind;
  return KINDS.find((k) => alert.subject === k || alert.subject.startsWith(`${k}:`) || alert.subject.startsWith(`${k}.`) || alert.subject.includes(`forecast.${k}`));
}

function accuracy(db: StoreDb, kind: ForecastKind, dayList: string[], alerts: Alert[], timezone: string) {
  const rows = db
    .prepare('SELECT forecaster, day, mae, serving FROM forecast_scores WHERE kind = ? AND day >= ? AND day <= ? ORDER BY forecaster, day')
    .all(kind, dayList[0], dayList[dayList.length - 1]) as { forecaster: string; day: string; mae: number | null; serving: number }[];
  const byForecaster = new Map<string, { serving: boolean; mae: Map<string, number> }>();
  for (const r of rows) {
    const f = byForecaster.get(r.forecaster) ?? { serving: false, mae: new Map() };
    // Serving is the state of the latest day scored.
    f.serving = r.serving === 1;
    if (r.mae !== null) f.mae.set(r.day, r.mae);
    byForecaster.set(r.forecaster, f);
  }
  const forecasters = [...byForecaster.entries()].map(([forecaster, f]) => {
    const mae = dayList.map((d) => f.mae.get(d) ?? null);
    const rolling = dayList.map((_, i) => {
      const window = mae.slice(Math.max(0, i - ROLLING_DAYS + 1), i + 1).filter((v): v is number => v !== null);
      return mae[i] === null ? null : mean(window);
    });
    return { forecaster, serving: f.serving, naive: forecaster.startsWith('naive'), mae, rolling_mae: rolling };
  });
  forecasters.sort((a, b) => Number(b.serving) - Number(a.serving) || a.forecaster.localeCompare(b.forecaster));
  const alertDays = alerts
    .filter((a) => a.kind === 'degradation' && alertKind(a) === kind)
    .map((a) => {
      const day = (a.data as { day?: unknown } | null)?.day;
      return typeof day === 'string' ? day : localDate(Date.parse(a.at) / 1000, timezone);
    })
    .filter((d) => dayList.includes(d));
  return { kind, days: dayList, forecasters, alert_days: [...new Set(alertDays)] };
}

export function readForecastHistory(db: StoreDb, options: { now: number; days: number; timezone: string }): ForecastHistoryView {
  const { now, days, timezone } = options;
  const end = Math.floor(now / 3600) * 3600;
  const start = end - days * 86_400;
  const hours = hoursBetween(start, end);
  const kinds = KINDS.map((kind) => {
    const spec = FORECAST_KINDS[kind];
    const actual = hourlySeries(db, spec.actual, start, end);
    const forecast = forecastAsOf(db, spec.forecast, start, end, now);
    const errors: number[] = [];
    for (const [h, f] of forecast) {
      const a = actual.get(h);
      if (a !== undefined) errors.push(Math.abs(a - f));
    }
    return {
      kind,
      unit: spec.unit,
      hours,
      actual: hours.map((h) => actual.get(h) ?? null),
      forecast: hours.map((h) => forecast.get(h) ?? null),
      mae: mean(errors),
      matched_hours: errors.length,
    };
  });
  const alerts = readAlerts(db, now - days * 86_400);
  const scores = tableExists(db, 'forecast_scores');
  const today = localDate(now, timezone);
  const dayList = Array.from({ length: days }, (_, i) => addDays(today, i - days));
  return {
    now: iso(now),
    days,
    kinds,
    accuracy: scores ? KINDS.map((k) => accuracy(db, k, dayList, alerts, timezone)) : [],
    alerts,
    scores_table: scores,
  };
}
