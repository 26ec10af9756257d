// The worker process is SIGKILLed while the daily pipeline's price forecast runs. A new worker finishes
// the run: the steps that had finished are not run again (each job's own run log and the history's
// ActivityTaskStarted events agree), and the interrupted job starts again once its heartbeat timeout
// has passed.
import { join } from 'node:path';
import type { RunReport } from '../../src/workflows/report.js';
import { fixtureWorker, pidAlive, tmpDir, uniqueTaskQueue, useTestServer, waitFor } from '../helpers/env.js';
import { RUNLOG_JOB, pendingHeartbeat, readRuns, runJobActivities, startWorkerProcess, writeConfig, writeScript, type JobDef } from '../helpers/faults.js';

const env = useTestServer();

const HEARTBEAT_TIMEOUT_MS = 3_000;

test('a worker killed mid-pipeline: finished steps are not re-run, the killed job restarts after its heartbeat timeout', async () => {
  const dir = tmpDir('hea-kill-');
  const script = writeScript(dir, 'runlog_job.py', RUNLOG_JOB);
  const quick: JobDef = { args: [script, '1', '0'] };
  const config = writeConfig(
    {
      prices_data: quick,
      co2_gas_coal: quick,
      weather_data: quick,
      consumption_data: quick,
      thermia_data: quick,
      solar_actual: quick,
      solar_predictions: quick,
      demand_predictions: quick,
      // The long one: 24 steps of 0.5 s, heartbeating every step.
      price_predictions: { args: [script, '24', '0.5'], heartbeatTimeout: `${HEARTBEAT_TIMEOUT_MS}ms`, retry: { initialInterval: '100ms', maximumAttempts: 3 } },
      rl_control: quick,
      accuracy_score: quick,
      daily_report: quick,
    },
    {},
    dir,
  );
  const taskQueue = uniqueTaskQueue('kill');
  const first = startWorkerProcess({ configFile: config.file, address: env.address, taskQueue, logFile: join(dir, 'worker1.log') });
  const handle = await env.client.workflow.start('dailyEnergyPipeline', { taskQueue, workflowId: `daily-kill-${taskQueue}`, args: [{}] });

  const beat = await waitFor(
    'the price forecast to be half-way',
    async () => {
      const b = await pendingHeartbeat(env.client, handle, 'price_predictions');
      return b?.pid && (b.progress ?? 0) >= 20 ? b : undefined;
    },
    90_000,
  );
  // Everything the forecast does not depend on, and what it needs, has finished by now.
  const before = readRuns(config.dirs.data);
  expect(before.filter((r) => r.job === 'prices_data')).toHaveLength(1);

  const killedAt = Date.now();
  first.kill('SIGKILL');
  await first;
  await waitFor('the orphaned job to die with its worker', () => !pidAlive(beat.pid!), 20_000);

  const second = await fixtureWorker(env, config, taskQueue);
  const report = (await second.runUntil(handle.result())) as RunReport;
  expect(report.status).toBe('success');

  // Each job's own log of its runs: once each, except the killed one (attempt 1, then attempt 2).
  const runs = readRuns(config.dirs.data);
  const count = (job: string) => runs.filter((r) => r.job === job).length;
  for (const job of [
    'prices_data',
    'co2_gas_coal',
    'weather_data',
    'consumption_data',
    'thermia_data',
    'solar_actual',
    'solar_predictions',
    'demand_predictions',
    'rl_control',
    'accuracy_score',
    'daily_report',
  ]) {
    expect([job, count(job)]).toEqual([job, 1]);
  }
  const forecast = runs.filter((r) => r.job === 'price_predictions');
  expect(forecast.map((r) => r.attempt)).toEqual([1, 2]);
  // The heartbeat's pid is the job's process group leader (its supervisor); the Python job itself is gone too.
  expect(pidAlive(forecast[0]!.pid)).toBe(false);
  // Attempt 2 waited for the heartbeat timeout (counted from attempt 1's last heartbeat, before the kill).
  const restartDelay = forecast[1]!.t * 1000 - killedAt;
  expect(restartDelay).toBeGreaterThan(HEARTBEAT_TIMEOUT_MS - 1_500);
  expect(restartDelay).toBeLessThan(HEARTBEAT_TIMEOUT_MS + 15_000);

  // The history says the same: one scheduled activity per step, started once (attempt 1) for every step but
  // the killed one, whose recorded start is attempt 2. All completed.
  const activities = runJobActivities(env.client, await handle.fetchHistory());
  expect(activities).toHaveLength(12);
  for (const a of activities) {
    expect([a.job, a.startedAttempt, a.closed]).toEqual([a.job, a.job === 'price_predictions' ? 2 : 1, 'completed']);
  }
  const steps = Object.fromEntries(report.steps.map((s) => [s.job, s]));
  expect(steps.price_predictions!.attempts).toBe(2);
  expect(steps.rl_control!.status).toBe('success');
});
