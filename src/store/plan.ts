import type { StoreDb } from './db.js';

/**
 * The battery plan as the home sees it (GET /plan, GET /plan/now, the MQTT sensors), read from the store's
 * `plans` table that jobs/rl/run_production_agent.py writes: one row per hour and issue, the hour's columns
 * as JSON. Plans written before a column existed read it as null.
 */
export interface PlanHour {
  /** Interval start, UTC ISO 8601. */
  ts: string;
  action: string | null;
  power_kw: number | null;
  energy_kwh: number | null;
  soc_kwh: number | null;
  soc_pct: number | null;
  price_buy_eur_kwh: number | null;
  price_sell_eur_kwh: number | null;
  cost_eur: number | null;
  cost_no_battery_eur: number | null;
  why: string | null;
  mode: string | null;
}

export interface Plan {
  issued_at: string;
  controller: string;
  soc_source: string | null;
  start: string;
  end: string;
  expected_cost_eur: number;
  expected_cost_no_battery_eur: number;
  expected_saving_eur: number;
  expected_saving_eur_per_month: number;
  hours: PlanHour[];
}

export interface PlanNow {
  issued_at: string;
  controller: string;
  soc_source: string | null;
  expected_saving_eur: number;
  /** The hour under way, from the latest plan that covers it (a re-plan starts at the next full hour). */
  now: PlanHour | null;
  next: PlanHour | null;
}

/** An average month, in hours (jobs/battery/tariff.py's HOURS_PER_MONTH). */
const HOURS_PER_MONTH = (365.25 * 24) / 12;

interface Row {
  issued_at: number;
  ts: number;
  controller: string;
  data: string;
}

const iso = (epochS: number) => new Date(epochS * 1000).toISOString().replace('.000Z', 'Z');

function num(value: unknown): number | null {
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}

function str(value: unknown): string | null {
  return typeof value === 'string' ? value : null;
}

function hour(row: Row): PlanHour & { soc_source: string | null } {
  const d = JSON.parse(row.data) as Record<string, unknown>;
  return {
    ts: iso(row.ts),
    action: str(d.action),
    power_kw: num(d.power_kw ?? d.battery_kw),
    energy_kwh: num(d.soc_kwh) === null ? null : num(d.energy_kwh),
    soc_kwh: num(d.soc_kwh),
    soc_pct: num(d.soc_pct),
    price_buy_eur_kwh: num(d.price_buy_eur_kwh ?? d.price_buy),
    price_sell_eur_kwh: num(d.price_sell_eur_kwh ?? d.price_sell),
    cost_eur: num(d.cost_eur),
    cost_no_battery_eur: num(d.cost_no_battery_eur),
    why: str(d.why),
    mode: str(d.mode),
    soc_source: str(d.soc_source),
  };
}

function hasPlansTable(db: StoreDb): boolean {
  return Boolean(db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'plans'").get());
}

function round(x: number, digits = 3): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

/** The latest plan (or the latest issued at or before `issuedBefore`), or undefined when there is none. */
export function readLatestPlan(db: StoreDb, issuedBefore?: Date): Plan | undefined {
  if (!hasPlansTable(db)) return undefined;
  const latest = (
    issuedBefore
      ? db.prepare('SELECT MAX(issued_at) AS issued FROM plans WHERE issued_at <= ?').get(Math.floor(issuedBefore.getTime() / 1000))
      : db.prepare('SELECT MAX(issued_at) AS issued FROM plans').get()
  ) as { issued: number | null };
  if (latest.issued === null) return undefined;
  const rows = db.prepare('SELECT issued_at, ts, controller, data FROM plans WHERE issued_at = ? ORDER BY ts').all(latest.issued) as Row[];
  if (rows.length === 0) return undefined;
  const hours = rows.map(hour);
  const cost = hours.reduce((s, h) => s + (h.cost_eur ?? 0), 0);
  const costNb = hours.reduce((s, h) => s + (h.cost_no_battery_eur ?? 0), 0);
  const saving = costNb - cost;
  return {
    issued_at: iso(latest.issued),
    controller: rows[0]!.controller,
    soc_source: hours[0]!.soc_source,
    start: hours[0]!.ts,
    end: iso(rows[rows.length - 1]!.ts + 3600),
    expected_cost_eur: round(cost),
    expected_cost_no_battery_eur: round(costNb),
    expected_saving_eur: round(saving),
    expected_saving_eur_per_month: round((saving * HOURS_PER_MONTH) / hours.length, 2),
    hours: hours.map(({ soc_source: _s, ...h }) => h),
  };
}

/** The newest planned row for the hour starting at `tsS` (epoch seconds), from any plan. */
function latestRowFor(db: StoreDb, tsS: number): PlanHour | null {
  const row = db.prepare('SELECT issued_at, ts, controller, data FROM plans WHERE ts = ? ORDER BY issued_at DESC LIMIT 1').get(tsS) as Row | undefined;
  if (!row) return null;
  const { soc_source: _s, ...h } = hour(row);
  return h;
}

/** What the battery does in the hour under way at `at` and in the next one; undefined without a plan. */
export function readPlanNow(db: StoreDb, at: Date): PlanNow | undefined {
  const plan = readLatestPlan(db);
  if (!plan) return undefined;
  const hourStart = Math.floor(at.getTime() / 3_600_000) * 3600;
  return {
    issued_at: plan.issued_at,
    controller: plan.controller,
    soc_source: plan.soc_source,
    expected_saving_eur: plan.expected_saving_eur,
    now: latestRowFor(db, hourStart),
    next: latestRowFor(db, hourStart + 3600),
  };
}
