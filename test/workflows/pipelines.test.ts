// Every pipeline workflow against a real dev server, with fixture jobs that echo their arguments.
import { WorkflowFailedError } from '@temporalio/client';
import { Worker } from '@temporalio/worker';
import { createActivities } from '../../src/activities/index.js';
import type { RunReport, StepReport } from '../../src/workflows/report.js';
import { PIPELINE_JOBS, fixtureConfig, testLogger, uniqueTaskQueue, useTestServer, workflowBundle, type FixtureJob } from '../helpers/env.js';

const env = useTestServer();

/** Every job echoes its args; the ones named in `failing` exit 65. */
function config(failing: string[] = []) {
  const jobs: Record<string, FixtureJob> = {};
  for (const job of PIPELINE_JOBS) jobs[job] = { script: 'echo_job.py', args: failing.includes(job) ? ['fail'] : [] };
  return fixtureConfig(jobs);
}

async function execute(workflow: string, args: unknown[], failing: string[] = []): Promise<RunReport> {
  const taskQueue = uniqueTaskQueue(workflow);
  const worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue,
    workflowBundle: await workflowBundle(),
    activities: createActivities(config(failing), testLogger()),
  });
  return worker.runUntil(env.client.workflow.execute(workflow, { taskQueue, workflowId: `${workflow}-${taskQueue}`, args }));
}

const byStep = (report: RunReport) => Object.fromEntries(report.steps.map((s) => [s.step, s])) as Record<string, StepReport>;

test('dailyEnergyPipeline: updates, forecasts with the chosen model and horizon, then the battery plan', async () => {
  const report = await execute('dailyEnergyPipeline', [{ priceModel: 'peak', horizonDays: 1.5 }]);
  expect(report.status).toBe('success');
  const steps = byStep(report);
  expect(Object.keys(steps)).toHaveLength(12);
  // After the plan: yesterday's forecasts scored, then the daily report (its folder named after the report).
  expect(report.steps.slice(-2).map((s) => s.step)).toEqual(['forecast accuracy', 'daily report']);
  const name = report.reportFile!.split('/').at(-1)!.replace(/\.md$/, '');
  expect(steps['daily report']!.result).toEqual({ args: ['--report-name', name] });
  expect(steps['price forecast (peak)']!.result).toEqual({ args: ['--model', 'peak', '--horizon-days', '1.5'] });
  expect(steps['demand forecast']!.result).toEqual({ args: ['--horizon-days', '1.5'] });
  // The battery plan starts only after the three forecasts it needs have finished.
  const planStart = Date.parse(steps['battery plan']!.startedAt!);
  for (const f of ['solar forecast', 'price forecast (peak)', 'demand forecast']) {
    expect(Date.parse(steps[f]!.startedAt!) + steps[f]!.durationMs!).toBeLessThanOrEqual(planStart);
  }
  expect(report.params).toMatchObject({ updateData: true, priceModel: 'peak', horizonDays: 1.5 });
});

test('dailyEnergyPipeline: a failed step skips what depends on it, the rest finishes, the run is partial', async () => {
  const report = await execute('dailyEnergyPipeline', [{}], ['weather_data']);
  expect(report.status).toBe('partial');
  const steps = byStep(report);
  expect(steps.weather!.status).toBe('failed');
  expect(steps['solar forecast']!.status).toBe('skipped');
  expect(steps['price forecast (trend)']!.status).toBe('skipped');
  expect(steps['demand forecast']!.status).toBe('skipped');
  expect(steps['battery plan']!.status).toBe('skipped');
  expect(steps['battery plan']!.error).toContain('solar forecast skipped');
  for (const s of ['spot prices', 'CO2, gas and coal', 'consumption', 'heat pump (Thermia)', 'solar production (actual)']) {
    expect([s, steps[s]!.status]).toEqual([s, 'success']);
  }
});

test('dailyEnergyPipeline without data updates runs the forecasts straight away', async () => {
  const report = await execute('dailyEnergyPipeline', [{ updateData: false, runBatteryPlan: false }]);
  expect(report.steps.map((s) => s.job).sort()).toEqual(['accuracy_score', 'daily_report', 'demand_predictions', 'price_predictions', 'solar_predictions']);
});

