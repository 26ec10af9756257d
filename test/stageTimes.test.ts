// A meter training's estimated completion from measured stage durations (src/api/status.ts StageTimes),
// without a server: the stage_times.json the job writes, and the clock given.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { StageTimes } from '../src/api/status.js';
import { tmpDir } from './helpers/env.js';

const NOW = new Date('2026-03-01T12:00:00Z');
const at = (seconds: number) => new Date(NOW.getTime() + seconds * 1000).toISOString();

/** Every stage measured: 10, 20, 30, 40 and 50 s (150 s in all). */
const MEASURED = { connecting: 10, fetching_data: 20, validating_data: 30, training_model: 40, saving_model: 50 };

function stageTimes(stages: Record<string, number>): StageTimes {
  const file = join(tmpDir(), 'stage_times.json');
  writeFileSync(file, JSON.stringify({ stages: Object.fromEntries(Object.entries(stages).map(([s, mean]) => [s, { mean_seconds: mean }])) }));
  return new StageTimes(file);
}

test('no file yet: no estimate', () => {
  expect(new StageTimes(join(tmpDir(), 'none.json')).estimate(NOW, undefined, undefined)).toBeNull();
});

test('a stage never measured: no estimate', () => {
  const { saving_model: _unmeasured, ...four } = MEASURED;
  expect(stageTimes(four).estimate(NOW, 'connecting', NOW)).toBeNull();
});

test('a job not started yet: every stage is still ahead', () => {
  expect(stageTimes(MEASURED).estimate(NOW, undefined, undefined)).toBe(at(150));
});

test('mid-job: the current stage ends when its measured time says, then the later stages follow', () => {
  // Started 5 s ago, now fetching: connecting (10) + fetching (20) end at +25 s, then 30 + 40 + 50.
  expect(stageTimes(MEASURED).estimate(NOW, 'fetching_data', new Date(NOW.getTime() - 5_000))).toBe(at(25 + 120));
});

test('an overdue stage ends now at the earliest: the estimate never lies in the past', () => {
  // Started 100 s ago and still fetching (expected done at +30 s): fetching ends now, 120 s to go.
  expect(stageTimes(MEASURED).estimate(NOW, 'fetching_data', new Date(NOW.getTime() - 100_000))).toBe(at(120));
});

test('an unknown stage counts as not started', () => {
  expect(stageTimes(MEASURED).estimate(NOW, 'warming_up', NOW)).toBe(at(150));
});
