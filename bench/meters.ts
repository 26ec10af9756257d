// Meter training benchmark: seconds per meter-year of hourly data, and bulk meters per minute against the
// machine's limit (cores / seconds per model).
//
//   node --import tsx bench/meters.ts [--meters 6] [--concurrency <cores>] [--days 365]
//
// Part 1 runs the job directly (python -m jobs.meters.train) on one meter-year of a few simulated meters of
// different types and reports its own fetch and training seconds (the seed: 2.5 s fetching and 45.8 s
// training for 8,760 points) and the wall time per model (Python start-up included). Part 2 trains
// `--meters` meters through a throwaway Temporal dev server, a worker and the bulk workflow, and compares
// meters per minute with cores * 60 / (wall seconds per model). Everything goes to a temporary directory.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, Runtime, Worker } from '@temporalio/worker';
import { pino } from 'pino';
import { stringify } from 'yaml';
import { createActivities } from '../src/activities/index.js';
import { parseConfig } from '../src/config/load.js';
import { bulkWorkflowId, type BulkTrainingInput, type BulkTrainingState } from '../src/contracts/trainings.js';
import { bundleWorkflows } from '../src/worker.js';

const ROOT = resolve(fileURLToPath(new URL('.', import.meta.url)), '..');
const PYTHON = join(ROOT, '.venv', 'bin', 'python');
const NOW = '2025-11-03T10:30:00Z';

const { values } = parseArgs({
  options: {
    meters: { type: 'string', default: '6' },
    concurrency: { type: 'string', default: String(availableParallelism()) },
    days: { type: 'string', default: '365' },
  },
});
const cores = availableParallelism();
const bulkMeters = Number(values.meters);
const concurrency = Number(values.concurrency);
const days = Number(values.days);

const dir = mkdtempSync(join(tmpdir(), 'hea-bench-meters-'));
const jobEnv = {
  HEA_DATA_DIR: join(dir, 'data'),
  HEA_MODELS_DIR: join(dir, 'models'),
  HEA_NOW: NOW,
  HEA_METER_HISTORY_DAYS: String(days),
};

interface Details {
  data_points: number;
  data_fetch_time_seconds: number;
  training_time_seconds: number;
  backfilled_hours: number;
  metrics: { mae: number; baseline_yesterday_mae: number; rmae_yesterday: number };
}

function trainOnce(meterType: string, meterId: string): { wall: number; details: Details } {
  const t0 = performance.now();
  const out = execFileSync(PYTHON, ['-m', 'jobs.meters.train', '--meter-id', meterId, '--meter-type', meterType], {
    cwd: ROOT,
    env: { ...process.env, ...jobEnv },
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  const wall = (performance.now() - t0) / 1000;
  const line = out.split('\n').find((l) => l.startsWith('{"result"'));
  if (!line) throw new Error(`no result from ${meterType}/${meterId}`);
  return { wall, details: (JSON.parse(line) as { result: { details: Details } }).result.details };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}

async function main() {
  console.log(`machine: ${cores} cores; history ${days} days; temp dir ${dir}`);
  // Part 1. The first run of each meter backfills the simulated history into the store; the second is what
  // a retraining costs (the data already there), and the one measured.
  const meters: Array<[string, string]> = [
    ['electricity', 'meter_bench_1'],
    ['heat', 'meter_bench_2'],
    ['water', 'meter_bench_3'],
    ['gas', 'meter_bench_4'],
  ];
  const rows: Array<{ meter: string; wall: number } & Details> = [];
  for (const [type, id] of meters) {
    trainOnce(type, id);
    const { wall, details } = trainOnce(type, id);
    rows.push({ meter: `${type}/${id}`, wall, ...details });
    console.log(
      `  ${`${type}/${id}`.padEnd(26)} ${String(details.data_points).padStart(6)} points  fetch ${details.data_fetch_time_seconds.toFixed(2)} s  ` +
        `train ${details.training_time_seconds.toFixed(2)} s  wall ${wall.toFixed(2)} s  MAE ${details.metrics.mae} vs yesterday ${details.metrics.baseline_yesterday_mae} (x${details.metrics.rmae_yesterday})`,
    );
  }
  const perYear = (x: number, points: number) => (x * 8760) / points;
  const fetch = median(rows.map((r) => perYear(r.data_fetch_time_seconds, r.data_points)));
  const train = median(rows.map((r) => perYear(r.training_time_seconds, r.data_points)));
  const wall = median(rows.map((r) => r.wall));
  console.log(
    `per meter-year (8,760 points, median): fetch ${fetch.toFixed(2)} s, training ${train.toFixed(2)} s (seed: 2.5 s and 45.8 s); wall per model ${wall.toFixed(2)} s`,
  );
  const limit = (cores * 60) / wall;
  console.log(`machine limit: ${cores} cores / ${wall.toFixed(2)} s per model = ${limit.toFixed(1)} meters per minute`);

  // Part 2. The bulk workflow through Temporal, at `concurrency` trainings at once.
  Runtime.install({ logger: new DefaultLogger('ERROR') });
  const env = await TestWorkflowEnvironment.createLocal({
    server: { executable: { type: 'existing-path', path: join(ROOT, '.venv', 'bin', 'temporal') }, ui: false, log: { format: 'pretty', level: 'error' } },
  });
  try {
    const config = parseConfig(
      stringify({
        paths: { dataDir: jobEnv.HEA_DATA_DIR, modelsDir: jobEnv.HEA_MODELS_DIR, reportsDir: join(dir, 'reports') },
        jobDefaults: { command: PYTHON, env: { HEA_NOW: NOW, HEA_METER_HISTORY_DAYS: String(days) }, heartbeatTimeout: '10s' },
        worker: { maxConcurrentActivities: concurrency },
        jobs: { meter_train: { args: ['-m', 'jobs.meters.train'], timeout: '10m' } },
      }),
      join(dir, 'hea.yaml'),
      { env: {} },
    );
    const taskQueue = 'bench-meters';
    const worker = await Worker.create({
      connection: env.nativeConnection,
      taskQueue,
      workflowBundle: await bundleWorkflows(pino({ level: 'warn' })),
      activities: createActivities(config, pino({ level: 'silent' })),
      maxConcurrentActivityTaskExecutions: concurrency,
    });
    const types = ['electricity', 'heat', 'water', 'gas'];
    const list = Array.from({ length: bulkMeters }, (_, i) => ({ meterType: types[i % 4]!, meterId: `meter_bulk_${i}` }));
    // Backfill first, so the bulk measures trainings, as in part 1.
    for (const m of list) trainOnce(m.meterType, m.meterId);
    const input: BulkTrainingInput = { bulkId: 'bench', meters: list, concurrency };
    const t0 = performance.now();
    const state = (await worker.runUntil(
      env.client.workflow.execute('meterModelTrainingBulk', { taskQueue, workflowId: bulkWorkflowId(`bench-${Date.now()}`), args: [input] }),
    )) as BulkTrainingState;
    const minutes = (performance.now() - t0) / 60_000;
    const rate = state.counts.SUCCESS / minutes;
    console.log(
      `bulk: ${state.counts.SUCCESS}/${state.total} meters in ${(minutes * 60).toFixed(1)} s at concurrency ${concurrency}: ` +
        `${rate.toFixed(1)} meters per minute = ${((100 * rate) / limit).toFixed(0)}% of the machine limit (${limit.toFixed(1)})`,
    );
  } finally {
    await env.teardown();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