test('dailyEnergyPipeline refuses a bad parameter before anything runs', async () => {
  const err = await execute('dailyEnergyPipeline', [{ horizonDays: 30 }]).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(WorkflowFailedError);
  const cause = (err as WorkflowFailedError).cause as { type?: string; message: string };
  expect(cause.type).toBe('InvalidParameters');
  expect(cause.message).toContain('horizonDays');
});

test('homeData fetches consumption and the heat pump', async () => {
  const home = await execute('homeData', [{}]);
  expect(home.steps.map((s) => [s.job, s.status]).sort()).toEqual([
    ['consumption_data', 'success'],
    ['thermia_data', 'success'],
  ]);
});

test('solarData skips the forecast when actuals fail, and fails', async () => {
  const err = await execute('solarData', [{}], ['solar_actual']).catch((e: unknown) => e);
  const failure = (err as WorkflowFailedError).cause as { type?: string; details?: unknown[] };
  expect(failure.type).toBe('RunFailed');
  const solar = failure.details![0] as RunReport;
  expect(solar.steps.map((s) => [s.job, s.status])).toEqual([
    ['solar_actual', 'failed'],
    ['solar_predictions', 'skipped'],
  ]);
});

test('weeklyModelTraining trains trend, peak and valley in production mode, then demand with its trials', async () => {
  const report = await execute('weeklyModelTraining', [{ updateData: false, demandTrials: 7 }], ['prices_train']);
  expect(report.steps.map((s) => s.step)).toEqual(['price model: trend', 'price model: peak', 'price model: valley', 'demand model', 'training report']);
  expect(report.steps.at(-1)!.result!.args).toEqual(expect.arrayContaining(['--model', 'price_trend', '--model', 'demand']));
  expect(report.status).toBe('partial');
  const demand = byStep(report)['demand model']!;
  expect(demand.result).toEqual({ args: ['--production', '--trials', '7'] });
});

test('weeklyModelTraining fetches fresh data first, then trains (the demand model alone: 50 trials by default)', async () => {
  const only = await execute('weeklyModelTraining', [{ trainPriceModels: false }]);
  // (The fetches run in parallel: the report lists them in the order they finished.)
  expect(
    only.steps
      .slice(0, 3)
      .map((s) => s.step)
      .sort(),
  ).toEqual(['update: consumption', 'update: heat pump (Thermia)', 'update: weather']);
  expect(only.steps.at(-2)!.step).toBe('demand model');
  expect(only.steps.at(-2)!.result).toEqual({ args: ['--production', '--trials', '50'] });
});

test('rlTraining passes its dates; endDate defaults to the workflow date', async () => {
  const report = await execute('rlTraining', [{ sanityCheckSteps: 3, startDate: '2026-01-01', totalTimesteps: 5000 }], ['solar_actual']);
  // The workflow's own date (its clock when it started), never the test machine's "today".
  const workflowDate = report.startedAt.slice(0, 10);
  // A failed fetch is reported, and the training still runs on the data already stored.
  expect(report.status).toBe('partial');
  expect(report.steps.map((s) => [s.job, s.status]).sort()).toEqual([
    ['consumption_data', 'success'],
    ['prices_data', 'success'],
    ['rl_train', 'success'],
    ['solar_actual', 'failed'],
  ]);
  expect(report.steps.at(-1)!.result).toEqual({
    args: ['--sanity-check-steps', '3', '--end-date', workflowDate, '--start-date', '2026-01-01', '--total-timesteps', '5000'],
  });
});

test('rlTraining whose training fails fails, however many fetches succeeded (schedules pause)', async () => {
  const failed = await execute('rlTraining', [{}], ['rl_train']).catch((e: unknown) => e);
  const failure = (failed as WorkflowFailedError).cause as { type?: string; message: string };
  expect(failure.type).toBe('RunFailed');
  expect(failure.message).toContain('every essential step failed');
});

test('rlTraining refuses a startDate after its endDate before running anything', async () => {
  const err = await execute('rlTraining', [{ startDate: '2026-02-01', endDate: '2026-01-01' }]).catch((e: unknown) => e);
  expect(((err as WorkflowFailedError).cause as { type?: string }).type).toBe('InvalidParameters');
});
