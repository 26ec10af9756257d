// Notifications: failed and partial runs, stale data and degraded models. Each alert is a row of the
// `alerts` table (the dashboard reads it) and, unless it repeats a recent subject or the hourly budget is
// spent, a POST to the webhook. The table is the state, so de-duplication survives a worker restart.
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { AppConfig } from '../config/load.js';
import type { Logger } from '../logging.js';
import { sqlitePath } from '../store/db.js';

export type AlertKind = 'degradation' | 'failed-run' | 'partial-run' | 'stale-data';

export interface AlertInput {
  kind: AlertKind;
  /** What repeats are recognised by: the same subject within the window is not sent again. */
  subject: string;
  message: string;
  /** The run's Markdown report, when there is one. */
  reportFile?: string;
  data?: Record<string, unknown>;
}

export type Delivery = 'sent' | 'duplicate' | 'rate-limited' | 'failed' | 'no-webhook';

export interface AlertOutcome {
  delivery: Delivery;
  alertId?: number;
  webhookStatus?: number;
  error?: string;
}

const SCHEMA = `CREATE TABLE IF NOT EXISTS alerts (
  id INTEGER PRIMARY KEY,
  at INTEGER NOT NULL,
  kind TEXT NOT NULL,
  subject TEXT NOT NULL,
  message TEXT NOT NULL,
  data TEXT
)`;

/** The store's SQLite file, or var/alerts.db when the store is not SQLite. */
export function alertsDbPath(config: AppConfig): string {
  return sqlitePath(config.storeUrl, config.root) ?? join(config.dirs.var, 'alerts.db');
}

function openAlerts(config: AppConfig): Database.Database {
  const path = alertsDbPath(config);
  mkdirSync(dirname(path), { recursive: true });
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('busy_timeout = 120000');
  db.exec(SCHEMA);
  db.exec('CREATE INDEX IF NOT EXISTS alerts_subject_at ON alerts(subject, at)');
  return db;
}

/** The Slack (`text`) / Discord (`content`) line: subject, message, and the report's link. */
export function alertText(alert: AlertInput, link?: string): string {
  return [`[home-energy-ai] ${alert.subject}: ${alert.message}`, ...(link ? [`Report: ${link}`] : [])].join('\n');
}

export function reportLink(config: AppConfig, reportFile?: string): string | undefined {
  if (!reportFile) return undefined;
  const base = config.notifications.reportBaseUrl;
  if (!base) return reportFile;
  const name = reportFile.startsWith(config.dirs.reports) ? reportFile.slice(config.dirs.reports.length).replace(/^\/+/, '') : reportFile;
  return `${base.replace(/\/+$/, '')}/${name.split('/').map(encodeURIComponent).join('/')}`;
}

export function webhookUrl(config: AppConfig): string | undefined {
  // freshness.webhook is the older, stale-data-only setting: still honoured when no general webhook is set.
  return config.notifications.webhook?.url ?? config.freshness.webhook;
}

async function post(config: AppConfig, url: string, body: unknown): Promise<number> {
  const hook = config.notifications.webhook;
  const headers: Record<string, string> = { 'content-type': 'application/json', ...(hook?.headers ?? {}) };
  if (hook?.token) headers.authorization = `Bearer ${hook.token}`;
  let last: unknown;
  for (let attempt = 1; attempt <= 3; attempt++) {
    try {
      const res = await fetch(url, { method: 'POST', headers, body: JSON.stringify(body), signal: AbortSignal.timeout(10_000) });
      await res.body?.cancel();
      if (res.ok) return res.status;
      if (res.status >= 400 && res.status < 500 && res.status !== 429) throw Object.assign(new Error(`webhook answered ${res.status}`), { final: true });
      last = new Error(`webhook answered ${res.status}`);
    } catch (err) {
      if ((err as { final?: boolean }).final) throw err;
      last = err;
    }
    await new Promise((r) => setTimeout(r, 500 * attempt));
  }
  throw last instanceof Error ? last : new Error(String(last));
}

export function createNotifyActivities(config: AppConfig, logger: Logger) {
  const log = logger.child({ component: 'notify' });
  return {
    /**
     * Records the alert and sends it, unless the same subject was recorded within the de-duplication
     * window (then nothing is recorded or sent) or the hourly budget is spent (recorded, not sent).
     * Never throws for a webhook that fails: a notification must not fail the run it reports on.
     */
    async notify(alert: AlertInput): Promise<AlertOutcome> {
      const { dedupWindow, maxPerHour } = config.notifications;
      const url = webhookUrl(config);
      const now = Math.floor(Date.now() / 1000);
      const link = reportLink(config, alert.reportFile);
      const db = openAlerts(config);
      try {
        const claim = db
          .transaction((): { duplicate: true } | { duplicate: false; id: number; delivery: Delivery } => {
            const recent = db
              .prepare("SELECT id FROM alerts WHERE subject = ? AND at >= ? AND json_extract(data, '$.delivery') != 'failed' LIMIT 1")
              .get(alert.subject, now - Math.floor(dedupWindow / 1000));
            if (recent) return { duplicate: true };
            const sentLastHour = (
              db.prepare("SELECT COUNT(*) AS n FROM alerts WHERE at >= ? AND json_extract(data, '$.delivery') IN ('sent', 'sending')").get(now - 3600) as { n: number }
            ).n;
            const delivery: Delivery = !url ? 'no-webhook' : sentLastHour >= maxPerHour ? 'rate-limited' : 'sent';
            const data = { ...alert.data, ...(link ? { report: link } : {}), delivery: delivery === 'sent' ? 'sending' : delivery };
            const info = db
              .prepare('INSERT INTO alerts (at, kind, subject, message, data) VALUES (?, ?, ?, ?, ?)')
              .run(now, alert.kind, alert.subject, alert.message, JSON.stringify(data));
            return { duplicate: false, id: Number(info.lastInsertRowid), delivery };
          })
          .immediate();
        const level = alert.kind === 'failed-run' || alert.kind === 'degradation' ? 'error' : 'warn';
        log[level]({ kind: alert.kind, subject: alert.subject, report: link, delivery: claim.duplicate ? 'duplicate' : claim.delivery }, alert.message);
        if (claim.duplicate) return { delivery: 'duplicate' };
        if (claim.delivery !== 'sent' || !url) return { delivery: claim.delivery, alertId: claim.id };
        const text = alertText(alert, link);
        const body = {
          source: 'home-energy-ai',
          kind: alert.kind,
          subject: alert.subject,
          message: alert.message,
          text,
          content: text.length > 2000 ? `${text.slice(0, 1997)}...` : text, // Discord's limit; `text` is whole
          report: link ?? null,
          at: new Date(now * 1000).toISOString(),
          data: alert.data ?? {},
        };
        const setDelivery = db.prepare("UPDATE alerts SET data = json_set(data, '$.delivery', ?) WHERE id = ?");
        try {
          const status = await post(config, url, body);
          setDelivery.run('sent', claim.id);
          return { delivery: 'sent', alertId: claim.id, webhookStatus: status };
        } catch (err) {
          setDelivery.run('failed', claim.id);
          log.error({ err, subject: alert.subject }, 'the webhook did not take the alert');
          return { delivery: 'failed', alertId: claim.id, error: (err as Error).message };
        }
      } finally {
        db.close();
      }
    },
  };
}
