// `hea accuracy`: each forecaster's realised error per day (the forecast_scores table written by the
// daily pipeline's accuracy step, jobs/accuracy/score.py), and per kind the window's summary against naive.
import { Command } from 'commander';
import { z } from 'zod';
import type { StoreDb } from '../store/db.js';
import { formatTable } from './table.js';
import { usageError } from './withApp.js';

export interface ScoreRow {
  kind: string;
  forecaster: string;
  day: string;
  mae: number | null;
  rmse: number | null;
  n: number;
  serving: boolean;
}

export interface ForecasterSummary {
  kind: string;
  forecaster: string;
  serving: boolean;
  days: number;
  /** Hour-weighted mean of the daily MAEs over the window. */
  mae: number | null;
  /** mae / the best naive forecaster's mae (below 1: better than naive). */
  vsBestNaive: number | null;
}

const optionsSchema = z.object({
  days: z.coerce.number().int('days: a whole number of days').min(1, 'days: at least 1').max(3660, 'days: at most 3660'),
  kind: z.enum(['price', 'demand', 'solar'], { message: 'kind: one of price, demand, solar' }).optional(),
  json: z.boolean().optional(),
});

/** The scores of the last `days` scored days (up to the newest), optionally of one kind. */
export function readScores(db: StoreDb, days: number, kind?: string): ScoreRow[] {
  const exists = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'forecast_scores'").get();
  if (!exists) return [];
  const latest = (db.prepare('SELECT MAX(day) AS d FROM forecast_scores WHERE (? IS NULL OR kind = ?)').get(kind ?? null, kind ?? null) as { d: string | null }).d;
  if (!latest) return [];
  const first = new Date(Date.parse(`${latest}T00:00:00Z`) - (days - 1) * 86_400_000).toISOString().slice(0, 10);
  const rows = db
    .prepare(
      `SELECT kind, forecaster, day, mae, rmse, n, serving FROM forecast_scores
       WHERE day BETWEEN ? AND ? AND (? IS NULL OR kind = ?) ORDER BY day DESC, kind, serving DESC, mae`,
    )
    .all(first, latest, kind ?? null, kind ?? null) as (Omit<ScoreRow, 'serving'> & { serving: number })[];
  return rows.map((r) => ({ ...r, serving: r.serving === 1 }));
}

export function summarizeScores(rows: ScoreRow[]): ForecasterSummary[] {
  const groups = new Map<string, ScoreRow[]>();
  for (const r of rows) {
    const key = `${r.kind}\u0000${r.forecaster}`;
    groups.set(key, [...(groups.get(key) ?? []), r]);
  }
  const out: ForecasterSummary[] = [...groups.values()].map((g) => {
    const scored = g.filter((r) => r.mae !== null && r.n > 0);
    const n = scored.reduce((a, r) => a + r.n, 0);
    return {
      kind: g[0]!.kind,
      forecaster: g[0]!.forecaster,
      serving: g.some((r) => r.serving),
      days: scored.length,
      mae: n > 0 ? scored.reduce((a, r) => a + (r.mae as number) * r.n, 0) / n : null,
      vsBestNaive: null,
    };
  });
  for (const s of out) {
    const naive = out.filter((o) => o.kind === s.kind && o.forecaster.startsWith('naive_') && o.mae !== null).map((o) => o.mae as number);
    const best = naive.length ? Math.min(...naive) : undefined;
    s.vsBestNaive = s.mae !== null && best ? s.mae / best : null;
  }
  return out.sort((a, b) => a.kind.localeCompare(b.kind) || Number(b.serving) - Number(a.serving) || (a.mae ?? Infinity) - (b.mae ?? Infinity));
}

/** The unit of the errors of each kind (as the store holds the series). */
export const UNITS: Record<string, string> = { price: 'EUR/MWh', demand: 'kWh/h', solar: 'kWh/h' };

const num = (x: number | null, digits = 4) => (x === null ? '-' : String(Number(x.toPrecision(digits))));

export function buildAccuracyCommand(configFile: () => string | undefined): Command {
  return new Command('accuracy')
    .description("each forecaster's realised error per day (serving model and naive ones), and the window's summary")
    .option('--days <n>', 'the last N scored days', '7')
    .option('--kind <kind>', 'price, demand or solar (default: all)')
    .option('--json', 'as JSON: {scores, summary}')
    .action(async (raw: Record<string, unknown>) => {
      const parsed = optionsSchema.safeParse(raw);
      if (!parsed.success) usageError(parsed.error.issues.map((i) => i.message).join('; '));
      const opts = parsed.data;
      const config = (await import('../config/load.js')).loadConfigOrExit(configFile());
      const { openStoreReadOnly } = await import('../store/db.js'); // a native module: loaded when needed
      const db = openStoreReadOnly(config.storeUrl, config.root);
      const scores = db ? readScores(db, opts.days, opts.kind) : [];
      db?.close();
      const summary = summarizeScores(scores);
      if (opts.json) {
        process.stdout.write(`${JSON.stringify({ scores, summary }, null, 2)}\n`);
        return;
      }
      if (scores.length === 0) {
        process.stdout.write('no forecast scores yet: the daily pipeline scores yesterday once its actuals are in (step "forecast accuracy")\n');
        return;
      }
      process.stdout.write(
        `${formatTable(
          ['day', 'kind', 'forecaster', 'MAE', 'RMSE', 'unit', 'hours'],
          scores.map((s) => [s.day, s.kind, `${s.forecaster}${s.serving ? ' (serving)' : ''}`, num(s.mae), num(s.rmse), UNITS[s.kind] ?? '', s.n]),
        )}\n\n${formatTable(
          ['kind', 'forecaster', 'days', 'MAE (hour-weighted)', 'unit', 'vs best naive'],
          summary.map((s) => [
            s.kind,
            `${s.forecaster}${s.serving ? ' (serving)' : ''}`,
            s.days,
            num(s.mae),
            UNITS[s.kind] ?? '',
            s.vsBestNaive === null ? '-' : `${num(s.vsBestNaive, 3)}x`,
          ]),
        )}\n`,
      );
    });
}
