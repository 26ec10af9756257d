// The dashboard's store queries on small hand-made stores: local days across daylight-saving changes,
// forecasts as they stood before each hour, and the data-quality rules (gaps, outliers, stuck, stale).
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { localMidnight, nowSeconds } from '../../src/store/clock.js';
import { openStoreReadOnly, type StoreDb } from '../../src/store/db.js';
import { forecastAsOf } from '../../src/store/queries.js';
import { readDataQuality } from '../../src/store/seriesQuality.js';
import { readToday } from '../../src/store/today.js';
import { readForecastHistory } from '../../src/store/forecastHistory.js';
import { tmpDir } from '../helpers/env.js';

const H = 3600;
const at = (iso: string) => Date.parse(iso) / 1000;

/** A store file with the jobs' tables (jobs/common/store.py), filled by `fill`, opened read-only. */
function store(fill: (db: Database.Database) => void): StoreDb {
  const file = join(tmpDir('hea-dash-store-'), 'energy.db');
  const db = new Database(file);
  db.exec(`
    CREATE TABLE series (name TEXT NOT NULL, ts INTEGER NOT NULL, value REAL NOT NULL, updated_at INTEGER NOT NULL, PRIMARY KEY (name, ts));
    CREATE TABLE forecasts (name TEXT NOT NULL, issued_at INTEGER NOT NULL, ts INTEGER NOT NULL, value REAL NOT NULL, model TEXT, PRIMARY KEY (name, issued_at, ts));
    CREATE TABLE plans (issued_at INTEGER NOT NULL, ts INTEGER NOT NULL, controller TEXT NOT NULL, data TEXT NOT NULL, PRIMARY KEY (issued_at, ts));`);
  db.transaction(() => fill(db))(); // one commit: row-by-row commits each wait for the disk
  db.close();
  return openStoreReadOnly(`sqlite:///${file}`, '/')!;
}

function series(db: Database.Database, name: string, start: number, values: number[], step = H) {
  const insert = db.prepare('INSERT INTO series VALUES (?, ?, ?, 0)');
  values.forEach((v, i) => insert.run(name, start + i * step, v));
}

test('local midnights across daylight-saving changes; HEA_NOW is the clock', () => {
  expect(localMidnight('2026-03-29', 'Europe/Stockholm')).toBe(at('2026-03-28T23:00:00Z'));
  expect(localMidnight('2026-03-30', 'Europe/Stockholm')).toBe(at('2026-03-29T22:00:00Z')); // a 23-hour day
  expect(localMidnight('2026-10-25', 'Europe/Stockholm')).toBe(at('2026-10-24T22:00:00Z'));
  expect(localMidnight('2026-10-26', 'Europe/Stockholm')).toBe(at('2026-10-25T23:00:00Z')); // a 25-hour day
  expect(nowSeconds({ HEA_NOW: '2026-06-15T08:30:00Z' })).toBe(at('2026-06-15T08:30:00Z'));
});

test('today and tomorrow on the autumn change are 25 + 24 hours; no plan and no forecasts read as empty', () => {
  const db = store(() => undefined);
  const view = readToday(db, { now: at('2026-10-25T10:00:00Z'), timezone: 'Europe/Stockholm' });
  expect(view.hours).toHaveLength(49);
  expect(view.days).toEqual(['2026-10-25', '2026-10-26']);
  expect(view.plan).toBeNull();
  expect(view.totals).toEqual([]);
  expect(view.price.band).toBeNull();
  expect(view.price.published.every((v) => v === null)).toBe(true);
});

test('a past hour shows the forecast issued before it, never a later one', () => {
  const t = at('2026-06-10T12:00:00Z');
  const db = store((d) => {
    const f = d.prepare('INSERT INTO forecasts VALUES (?, ?, ?, ?, ?)');
    f.run('forecast.price', t - 12 * H, t, 50, 'a');
    f.run('forecast.price', t + H, t, 99, 'b'); // made after the hour: hindsight
    f.run('forecast.price', t + H, t + 2 * H, 70, 'b');
  });
  const seen = forecastAsOf(db, 'forecast.price', t, t + 3 * H, t + 10 * H);
  expect([...seen.entries()]).toEqual([
    [t, 50],
    [t + 2 * H, 70],
  ]);
});

test('data quality: a gap, an outlier, a stuck sensor and a stale series are each named', () => {
  const now = at('2026-06-15T08:30:00Z');
  const start = now - 10 * 86_400;
  const hours = 10 * 24 - 1; // up to the hour that ended at 08:00
  const wave = (i: number) => 1 + Math.sin((2 * Math.PI * i) / 24) * 0.5 + (i % 7) * 0.01;
  const db = store((d) => {
    series(
      d,
      'home.consumption',
      start - 1800,
      Array.from({ length: hours }, (_, i) => wave(i)),
    );
    const gappy = Array.from({ length: hours }, (_, i) => wave(i));
    series(d, 'meter.gappy', start - 1800, gappy.slice(0, 100));
    series(d, 'meter.gappy', start - 1800 + 106 * H, gappy.slice(106));
    series(
      d,
      'meter.spiky',
      start - 1800,
      Array.from({ length: hours }, (_, i) => (i === 150 ? 80 : wave(i))),
    );
    series(
      d,
      'meter.flat',
      start - 1800,
      Array.from({ length: hours }, (_, i) => (i < hours - 30 ? wave(i) : 2)),
    );
    series(
      d,
      'weather.temperature',
      start - 1800,
      Array.from({ length: hours - 12 }, (_, i) => wave(i)),
    );
  });
  const view = readDataQuality(db, { now, maxAges: { 'weather.temperature': 3 * H } });
  const by = Object.fromEntries(view.series.map((s) => [s.name, s]));
  expect(by['home.consumption']).toMatchObject({ status: 'ok', gaps: 0, outliers: 0, stuck: false, stale: false, resolution_s: H });
  expect(by['meter.gappy']).toMatchObject({ status: 'suspect', gaps: 1, missing: 6 });
  expect(by['meter.spiky']).toMatchObject({ status: 'suspect', outliers: 1 });
  expect(by['meter.flat']).toMatchObject({ status: 'suspect', stuck: true, stuck_for_s: 30 * H });
  expect(by['weather.temperature']).toMatchObject({ status: 'stale', stale: true, max_age_from: 'freshness config', max_age_s: 3 * H });
  expect(by['weather.temperature']!.problems[0]).toMatch(/no new value for 14 h \(allowed 3 h\)/);
});

test('forecast history without scores or alerts tables: actuals and forecasts, no accuracy', () => {
  const now = at('2026-06-15T08:30:00Z');
  const db = store((d) =>
    series(
      d,
      'solar.production',
      now - 3 * 86_400,
      Array.from({ length: 72 }, (_, i) => i % 24),
    ),
  );
  const view = readForecastHistory(db, { now, days: 7, timezone: 'Europe/Stockholm' });
  expect(view.scores_table).toBe(false);
  expect(view.accuracy).toEqual([]);
  const solar = view.kinds.find((k) => k.kind === 'solar')!;
  expect(solar.hours).toHaveLength(7 * 24);
  expect(solar.actual.filter((v) => v !== null)).toHaveLength(72);
  expect(solar.mae).toBeNull();
});
