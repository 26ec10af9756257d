// The embedded Temporal server (the project's own startEmbeddedServer, on a SQLite file) is stopped and
// started again while a pipeline's job runs. The schedules, the running workflow and its history survive
// in the database file, the worker reconnects by itself, and the pipeline completes.
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import { createActivities } from '../../src/activities/index.js';
import { applySchedules } from '../../src/schedules/apply.js';
import { bundleWorkflows } from '../../src/worker.js';
import type { RunReport } from '../../src/workflows/report.js';
import { quietRuntime, testLogger, tmpDir, waitFor } from '../helpers/env.js';
import { RUNLOG_JOB, pendingHeartbeat, readRuns, readStep, runJobActivities, startFileServer, writeConfig, writeScript } from '../helpers/faults.js';

test('schedules, a running pipeline and its history survive a restart of the embedded server', async () => {
  quietRuntime();
  const dir = tmpDir('hea-restart-');
  const dbFile = join(dir, 'var', 'temporal.db');
  const script = writeScript(dir, 'runlog_job.py', RUNLOG_JOB);
  const taskQueue = 'restart-test';
  const config = writeConfig(
    {
      solar_actual: { args: [script, '1', '0'] },
      // Long enough to stop and restart the server in the middle (about 12 s).
      solar_predictions: { args: [script, '24', '0.5'], heartbeatTimeout: '20s' },
    },
    {
      temporal: { taskQueue },
      schedules: { entries: { 'solar-daily': { flow: 'solar-data', cron: '0 6 * * *', description: 'fault test' } } },
    },
    dir,
  );
  const bundle = await bundleWorkflows(testLogger());

  let server = await startFileServer(dbFile);
  const ports = { port: server.port, uiPort: server.uiPort };
  const connection = await Connection.connect({ address: server.address });
  const client = new Client({ connection });
  const nativeConnection = await NativeConnection.connect({ address: server.address });
  const worker = await Worker.create({ connection: nativeConnection, taskQueue, workflowBundle: bundle, activities: createActivities(config, testLogger()) });
  const running = worker.run();
  try {
    const plan = await applySchedules(client, config);
    expect(plan.create).toEqual(['hea-solar-daily']);
    const scheduleBefore = await client.schedule.getHandle('hea-solar-daily').describe();

    const handle = await client.workflow.start('solarData', { taskQueue, workflowId: 'solar-restart', args: [{}] });
    // Its first heartbeat (sent at once; later ones are throttled to 0.8 x the heartbeat timeout) carries its pid.
    await waitFor('the solar forecast to be running', async () => (await pendingHeartbeat(client, handle, 'solar_predictions'))?.pid, 60_000);
    await waitFor('the solar forecast to get going', () => readStep(config.dirs.data, 'solar_predictions') >= 2, 30_000);
    const historyBefore = (await handle.fetchHistory()).events ?? [];

    await server.stop();
    // The job goes on while the server is down: its progress reaches its step file, not the server.
    const stepAtStop = readStep(config.dirs.data, 'solar_predictions');
    await waitFor('the job to progress with the server down', () => readStep(config.dirs.data, 'solar_predictions') >= stepAtStop + 3, 30_000);
    server = await startFileServer(dbFile, ports);
    expect(server.owned).toBe(true);

    const report = (await handle.result()) as RunReport;
    expect(report.status).toBe('success');
    expect(report.steps.map((s) => [s.job, s.status])).toEqual([
      ['solar_actual', 'success'],
      ['solar_predictions', 'success'],
    ]);

    // The history from before the restart is the start of the final history.
    const historyAfter = (await handle.fetchHistory()).events ?? [];
    expect(historyAfter.length).toBeGreaterThan(historyBefore.length);
    expect(historyAfter.slice(0, historyBefore.length).map((e) => [String(e.eventId), e.eventType])).toEqual(historyBefore.map((e) => [String(e.eventId), e.eventType]));
    // No step ran twice: the running job finished its first attempt across the restart.
    const runs = readRuns(config.dirs.data);
    expect(runs.map((r) => [r.job, r.attempt])).toEqual([
      ['solar_actual', 1],
      ['solar_predictions', 1],
    ]);
    expect(runJobActivities(client, { events: historyAfter }).map((a) => [a.job, a.startedAttempt, a.closed])).toEqual([
      ['solar_actual', 1, 'completed'],
      ['solar_predictions', 1, 'completed'],
    ]);

    // The schedule is still there, unchanged, and a new apply finds nothing to do.
    const scheduleAfter = await client.schedule.getHandle('hea-solar-daily').describe();
    expect(scheduleAfter.spec).toEqual(scheduleBefore.spec);
    expect(scheduleAfter.info.nextActionTimes[0]).toEqual(scheduleBefore.info.nextActionTimes[0]);
    const again = await applySchedules(client, config);
    expect(again).toMatchObject({ create: [], update: [], delete: [], unchanged: ['hea-solar-daily'] });
  } finally {
    worker.shutdown();
    await running.catch(() => undefined);
    await nativeConnection.close();
    await connection.close();
    await server.stop();
  }
});
