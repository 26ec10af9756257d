// The meter data both benches train on: simulated meters backfilled into a throwaway store, with the job
// environment of bench/meters.ts (the same HEA_NOW, history and meter names), so ours and the peer train
// the same meters on the same readings.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

export const METER_NOW = '2025-11-03T10:30:00Z';
export const METER_TYPES = ['electricity', 'heat', 'water', 'gas'] as const;

export interface Meter {
  meterType: string;
  meterId: string;
}

/** bench/meters.ts's bulk list: `meter_bulk_<i>`, the four types in turn. */
export function bulkMeters(n: number, prefix = 'meter_bulk_'): Meter[] {
  return Array.from({ length: n }, (_, i) => ({ meterType: METER_TYPES[i % METER_TYPES.length]!, meterId: `${prefix}${i}` }));
}

/** The environment a meter_train job gets: store and models under `dir`. */
export function meterJobEnv(dir: string, days = 365): Record<string, string> {
  return { HEA_DATA_DIR: join(dir, 'data'), HEA_MODELS_DIR: join(dir, 'models'), HEA_NOW: METER_NOW, HEA_METER_HISTORY_DAYS: String(days) };
}

/** Backfill the meters' history into the store of `env` (one Python process, the job's own read path). */
export function backfillMeters(root: string, python: string, env: Record<string, string>, meters: Meter[]): void {
  execFileSync(python, [join(root, 'bench', 'peers', 'meter_fixture.py'), ...meters.map((m) => `${m.meterType}/${m.meterId}`)], {
    cwd: root,
    env: { ...process.env, ...env, PYTHONPATH: root },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
}
