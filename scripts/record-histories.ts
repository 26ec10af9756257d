// Records one history per workflow type into test/histories/<workflowType>.json, for test/replay.test.ts.
//
//   node --import tsx scripts/record-histories.ts [--only dailyEnergyPipeline,rlTraining]
//
// Runs every workflow exported by src/workflows/index.ts against a throwaway dev server (the .venv binary,
// in memory) with fixture jobs, on paths that exercise its branches: retries, a failed step and the steps
// it skips, child workflows, queries. Re-record after a deliberate, patched change of workflow code and
// commit the new files next to the old ones (keep the old: running workflows still have old histories).
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, Runtime, Worker } from '@temporalio/worker';
import { pino } from 'pino';
import { stringify } from 'yaml';
import * as workflows from '../src/workflows/index.js';
import { createActivities } from '../src/activities/index.js';
import { parseConfig } from '../src/config/load.js';
import { bundleWorkflows } from '../src/worker.js';

const ROOT = resolve(fileURLToPath(new URL('.', import.meta.url)), '..');
const FIXTURES = join(ROOT, 'test', 'fixtures', 'jobs');
const OUT = join(ROOT, 'test', 'histories');
const PYTHON = join(ROOT, '.venv', 'bin', 'python');
const TEMPORAL = join(ROOT, '.venv', 'bin', 'temporal');

const { values } = parseArgs({ options: { only: { type: 'string' } } });
const only = values.only ? new Set(values.only.split(',')) : undefined;

const fixture = (script: string, ...args: string[]) => ({ args: [join(FIXTURES, script), ...args] });
const echo = fixture('echo_job.py');
const dir = mkdtempSync(join(tmpdir(), 'hea-record-'));
const configText = stringify({
  paths: { dataDir: join(dir, 'data'), modelsDir: join(dir, 'models'), reportsDir: join(dir, 'reports') },
  jobDefaults: {
    command: PYTHON,
    timeout: '1m',
    heartbeatTimeout: '10s',
    killGrace: '2s',
    retry: { initialInterval: '100ms', backoffCoefficient: 1, maximumInterval: '1s', maximumAttempts: 3 },
  },
  jobs: {
    prices_data: fixture('fetch_fixture.py', 'prices', 'flaky'), // attempt 1 fails: a retry in the history
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
  },
  freshness: {
    datasets: {
      prices: { series: 'price.spot', maxAge: '2h', remediate: 'hourly-exogenic' },
      consumption: { series: 'home.consumption', maxAge: '2h', remediate: 'home-data' },
    },
  },
});
const config = parseConfig(configText, join(dir, 'hea.yaml'), { env: {} });

// [workflow type, input] per recording: the types are checked against the module's exports below.
const RUNS: [string, unknown[]][] = [
  ['hourlyExogenousData', []],
  ['homeData', []],
  ['solarData', []],
  ['dailyEnergyPipeline', [{ priceModel: 'peak', horizonDays: 2 }]],
  ['weeklyModelTraining', [{ demandTrials: 3 }]],
  ['rlTraining', [{ sanityCheckSteps: 2, startDate: '2026-01-01', endDate: '2026-01-31', totalTimesteps: 1000 }]],
  ['dataFreshness', [{ remediate: true, alert: true }]],
  ['runSingleJob', [{ job: 'price_predictions', args: ['--model', 'trend'] }]],
  ['meterModelTraining', [{ meterId: 'm-1', meterType: 'electricity' }]],
  ['meterModelTrainingBulk', [{ bulkId: 'record', meters: [{ meterId: 'm-2', meterType: 'electricity' }, { meterId: 'm-3', meterType: 'heat' }], concurrency: 2 }]],
];

async function main() {
  Runtime.install({ logger: new DefaultLogger('ERROR') });
  const exported = Object.keys(workflows).filter((k) => typeof (workflows as Record<string, unknown>)[k] === 'function');
  const missing = exported.filter((w) => !RUNS.some(([t]) => t === w));
  if (missing.length) throw new Error(`no recording defined for ${missing.join(', ')}: add it to RUNS`);

  const env = await TestWorkflowEnvironment.createLocal({
    server: { executable: { type: 'existing-path', path: TEMPORAL }, ui: false, log: { format: 'pretty', level: 'error' } },
  });
  try {
    const taskQueue = 'record-histories';
    const worker = await Worker.create({
      connection: env.nativeConnection,
      taskQueue,
      workflowBundle: await bundleWorkflows(pino({ level: 'warn' })),
      activities: createActivities(config, pino({ level: 'silent' })),
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
          await env.client.workflow.getHandle(wf.workflowId, wf.runId).result().catch(() => undefined);
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
