// Every recorded history (test/histories/*.json, from scripts/record-histories.ts) replays against the
// current workflow code. A change that would break workflows already running in production (a new
// activity call, a reordered step, a removed query) fails here with a non-determinism error; make such a
// change with patched()/deprecatePatch (docs/operations.md) and record a new history next to the old.
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { Worker } from '@temporalio/worker';
import { ROOT, quietRuntime, workflowBundle } from './helpers/env.js';

quietRuntime();

const DIR = join(ROOT, 'test', 'histories');

/**
 * Proto3 JSON (as `temporal workflow show -o json` and the Web UI write it) to a History message. The SDK's
 * own historyFromJSON cannot be used in this install: npm nested three copies of protobufjs 8 (under
 * @temporalio/common, /proto and /worker, because @grpc/proto-loader pins protobufjs 7 at the top), and its
 * JSON reader rejects types built by another copy ("type must be a Type"). So the reader here is taken
 * from the copy that built the types.
 */
function loadHistory(file: string, patch: (json: any) => void = () => undefined): unknown {
  const req = createRequire(import.meta.url);
  const proto = req('@temporalio/proto');
  const { fromJson } = createRequire(req.resolve('@temporalio/proto'))('protobufjs/ext/protojson') as {
    fromJson: (type: unknown, json: unknown, options: unknown) => unknown;
  };
  const { patchProtobufRoot } = req('@temporalio/proto/lib/patch-protobuf-root') as { patchProtobufRoot: (root: unknown) => { lookupType(name: string): unknown } };
  const historyType = patchProtobufRoot(proto).lookupType('temporal.api.history.v1.History');
  const json = JSON.parse(readFileSync(file, 'utf8'));
  patch(json);
  return fromJson(historyType, json, { ignoreUnknownFields: true });
}

const files = readdirSync(DIR)
  .filter((f) => f.endsWith('.json'))
  .sort();

test('a history is recorded for every workflow type the worker registers', async () => {
  // The worker registers what src/workflows/index.ts exports (workflowsPath); loading it outside the
  // sandbox is safe: activity proxies and queries are only defined at load, never called.
  const registered = Object.entries(await import('../src/workflows/index.js'))
    .filter(([, value]) => typeof value === 'function')
    .map(([name]) => name)
    .sort();
  const recorded = files.map((f) => f.split('.')[0]!);
  expect(registered.length).toBeGreaterThan(0);
  expect(registered.filter((w) => !recorded.includes(w))).toEqual([]);
});

test('every recorded history replays against the current workflow code', async () => {
  const bundle = await workflowBundle();
  const histories = files.map((f) => ({ workflowId: f, history: loadHistory(join(DIR, f)) }));
  const failures: string[] = [];
  let replayed = 0;
  for await (const result of Worker.runReplayHistories({ workflowBundle: bundle, replayName: 'replay-test' }, histories)) {
    replayed += 1;
    if (result.error) failures.push(`${result.workflowId}: ${result.error.message}`);
  }
  expect(failures).toEqual([]);
  expect(replayed).toBe(files.length);
}, 120_000);

test('the replay catches code that no longer matches a history', async () => {
  // The daily pipeline's history replayed as if it were homeData's: other activities, in another order.
  const history = loadHistory(join(DIR, 'dailyEnergyPipeline.json'), (json) => {
    json.events[0].workflowExecutionStartedEventAttributes.workflowType.name = 'homeData';
  });
  await expect(Worker.runReplayHistory({ workflowBundle: await workflowBundle(), replayName: 'replay-mismatch' }, history)).rejects.toThrow(/[Nn]ondetermin/);
}, 60_000);
