// The shipped config and the real reference jobs, end to end: weekly training, RL training and the daily
// pipeline, offline (the simulator), on a fresh data directory. Sizes are cut down through the jobs' own
// settings (less history, fewer trials and timesteps) so this stays a few minutes on two cores.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { loadConfig } from '../../src/config/load.js';
import type { RunReport, StepReport } from '../../src/workflows/report.js';
import { ROOT, createTestServer, fixtureWorker, tmpDir, uniqueTaskQueue, workflowBundle } from '../helpers/env.js';

const NOW = '2026-06-15T10:30:00Z';
let env: TestWorkflowEnvironment;
const dir = tmpDir('hea-e2e-');
const saved = { ...process.env };

beforeAll(async () => {
  // Jobs inherit the worker's environment: a smaller world than production, same code paths.
  Object.assign(process.env, {
    // A fixed clock: the simulated world (and so every figure below) is the same on every run.
    HEA_NOW: NOW,
    HEA_BACKFILL_DAYS: '120',
    HEA_RL_HOLDOUT_DAYS: '7',
    HEA_RL_ITERATIONS: '6',
  });
  env = await createTestServer();
  await workflowBundle();
}, 120_000);

afterAll(async () => {
  process.env = saved;
  await env?.teardown();
});

const config = loadConfig(join(ROOT, 'config', 'hea.yaml'), {
  env: { HEA_DATA_DIR: join(dir, 'data'), HEA_MODELS_DIR: join(dir, 'models'), HEA_REPORTS_DIR: join(dir, 'reports') },
});
// A failure here should show at once, not after the production retry delays.
for (const job of Object.values(config.jobs)) job.retry = { ...job.retry, initialInterval: 100, maximumAttempts: 1 };

const step = (report: RunReport, name: string) => report.steps.find((s) => s.step === name) as StepReport;

test('weekly training, RL training, then the daily pipeline: real jobs, reports with metrics against baselines', async () => {
  const taskQueue = uniqueTaskQueue('e2e');
  const worker = await fixtureWorker(env, config, taskQueue);
  await worker.runUntil(async () => {
    const run = (workflow: string, params: Record<string, unknown>) =>
      env.client.workflow.execute(workflow, { taskQueue, workflowId: `${workflow}-${taskQueue}`, args: [params] }) as Promise<RunReport>;

    const weekly = await run('weeklyModelTraining', { demandTrials: 2 });
    expect(weekly.steps.filter((s) => s.status !== 'success')).toEqual([]);
    const trend = step(weekly, 'price model: trend').result as { metrics: Record<string, number>; promoted: boolean };
    expect(trend.promoted).toBe(true);
    for (const key of ['mae', 'baseline_yesterday_mae', 'baseline_7day_mae']) expect(typeof trend.metrics[key]).toBe('number');
    const demand = step(weekly, 'demand model').result as { metrics: Record<string, number> };
    expect(typeof demand.metrics.baseline_yesterday_mae).toBe('number');
    const markdown = readFileSync(weekly.reportFile!, 'utf8');
    expect(markdown).toMatch(/\| price model: trend \| `prices_train` \| success \| 1 \|.*mae=/);
    expect(markdown).toContain('baseline_yesterday_mae');

    const rl = await run('rlTraining', { sanityCheckSteps: 5, totalTimesteps: 3000, endDate: NOW.slice(0, 10) });
    expect(rl.status).toBe('success');
    const agent = step(rl, 'battery agent').result as { shares: Record<string, number>; best_controller: string };
    expect(agent.shares.optimum).toBeCloseTo(1, 6);
    expect(agent.shares.no_battery).toBeCloseTo(0, 6);
    // A week of June with solar: the planning controller saves money, and nobody beats the optimum.
    expect(agent.shares.mpc).toBeGreaterThan(0.2);
    for (const share of Object.values(agent.shares)) expect(share).toBeLessThanOrEqual(1.01);
    expect(['rule_based', 'mpc', 'rl_agent']).toContain(agent.best_controller);

    const daily = await run('dailyEnergyPipeline', { horizonDays: 1 });
    expect(daily.steps.filter((s) => s.status !== 'success').map((s) => `${s.step}: ${s.error}`)).toEqual([]);
    expect(daily.status).toBe('success');
    expect((step(daily, 'price forecast (trend)').result as { rows_written: number }).rows_written).toBeGreaterThan(0);
    expect(step(daily, 'battery plan').status).toBe('success');
  });
}, 900_000);
