// Every recorded history (test/histories/*.json, from scripts/record-histories.ts) replays against the
// current workflow code. A change that would break workflows already running in production (a new
// activity call, a reordered step, a removed query) fails here with a non-determinism error; make such a
// change with patched()/deprecatePatch (docs/operations.md) and record a new history next to the old.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from '@temporalio/worker';
import { ROOT, workflowBundle } from './helpers/env.js';

const DIR = join(ROOT, 'test', 'histories');
const files = readdirSync(DIR).filter((f) => f.endsWith('.json')).sort();

test('a history is recorded for every workflow type the worker registers', async () => {
  const source = readFileSync(join(ROOT, 'src', 'workflows', 'index.ts'), 'utf8');
  const exported = [...source.matchAll(/export \{ (\w+) \}/g)].map((m) => m[1]!).sort();
  const recorded = files.map((f) => f.split('.')[0]!);
  expect(exported.filter((w) => !recorded.includes(w))).toEqual([]);
});

test('every recorded history replays against the current workflow code', async () => {
  const bundle = await workflowBundle();
  const histories = files.map((f) => ({ workflowId: f, history: JSON.parse(readFileSync(join(DIR, f), 'utf8')) as unknown }));
  const failures: string[] = [];
  let replayed = 0;
  for await (const result of Worker.runReplayHistories({ workflowBundle: bundle, replayName: 'replay-test' }, histories)) {
    replayed += 1;
    if (result.error) failures.push(`${result.workflowId}: ${result.error.message}`);
  }
  expect(failures).toEqual([]);
  expect(replayed).toBe(files.length);
}, 120_000);
