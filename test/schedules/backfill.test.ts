// `hea schedules backfill` against a real dev server and worker: each backfilled run treats its scheduled
// time as "now" (its jobs get HEA_NOW, its report says so), runs one after another, and a backfill of more
// runs than schedules.backfillLimit is refused without --yes.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { applySchedules } from '../../src/schedules/apply.js';
import type { RunReport } from '../../src/workflows/report.js';
import { ROOT, fixtureWorker, tmpDir, uniqueTaskQueue, useTestServer, waitFor } from '../helpers/env.js';
import { readRuns, writeConfig, writeScript } from '../helpers/faults.js';

const env = useTestServer();

// Logs its HEA_NOW and when it ran, takes a moment, succeeds.
const NOW_JOB = `
import json, os, time
data = os.environ["HEA_DATA_DIR"]
os.makedirs(data, exist_ok=True)
with open(os.path.join(data, "runs.jsonl"), "a") as f:
    f.write(json.dumps({"job": os.environ["HEA_JOB_NAME"], "attempt": 1, "pid": os.getpid(), "t": time.time(),
                        "args": [], "now": os.environ.get("HEA_NOW"), "wf": os.environ["HEA_WORKFLOW_ID"]}) + "\\n")
time.sleep(0.5)
print(json.dumps({"result": {"now": os.environ.get("HEA_NOW")}}))
`;

const dir = tmpDir('hea-backfill-');
const script = writeScript(dir, 'now_job.py', NOW_JOB);
const taskQueue = uniqueTaskQueue('backfill');
const job = { args: [script] };
const config = writeConfig(
  { prices_data: job, co2_gas_coal: job, weather_data: job },
  { temporal: { taskQueue }, schedules: { idPrefix: 'bf-', backfillLimit: 5, entries: { hourly: { flow: 'hourly-exogenic', cron: '0 * * * *' } } } },
  dir,
);
beforeAll(async () => {
  await applySchedules(env.client, config);
}, 120_000);

function hea(args: string[]) {
  return execa('node', [join(ROOT, 'bin', 'hea.js'), ...args], {
    reject: false,
    stdin: 'ignore',
    timeout: 120_000,
    env: { HEA_CONFIG: config.file, TEMPORAL_ADDRESS: env.address, LOG_LEVEL: 'warn' },
  });
}

type NowRun = ReturnType<typeof readRuns>[number] & { now?: string; wf: string };

test('backfilled runs: each job gets its run\'s scheduled time as HEA_NOW, runs do not overlap, reports say "as of"', async () => {
  const worker = await fixtureWorker(env, config, taskQueue);
  await worker.runUntil(backfillThreeHours());
});

async function backfillThreeHours(): Promise<void> {
  const res = await hea(['schedules', 'backfill', 'hourly', '--from', '2026-11-01T00:00:00Z', '--to', '2026-11-01T02:30:00Z']);
  expect([res.exitCode, res.stderr]).toEqual([0, '']);
  expect(res.stdout).toContain('3 runs');
  expect(res.stdout).toContain('one after another');

  const runs = await waitFor(
    'three runs of three jobs',
    () => {
      const r = readRuns(config.dirs.data) as NowRun[];
      return r.length >= 9 ? r : undefined;
    },
    90_000,
  );
  const byWorkflow = new Map<string, NowRun[]>();
  for (const r of runs) byWorkflow.set(r.wf, [...(byWorkflow.get(r.wf) ?? []), r]);
  expect(byWorkflow.size).toBe(3);
  const nows = [...byWorkflow.values()].map((rs) => {
    // Every job of one run has the same now: the run's scheduled time.
    expect(new Set(rs.map((r) => r.now)).size).toBe(1);
    return rs[0]!.now;
  });
  expect(nows.sort()).toEqual(['2026-11-01T00:00:00.000Z', '2026-11-01T01:00:00.000Z', '2026-11-01T02:00:00.000Z']);

  // One after another: each run's jobs all start after the previous run's jobs.
  const spans = [...byWorkflow.values()].map((rs) => [Math.min(...rs.map((r) => r.t)), Math.max(...rs.map((r) => r.t))] as const).sort((a, b) => a[0] - b[0]);
  for (let i = 1; i < spans.length; i++) expect(spans[i]![0]).toBeGreaterThan(spans[i - 1]![1]);

  for (const [workflowId, rs] of byWorkflow) {
    const report = (await env.client.workflow.getHandle(workflowId).result()) as RunReport;
    expect(report.asOf).toBe(rs[0]!.now);
    expect(readFileSync(report.reportFile!, 'utf8')).toContain(`As of: ${rs[0]!.now}`);
  }
}

test('a backfill of more runs than the limit is refused without --yes, and starts nothing', async () => {
  const before = readRuns(config.dirs.data).length;
  const res = await hea(['schedules', 'backfill', 'hourly', '--from', '2026-10-01T00:00:00Z', '--to', '2026-10-02T00:00:00Z']);
  expect(res.exitCode).toBe(2);
  expect(res.stderr).toMatch(/would start 2[45] runs, more than 5/);
  expect(res.stderr).toContain('--yes');
  expect(readRuns(config.dirs.data).length).toBe(before);
});

test.each([
  [['schedules', 'pause', 'no-such-schedule'], /no schedule "bf-no-such-schedule"/],
  [['schedules', 'backfill', 'no-such-schedule', '--from', '2026-10-01T00:00:00Z', '--to', '2026-10-02T00:00:00Z'], /no schedule "bf-no-such-schedule"/],
  [
    ['schedules', 'backfill', 'hourly', '--from', '2026-10-01T00:00:00Z', '--to', '2026-10-02T00:00:00Z', '--overlap', 'sometimes'],
    /--overlap: "sometimes" is not one of/,
  ],
])('hea %j: exit 2 and a clear message', async (args, message) => {
  const res = await hea(args as string[]);
  expect(res.exitCode).toBe(2);
  expect(res.stderr).toMatch(message as RegExp);
  expect(res.stderr).not.toContain('temporal-sys-scheduler');
});

test.each(['0 6 * * *', '*/15 * * * *', '0 2 * * 7', '0,30 6-18/2 1-15 jan-jun mon-fri'])('a cron the config accepts (%j), the server accepts too', async (cron) => {
  const { cronProblem } = await import('../../src/config/cron.js');
  expect(cronProblem(cron)).toBeUndefined();
  const id = `cron-check-${Math.random().toString(36).slice(2)}`;
  const handle = await env.client.schedule.create({
    scheduleId: id,
    spec: { cronExpressions: [cron] },
    action: { type: 'startWorkflow', workflowType: 'homeData', taskQueue: 'unused', args: [{}] },
    state: { paused: true },
  });
  await handle.delete();
});
