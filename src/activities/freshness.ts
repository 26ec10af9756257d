import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { AppConfig } from '../config/load.js';
import type { FreshnessConfig } from '../config/schedules.js';
import { FLOWS } from '../contracts/flows.js';
import type { DatasetFreshness, SeriesStatus } from '../contracts/freshness.js';
import type { Logger } from '../logging.js';
import { createNotifyActivities } from './notify.js';

const hours = (ms: number) => Math.round((ms / 3_600_000) * 100) / 100;

/** Pure: the verdict for every configured dataset, given what the store holds and the files' times. */
export function evaluateFreshness(
  rules: FreshnessConfig['datasets'],
  series: Record<string, SeriesStatus> | undefined,
  fileTimes: Record<string, number | undefined>,
  now: number,
): DatasetFreshness[] {
  return Object.entries(rules).map(([dataset, rule]) => {
    const target = rule.series ?? rule.file ?? '';
    const base = {
      dataset,
      target,
      max_age_hours: hours(rule.maxAge),
      ...(rule.remediate ? { remediate: { flow: rule.remediate, workflow: FLOWS[rule.remediate].workflow } } : {}),
    };
    let latestMs: number | undefined;
    if (rule.series !== undefined) {
      if (series === undefined) return { ...base, is_fresh: false, unknown: true, reason: 'unknown: the data store status could not be read' };
      const s = series[rule.series];
      if (!s || !s.rows || !s.latest) return { ...base, is_fresh: false, reason: `series ${rule.series} has no data` };
      latestMs = Date.parse(s.latest);
      if (Number.isNaN(latestMs)) return { ...base, is_fresh: false, reason: `series ${rule.series} has an unreadable timestamp "${s.latest}"` };
    } else {
      latestMs = fileTimes[target];
      if (latestMs === undefined) return { ...base, is_fresh: false, reason: `file ${target} does not exist` };
    }
    const age = now - latestMs;
    const latest = new Date(latestMs).toISOString();
    if (age > rule.maxAge) {
      return { ...base, latest, age_hours: hours(age), is_fresh: false, reason: `latest data is ${hours(age)} h old, more than ${hours(rule.maxAge)} h` };
    }
    return { ...base, latest, age_hours: hours(Math.max(0, age)), is_fresh: true, reason: `latest data is ${hours(Math.max(0, age))} h old` };
  });
}

export function createFreshnessActivities(config: AppConfig, logger: Logger) {
  const log = logger.child({ component: 'freshness' });
  const { notify } = createNotifyActivities(config, logger);
  return {
    async checkFreshness(series: Record<string, SeriesStatus> | undefined): Promise<DatasetFreshness[]> {
      const fileTimes: Record<string, number | undefined> = {};
      for (const rule of Object.values(config.freshness.datasets)) {
        if (rule.file === undefined) continue;
        fileTimes[rule.file] = await stat(resolve(config.root, rule.file)).then(
          (s) => s.mtimeMs,
          () => undefined,
        );
      }
      return evaluateFreshness(config.freshness.datasets, series, fileTimes, Date.now());
    },

    /** Logs every stale dataset and sends one alert listing them (src/activities/notify.ts: webhook, alerts table). */
    async sendFreshnessAlert(stale: DatasetFreshness[]): Promise<{ logged: number; delivery?: string; webhookStatus?: number }> {
      for (const d of stale) log.warn({ dataset: d.dataset, target: d.target, reason: d.reason }, 'stale data');
      if (stale.length === 0) return { logged: 0 };
      const out = await notify({
        kind: 'stale-data',
        subject: `stale data: ${stale.map((d) => d.dataset).join(', ')}`,
        message: stale.map((d) => `${d.dataset} (${d.reason})`).join('; '),
        data: { datasets: stale },
      });
      return { logged: stale.length, delivery: out.delivery, ...(out.webhookStatus ? { webhookStatus: out.webhookStatus } : {}) };
    },
  };
}
