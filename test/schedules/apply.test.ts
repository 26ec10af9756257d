// `hea schedules apply` and the schedules it makes, against a real dev server.
import type { Client } from '@temporalio/client';
import type { AppConfig } from '../../src/config/load.js';
import { applySchedules } from '../../src/schedules/apply.js';
import { fixtureConfig, fixtureWorker, uniqueTaskQueue, useTestServer, waitFor } from '../helpers/env.js';

const env = useTestServer();
let client: Client;

beforeAll(() => {
  client = env.client;
});

const fetchJobs = {
  prices_data: { script: 'echo_job.py' },
  co2_gas_coal: { script: 'echo_job.py' },
  weather_data: { script: 'echo_job.py' },
  consumption_data: { script: 'echo_job.py' },
  thermia_data: { script: 'echo_job.py' },
};

function withSchedules(prefix: string, entries: Record<string, unknown>, taskQueue = 'unused'): AppConfig {
  return fixtureConfig(fetchJobs, {
    temporal: { taskQueue },
    schedules: { timezone: 'Europe/Stockholm', idPrefix: prefix, entries },
  });
}

async function listWorkflows(query: string): Promise<{ workflowId: string; startTime: Date }[]> {
  const out: { workflowId: string; startTime: Date }[] = [];
  for await (const wf of client.workflow.list({ query })) out.push({ workflowId: wf.workflowId, startTime: wf.startTime });
  return out;
}

test('apply creates the schedules config names, and is a no-op the second time', async () => {
  const entries = {
    'hourly-exogenic': { flow: 'hourly-exogenic', cron: '0 * * * *' },
    'daily-pipeline': { flow: 'daily-pipeline', cron: '0 6 * * *', params: { horizonDays: 2 } },
  };
  const first = await applySchedules(client, withSchedules('t1-', entries));
  expect(first.create.sort()).toEqual(['t1-daily-pipeline', 't1-hourly-exogenic']);

  const second = await applySchedules(client, withSchedules('t1-', entries));
  expect(second).toEqual({ create: [], update: [], delete: [], unchanged: expect.arrayContaining(['t1-daily-pipeline', 't1-hourly-exogenic']) });

  const handle = client.schedule.getHandle('t1-hourly-exogenic');
  const before = await handle.describe();
  expect(before.spec.timezone).toBe('Europe/Stockholm');
  expect(before.policies.overlap).toBe('SKIP');
  expect(before.memo).toEqual({ managedBy: 'home-energy-ai' });
});

test('apply updates a changed cron in place (replaced, not merged), keeping a pause made by hand', async () => {
  const entries = { 'hourly-exogenic': { flow: 'hourly-exogenic', cron: '0 * * * *' } };
  await applySchedules(client, withSchedules('t5-', entries));
  const handle = client.schedule.getHandle('t5-hourly-exogenic');
  await handle.pause('maintenance');

  const changed = await applySchedules(client, withSchedules('t5-', { 'hourly-exogenic': { flow: 'hourly-exogenic', cron: '30 * * * *' } }));
  expect(changed.update).toEqual(['t5-hourly-exogenic']);
  expect(changed.create).toEqual([]);
  const after = await handle.describe();
  // Replaced, not merged: one calendar, at minute 30 only.
  expect(after.spec.calendars).toHaveLength(1);
  expect(after.spec.calendars![0]!.minute).toEqual([{ start: 30, end: 30, step: 1 }]);
  expect(after.state.paused).toBe(true);
  expect(after.info.nextActionTimes.length).toBeGreaterThan(0);
});

test("apply deletes schedules it made that config dropped, and never anyone else's", async () => {
  await client.schedule.create({
    scheduleId: 't2-someone-elses',
    spec: { intervals: [{ every: '1h' }] },
    action: { type: 'startWorkflow', workflowType: 'homeData', taskQueue: 'elsewhere', args: [{}] },
  });
  await applySchedules(client, withSchedules('t2-', { a: { flow: 'home-data', every: '15m' }, b: { flow: 'freshness', every: '15m' } }));
  const config = withSchedules('t2-', { a: { flow: 'home-data', every: '15m' } });
  // The visibility list is eventually consistent: wait until it shows what was just created.
  await waitFor('schedule list to show t2-b', async () => {
    for await (const s of client.schedule.list()) if (s.scheduleId === 't2-b') return true;
    return false;
  });
  const plan = await applySchedules(client, config);
  expect(plan.delete).toEqual(['t2-b']);
  await expect(client.schedule.getHandle('t2-b').describe()).rejects.toThrow();
  await expect(client.schedule.getHandle('t2-someone-elses').describe()).resolves.toBeDefined();
});

test('a schedule fires on its own, and its run completes', async () => {
  const taskQueue = uniqueTaskQueue('sched');
  const config = withSchedules('t3-', { home: { flow: 'home-data', every: '2s' } }, taskQueue);
  const worker = await fixtureWorker(env, config, taskQueue);
  await worker.runUntil(async () => {
    await applySchedules(client, config);
    const handle = client.schedule.getHandle('t3-home');
    await waitFor(
      'the schedule to start and complete a run on its own',
      async () => {
        const desc = await handle.describe();
        const action = desc.info.recentActions[0];
        if (!action) return false;
        const result = await client.workflow.getHandle(action.action.workflow.workflowId).result();
        return (result as { status: string }).status === 'success';
      },
      60_000,
    );
    await handle.pause('so it stops here');
  });
});

test('backfill starts a run for each time the schedule would have started one, named by that time', async () => {
  const taskQueue = uniqueTaskQueue('sched');
  const backfill = withSchedules('t4-', { solar: { flow: 'solar-data', cron: '0 6 * * *' } }, taskQueue);
  const worker = await fixtureWorker(env, backfill, taskQueue);
  await worker.runUntil(async () => {
    await applySchedules(client, backfill);
    await client.schedule.getHandle('t4-solar').pause('backfill only');
    // 06:00 Stockholm on three days (UTC+1 in January).
    await client.schedule.getHandle('t4-solar').backfill({
      start: new Date('2026-01-10T00:00:00Z'),
      end: new Date('2026-01-12T23:00:00Z'),
      overlap: 'ALLOW_ALL',
    });
    const runs = await waitFor(
      'three backfilled runs',
      async () => {
        const found = await listWorkflows(`WorkflowType = 'solarData' AND TaskQueue = '${taskQueue}'`);
        return found.length >= 3 ? found : undefined;
      },
      30_000,
    );
    expect(runs.map((r) => r.workflowId).sort()).toEqual([
      'solar-data-scheduled-2026-01-10T05:00:00Z',
      'solar-data-scheduled-2026-01-11T05:00:00Z',
      'solar-data-scheduled-2026-01-12T05:00:00Z',
    ]);
  });
});
