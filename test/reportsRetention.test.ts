// Old run reports are deleted after paths.reportsKeepDays; newer ones, and other days' folders, stay.
import { existsSync, mkdirSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseConfig } from '../src/config/load.js';
import { pruneReports } from '../src/reportsRetention.js';
import { tmpDir } from './helpers/env.js';

const DAY = 86_400_000;

function file(path: string, ageDays: number, now: number): string {
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(path, '# report\n');
  const t = (now - ageDays * DAY) / 1000;
  utimesSync(path, t, t);
  return path;
}

test('reports older than the kept days go, with folders left empty; the rest stays', () => {
  const dir = tmpDir();
  const now = Date.now();
  const old = file(join(dir, 'dailyEnergyPipeline-2026-01-01.md'), 40, now);
  const oldChart = file(join(dir, 'charts', 'old', 'prices.svg'), 31, now);
  const recent = file(join(dir, 'dailyEnergyPipeline-2026-02-05.md'), 29, now);
  const recentChart = file(join(dir, 'charts', 'new', 'prices.svg'), 1, now);
  expect(pruneReports(dir, 30, now)).toBe(2);
  expect([existsSync(old), existsSync(oldChart), existsSync(join(dir, 'charts', 'old'))]).toEqual([false, false, false]);
  expect([existsSync(recent), existsSync(recentChart)]).toEqual([true, true]);
  expect(pruneReports(dir, 30, now)).toBe(0);
  expect(pruneReports(join(dir, 'missing'), 30, now)).toBe(0);
});

test('paths.reportsKeepDays: 30 by default, configurable, at least 1', () => {
  expect(parseConfig('jobs: {}\n', 'x.yaml', { env: {} }).paths.reportsKeepDays).toBe(30);
  expect(parseConfig('jobs: {}\npaths: { reportsKeepDays: 7 }\n', 'x.yaml', { env: {} }).paths.reportsKeepDays).toBe(7);
  expect(() => parseConfig('jobs: {}\npaths: { reportsKeepDays: 0 }\n', 'x.yaml', { env: {} })).toThrow(/paths.reportsKeepDays/);
});
