// Pure parts of the meter training API: task ids, the job's message, stage-time estimates, CLI meter lists.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { StageTimes } from '../../src/api/status.js';
import { jobMessage, makeTaskId, parseTaskId } from '../../src/contracts/trainings.js';
import { parseMeters } from '../../src/cli/trainMeters.js';
import { tmpDir } from '../helpers/env.js';

const RUN = '01a1fca7-1063-75d6-b4e2-369daf306512';

test('task ids round-trip and reject anything that is not one', () => {
  const id = makeTaskId('heat', 'meter.a-1', RUN);
  expect(parseTaskId(id)).toEqual({ meterType: 'heat', meterId: 'meter.a-1', runId: RUN, workflowId: 'meter-training:heat:meter.a-1' });
  for (const bad of ['', 'heat:meter', `heat:../x:${RUN}`, `heat:a..b:${RUN}`, `Heat:m:${RUN}`, 'heat:m:not-a-uuid', `heat:m:${RUN}:x`]) {
    expect(parseTaskId(bad)).toBeUndefined();
  }
});

test("the job's own message is taken from the runner's failure text", () => {
  const text = 'job meter_train exited with code 65\n--- stderr (last lines) ---\n2026 | INFO | x | fetching | task_id=t\nDataError: meter unknown: no readings';
  expect(jobMessage(text)).toBe('meter unknown: no readings');
  expect(jobMessage('job meter_train was killed by SIGKILL')).toBe('job meter_train was killed by SIGKILL');
});

test('estimated completion follows the measured stage times', () => {
  const dir = tmpDir();
  const times = StageTimes.forDataDir(dir);
  const now = new Date('2026-01-01T00:00:10Z');
  expect(times.estimate(now, undefined, undefined)).toBeNull(); // nothing measured yet
  mkdirSync(join(dir, 'meters'));
  const stages = { connecting: 1, fetching_data: 2, validating_data: 1, training_model: 10, saving_model: 1 };
  writeFileSync(
    join(dir, 'meters', 'stage_times.json'),
    JSON.stringify({ stages: Object.fromEntries(Object.entries(stages).map(([k, v]) => [k, { mean_seconds: v }])) }),
  );
  // Not started: all 15 s ahead.
  expect(times.estimate(now, undefined, undefined)).toBe('2026-01-01T00:00:25.000Z');
  // Started at 00:00:05, training (ends at 5 + 1 + 2 + 1 + 10 = 19 s), then 1 s of saving.
  const start = new Date('2026-01-01T00:00:05Z');
  expect(times.estimate(now, 'training_model', start)).toBe('2026-01-01T00:00:20.000Z');
  // Overdue: training should have ended at 19 s; it is 30 s now, so it ends now at the earliest.
  expect(times.estimate(new Date('2026-01-01T00:00:30Z'), 'training_model', start)).toBe('2026-01-01T00:00:31.000Z');
});

test('train-meters reads type:id, bare ids of --type, and reports each bad one', () => {
  const types = ['electricity', 'heat'];
  expect(parseMeters(['heat:m1', 'm2', 'heat:m1'], 'electricity', types)).toEqual({
    meters: [
      { meterType: 'heat', meterId: 'm1' },
      { meterType: 'electricity', meterId: 'm2' },
    ],
    problems: [],
  });
  const bad = parseMeters(['steam:m1', 'heat:../x', 'heat:a:b'], 'electricity', types);
  expect(bad.meters).toEqual([]);
  expect(bad.problems).toHaveLength(3);
  expect(bad.problems[0]).toContain('steam:m1');
});
