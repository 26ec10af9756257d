// The "data" view: every series' freshness and quality over the last days (last value, age, gaps,
// outliers, a stuck sensor), and every forecast's latest issue.
import type { StoreDb } from './db.js';
import { iso } from './clock.js';
import { median, tableExists } from './queries.js';

const WINDOW_DAYS = 30;
/** A sensor is stuck when its value has not changed for this long (a night of zero PV is not). */
const STUCK_SECONDS = 24 * 3600;
/** Outliers: this many robust standard deviations from the median of the same hour of day. */
const OUTLIER_SCALE = 12;

export interface SeriesQuality {
  name: string;
  rows: number;
  first: string;
  last: string;
  last_value: number;
  resolution_s: number;
  age_s: number;
  max_age_s: number;
  max_age_from: 'freshness config' | 'resolution';
  stale: boolean;
  window_rows: number;
  gaps: number;
  missing: number;
  outliers: number;
  stuck_for_s: number;
  stuck: boolean;
  status: 'ok' | 'stale' | 'suspect';
  problems: string[];
}

export interface DataView {
  now: string;
  window_days: number;
  series: SeriesQuality[];
  forecasts: { name: string; issues: number; last_issued_at: string; age_s: number; model: string | null }[];
}

/** The most common step between consecutive timestamps (a series' resolution). */
function resolution(ts: number[]): number {
  const counts = new Map<number, number>();
  for (let i = 1; i < ts.length; i++) {
    const d = ts[i]! - ts[i - 1]!;
    counts.set(d, (counts.get(d) ?? 0) + 1);
  }
  let best = 3600;
  let n = 0;
  for (const [d, c] of counts) if (c > n || (c === n && d < best)) [best, n] = [d, c];
  return best;
}

function countOutliers(ts: number[], values: number[]): number {
  const level = Math.abs(median(values));
  const byHour = new Map<number, number[]>();
  ts.forEach((t, i) => {
    const h = Math.floor((t % 86_400) / 3600);
    (byHour.get(h) ?? byHour.set(h, []).get(h)!).push(values[i]!);
  });
  const stats = new Map<number, [number, number]>();
  for (const [h, vs] of byHour) {
    const m = median(vs);
    const mad = median(vs.map((v) => Math.abs(v - m)));
    stats.set(h, [m, Math.max(1.4826 * mad, 0.05 * level, 1e-9)]);
  }
  let n = 0;
  ts.forEach((t, i) => {
    const [m, scale] = stats.get(Math.floor((t % 86_400) / 3600))!;
    // Far from the hour's median, and far from it in proportion too (the meter trainer's rule).
    if (Math.abs(values[i]! - m) > OUTLIER_SCALE * scale && Math.abs(values[i]!) > 3 * Math.max(Math.abs(m), 0.1 * level)) n += 1;
  });
  return n;
}

/** How long the latest value has been repeated (0 when the last two differ). */
function stuckFor(ts: number[], values: number[], step: number): number {
  const last = values.length - 1;
  let i = last;
  while (i > 0 && values[i - 1] === values[last]) i -= 1;
  return i === last ? 0 : ts[last]! - ts[i]! + step;
}

export function readDataQuality(db: StoreDb, options: { now: number; maxAges: Record<string, number> }): DataView {
  const { now, maxAges } = options;
  const since = now - WINDOW_DAYS * 86_400;
  const summary = db.prepare('SELECT name, COUNT(*) AS rows, MIN(ts) AS first, MAX(ts) AS last FROM series GROUP BY name ORDER BY name').all() as {
    name: string;
    rows: number;
    first: number;
    last: number;
  }[];
  const windowRows = db.prepare('SELECT ts, value FROM series WHERE name = ? AND ts >= ? ORDER BY ts');
  const lastRow = db.prepare('SELECT value FROM series WHERE name = ? ORDER BY ts DESC LIMIT 1');
  const series = summary.map((s): SeriesQuality => {
    const rows = windowRows.all(s.name, Math.min(since, s.last)) as { ts: number; value: number }[];
    const ts = rows.map((r) => r.ts);
    const values = rows.map((r) => r.value);
    const step = resolution(ts);
    let gaps = 0;
    let missing = 0;
    for (let i = 1; i < ts.length; i++) {
      const d = ts[i]! - ts[i - 1]!;
      // Daily series skip weekends (trading days): a gap is a step of more than three times the usual.
      if (d > step * (step >= 86_400 ? 3 : 1)) {
        gaps += 1;
        missing += Math.round(d / step) - 1;
      }
    }
    // An interval's value is complete at its end: the age counts from there.
    const age = Math.max(0, now - (s.last + step));
    const configured = maxAges[s.name];
    const maxAge = configured ?? Math.max(2 * 3600, 3 * step);
    const outliers = values.length >= 48 ? countOutliers(ts, values) : 0;
    const stuckS = stuckFor(ts, values, step);
    const stuck = stuckS >= STUCK_SECONDS && ts.length >= 3;
    const stale = age > maxAge;
    const problems = [
      ...(stale ? [`no new value for ${Math.round(age / 3600)} h (allowed ${Math.round(maxAge / 3600)} h)`] : []),
      ...(stuck ? [`stuck at ${values[values.length - 1]} for ${Math.round(stuckS / 3600)} h`] : []),
      ...(gaps ? [`${gaps} gap(s), ${missing} value(s) missing in ${WINDOW_DAYS} days`] : []),
      ...(outliers ? [`${outliers} outlier(s)`] : []),
    ];
    return {
      name: s.name,
      rows: s.rows,
      first: iso(s.first),
      last: iso(s.last),
      last_value: (lastRow.get(s.name) as { value: number }).value,
      resolution_s: step,
      age_s: age,
      max_age_s: maxAge,
      max_age_from: configured !== undefined ? 'freshness config' : 'resolution',
      stale,
      window_rows: rows.length,
      gaps,
      missing,
      outliers,
      stuck_for_s: stuckS,
      stuck,
      status: stale ? 'stale' : stuck || gaps || outliers ? 'suspect' : 'ok',
      problems,
    };
  });
  const forecasts = tableExists(db, 'forecasts')
    ? (
        db
          .prepare(
            `SELECT name, COUNT(DISTINCT issued_at) AS issues, MAX(issued_at) AS last,
                    (SELECT model FROM forecasts g WHERE g.name = f.name ORDER BY issued_at DESC LIMIT 1) AS model
             FROM forecasts f GROUP BY name ORDER BY name`,
          )
          .all() as { name: string; issues: number; last: number; model: string | null }[]
      ).map((f) => ({ name: f.name, issues: f.issues, last_issued_at: iso(f.last), age_s: Math.max(0, now - f.last), model: f.model }))
    : [];
  return { now: iso(now), window_days: WINDOW_DAYS, series, forecasts };
}
