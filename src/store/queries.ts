// Small read helpers over the store's tables (schema: docs/data-store.md), shared by the dashboard's views.
import type { StoreDb } from './db.js';

export function tableExists(db: StoreDb, name: string): boolean {
  return db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").get(name) !== undefined;
}

/** Hourly means of a series in [start, end) (15-minute prices become hours), by hour start. */
export function hourlySeries(db: StoreDb, name: string, start: number, end: number): Map<number, number> {
  const rows = db.prepare('SELECT (ts / 3600) * 3600 AS h, AVG(value) AS v FROM series WHERE name = ? AND ts >= ? AND ts < ? GROUP BY h').all(name, start, end) as {
    h: number;
    v: number;
  }[];
  return new Map(rows.map((r) => [r.h, r.v]));
}

/**
 * A forecast as it stood: for each target hour in [start, end), the value of the newest issue made at or
 * before min(target, asOf). For past hours that is what was known before the hour; for future ones, the
 * latest forecast.
 */
export function forecastAsOf(db: StoreDb, name: string, start: number, end: number, asOf: number): Map<number, number> {
  const rows = db
    .prepare(
      `SELECT h, v FROM (
         SELECT (ts / 3600) * 3600 AS h, value AS v,
                ROW_NUMBER() OVER (PARTITION BY ts ORDER BY issued_at DESC) AS rn
         FROM forecasts WHERE name = ? AND ts >= ? AND ts < ? AND issued_at <= MIN(ts, ?)
       ) WHERE rn = 1`,
    )
    .all(name, start, end, asOf) as { h: number; v: number }[];
  const out = new Map<number, number>();
  // Several sub-hourly targets in one hour: their mean.
  const sums = new Map<number, [number, number]>();
  for (const r of rows) {
    const s = sums.get(r.h) ?? [0, 0];
    sums.set(r.h, [s[0] + r.v, s[1] + 1]);
  }
  for (const [h, [sum, n]] of sums) out.set(h, sum / n);
  return out;
}

/** Hour starts from start (inclusive) to end (exclusive). */
export function hoursBetween(start: number, end: number): number[] {
  const out: number[] = [];
  for (let t = Math.ceil(start / 3600) * 3600; t < end; t += 3600) out.push(t);
  return out;
}

export const at = (map: Map<number, number>, hours: number[]): (number | null)[] => hours.map((h) => map.get(h) ?? null);

export function mean(values: number[]): number | null {
  return values.length ? values.reduce((a, b) => a + b, 0) / values.length : null;
}

export function quantile(sorted: number[], q: number): number {
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}

export function median(values: number[]): number {
  return quantile(
    [...values].sort((a, b) => a - b),
    0.5,
  );
}
