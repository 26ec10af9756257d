// Records one history per workflow type into test/histories/<workflowType>.json, for test/replay.test.ts.
//
//   node --import tsx scripts/record-histories.ts [--only dailyEnergyPipeline,rlTraining]
//
// Runs every workflow exported by src/workflows/index.ts against a throwaway dev server (the .venv binary,
// in memory) with fixture jobs, on paths that exercise its branches: retries, a failed step and the steps
// it skips, child workflows, queries. Re-record after a deliberate, patched change of workflow code and
// commit the new files next to the old ones (keep the old: running workflows still have old histories).
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Worker } from '@temporalio/worker';
import * as workflows from '../src/workflows/index.js';
import { createActivities } from '../src/activities/index.js';
import { ensureStatusAttribute } from '../src/temporal/namespace.js';
import { FIXTURES, ROOT, TEMPORAL_BIN as TEMPORAL, createTestServer, testLogger, workflowBundle, writeFixtureConfig } from '../test/helpers/env.js';

const OUT = join(ROOT, 'test', 'histories');

const { values } = parseArgs({ options: { only: { type: 'string' } } });
const only = values.only ? new Set(values.only.split(',')) : undefined;

const fixture = (script: string, ...args: string[]) => ({ args: [join(FIXTURES, script), ...args] });
const echo = fixture('echo_job.py');
const config = writeFixtureConfig(
  {
    // attempt 1 fails: a retry in the history; new prices start the battery re-plan child
    prices_data: fixture('fetch_fixture.py', 'prices', 'flaky', 'new_future_hours=24'),
    co2_gas_coal: fixture('fetch_fixture.py', 'commodities'),
    weather_data: fixture('fetch_fixture.py', 'weather'),
    consumption_data: fixture('fetch_fixture.py', 'consumption'),
    thermia_data: fixture('fetch_fixture.py', 'thermia', 'fail'), // fails: the demand forecast and the plan are skipped
    solar_actual: echo,
    solar_predictions: echo,
    price_predictions: fixture('progress_job.py', '3', '0.1'),
    demand_predictions: echo,
    rl_control: echo,
    prices_train: echo,
    demand_train: fixture('exit_code_job.py', '65'),
    rl_train: fixture('progress_job.py', '2', '0.1'),
    store_status: fixture('status_fixture.py', 'price.spot=30', 'home.consumption=0.1'),
    meter_train: echo,
    // runJobBatch's runs: local activities, one of them failing (exit 65, not retried)
    batch_job: { ...fixture('exit_code_job.py'), local: true, retry: { maximumAttempts: 1 } },
    accuracy_score: echo,
    daily_report: echo,
    training_report: echo,
  },
  {
    freshness: {
      datasets: {
        prices: { series: 'price.spot', maxAge: '2h', remediate: 'hourly-exogenic' },
        consumption: { series: 'home.consumption', maxAge: '2h', remediate: 'home-data' },
      },
    },
  },
);

// [workflow type, input] per recording: the types are checked against the module's exports below.
const RUNS: [string, unknown[]][] = [
  ['hourlyExogenousData', []],
  ['homeData', []],
  ['solarData', []],
  ['dailyEnergyPipeline', [{ priceModel: 'peak', horizonDays: 2 }]],
  ['weeklyModelTraining', [{ demandTrials: 3 }]],
  ['rlTraining', [{ sanityCheckSteps: 2, startDate: '2026-01-01', endDate: '2026-01-31', totalTimesteps: 1000 }]],
  ['dataFreshness', [{ remediate: true, alert: true }]],
  ['batteryReplan', [{ trigger: 'publication', fetchPrices: true }]],
  ['runSingleJob', [{ job: 'price_predictions', args: ['--model', 'trend'] }]],
  ['runJobBatch', [{ job: 'batch_job', each: [['0'], ['65'], ['0'], ['0']], concurrency: 2 }]],
  ['meterModelTraining', [{ meterId: 'm-1', meterType: 'electricity' }]],
  [
    'meterModelTrainingBulk',
    [
      {
        bulkId: 'record',
        meters: [
          { meterId: 'm-2', meterType: 'electricity' },
          { meterId: 'm-3', meterType: 'heat' },
        ],
        concurrency: 2,
      },
    ],
  ],
];

async function main() {
  const exported = Object.keys(workflows).filter((k) => typeof (workflows as Record<string, unknown>)[k] === 'function');
  const missing = exported.filter((w) => !RUNS.some(([t]) => t === w));
  if (missing.length) throw new Error(`no recording defined for ${missing.join(', ')}: add it to RUNS`);

  const env = await createTestServer();
  try {
    await ensureStatusAttribute(env.connection, 'default', testLogger()); // runs set HeaStatus, as at start-up
    const taskQueue = 'record-histories';
    const worker = await Worker.create({
      connection: env.nativeConnection,
      taskQueue,
      workflowBundle: await workflowBundle(),
      activities: createActivities(config, testLogger()),
    });
    await worker.runUntil(async () => {
      mkdirSync(OUT, { recursive: true });
      for (const [type, args] of RUNS) {
        if (only && !only.has(type)) continue;
        const handle = await env.client.workflow.start(type, { taskQueue, workflowId: `record-${type}`, args });
        const outcome = await handle.result().then(
          () => 'completed',
          (err: Error) => `failed (${err.message})`,
        );
        // Children started with ABANDON (freshness remediation) must finish too before the server goes.
        for await (const wf of env.client.workflow.list({ query: 'ExecutionStatus = "Running"' })) {
          await env.client.workflow
            .getHandle(wf.workflowId, wf.runId)
            .result()
            .catch(() => undefined);
        }
        // The CLI writes the proto3 JSON that Worker.runReplayHistory reads (and the Web UI downloads).
        const json = execFileSync(TEMPORAL, ['workflow', 'show', '--address', env.address, '--workflow-id', handle.workflowId, '--output', 'json'], {
          encoding: 'utf8',
          maxBuffer: 64 * 1024 * 1024,
        });
        const history = JSON.parse(json) as { events: unknown[] };
        const file = join(OUT, `${type}.json`);
        writeFileSync(file, `${JSON.stringify(history, null, 1)}\n`);
        process.stdout.write(`${type}: ${outcome}, ${history.events.length} events -> ${file}\n`);
      }
    });
  } finally {
    await env.teardown();
  }
}

await main();
process.exit(0);
