// Run reports pile up (about 200 a day with the shipped schedules): `hea start` keeps the last N days.
import { readdirSync, rmdirSync, statSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import type { App } from './app.js';

const DAY_MS = 86_400_000;

/** Deletes files under `dir` last modified more than `keepDays` ago (and folders left empty); returns how many. */
export function pruneReports(dir: string, keepDays: number, now = Date.now()): number {
  const cutoff = now - keepDays * DAY_MS;
  let removed = 0;
  const walk = (folder: string): boolean => {
    let entries;
    try {
      entries = readdirSync(folder, { withFileTypes: true });
    } catch {
      return false; // no reports yet
    }
    let left = entries.length;
    for (const entry of entries) {
      const path = join(folder, entry.name);
      if (entry.isDirectory()) {
        if (walk(path)) {
          rmdirSync(path);
          left -= 1;
        }
      } else if (entry.isFile() && statSync(path).mtimeMs < cutoff) {
        unlinkSync(path);
        removed += 1;
        left -= 1;
      }
    }
    return left === 0;
  };
  walk(dir);
  return removed;
}

/** Prunes now and then every six hours while the app runs (the timer does not keep the process alive). */
export function keepReportsPruned(app: Pick<App, 'config' | 'logger'>): () => void {
  const { reports } = app.config.dirs;
  const keepDays = app.config.paths.reportsKeepDays;
  const prune = () => {
    try {
      const removed = pruneReports(reports, keepDays);
      if (removed > 0) app.logger.info({ removed, keepDays, dir: reports }, 'deleted old run reports');
    } catch (err) {
      app.logger.warn({ err }, 'could not delete old run reports');
    }
  };
  prune();
  const timer = setInterval(prune, 6 * 3_600_000);
  timer.unref();
  return () => clearInterval(timer);
}
