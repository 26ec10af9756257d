import { readFileSync } from 'node:fs';
import { WorkflowFailedError } from '@temporalio/client';
import type { AppConfig } from '../../src/config/load.js';
import type { RunReport } from '../../src/workflows/report.js';
import { fixtureConfig, fixtureWorker, uniqueTaskQueue, useTestServer } from '../helpers/env.js';

const env = useTestServer();

async function run(config: AppConfig): Promise<RunReport> {
  const taskQueue = uniqueTaskQueue('hourly');
  const worker = await fixtureWorker(env, config, taskQueue);
  return worker.runUntil(env.client.workflow.execute('hourlyExogenousData', { taskQueue, workflowId: `hourly-${taskQueue}` }));
}

test('one failing fetch: two successes, one failure, a partial run with a written report', async () => {
  const config = fixtureConfig({
    prices_data: { script: 'fetch_fixture.py', args: ['prices', 'flaky'] },
    co2_gas_coal: { script: 'fetch_fixture.py', args: ['co2', 'fail'] },
    weather_data: { script: 'fetch_fixture.py', args: ['weather'] },
  });
  const report = await run(config);
  expect(report.status).toBe('partial');
  const byJob = Object.fromEntries(report.steps.map((s) => [s.job, s]));
  expect(byJob.prices_data).toMatchObject({ status: 'success', attempts: 2, result: { dataset: 'prices', rows_written: 24 } });
  expect(byJob.weather_data).toMatchObject({ status: 'success', attempts: 1 });
  expect(byJob.co2_gas_coal).toMatchObject({ status: 'failed', errorType: 'DataError', attempts: 1 });
  expect(byJob.co2_gas_coal!.error).toContain('co2: the response had no rows');
  const markdown = readFileSync(report.reportFile!, 'utf8');
  expect(markdown).toContain('# hourlyExogenousData: partial');
  expect(markdown).toMatch(/\| CO2, gas and coal \| `co2_gas_coal` \| failed \| 1 \|/);
  expect(markdown).toMatch(/\| spot prices \| `prices_data` \| success \| 2 \|.*rows_written=24/);
});

test('when every fetch fails the run fails, and still carries its report', async () => {
  const config = fixtureConfig({
    prices_data: { script: 'fetch_fixture.py', args: ['prices', 'fail'] },
    co2_gas_coal: { script: 'fetch_fixture.py', args: ['co2', 'fail'] },
    weather_data: { script: 'fetch_fixture.py', args: ['weather', 'fail'] },
  });
  const err = await run(config).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(WorkflowFailedError);
  const failure = (err as WorkflowFailedError).cause as { type?: string; details?: unknown[] };
  expect(failure.type).toBe('RunFailed');
  const report = failure.details?.[0] as RunReport;
  expect(report.steps.map((s) => s.status)).toEqual(['failed', 'failed', 'failed']);
});
