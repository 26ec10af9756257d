// The real fetch job and the real store under faults: a fetch killed after writing part of its rows and
// retried leaves each row once; a data, models or reports folder that cannot be written gives a clear
// error naming the path and leaves nothing half-written. Runs as root too: a regular file where a
// directory must be stops writes whatever the permissions.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { WorkflowFailedError } from '@temporalio/client';
import { ActivityFailure, ApplicationFailure } from '@temporalio/common';
import { Worker } from '@temporalio/worker';
import { createActivities, type JobOutcome } from '../../src/activities/index.js';
import type { AppConfig } from '../../src/config/load.js';
import { startEmbeddedServer } from '../../src/temporal/embedded.js';
import { FIXTURES, PYTHON, ROOT, TEMPORAL_BIN, fixtureWorker, testLogger, tmpDir, uniqueTaskQueue, useTestServer, workflowBundle } from '../helpers/env.js';
import { freePort, writeConfig, writeScript, type JobDef } from '../helpers/faults.js';

const env = useTestServer();

// Reproducible: the simulator's prices for a year up to this instant.
const JOB_ENV = { HEA_NOW: '2026-01-15T12:00:00Z', HEA_PRICE_SOURCE: 'simulator', HEA_BACKFILL_DAYS: '365' };
const STATUS: JobDef = { args: ['-m', 'jobs.store.status'], env: JOB_ENV };

/** Runs jobs.prices.fetch and, on attempt 1, kills it after `chunks` chunks were written, then exits 1 (retried). */
const KILL_MID_FETCH = `
import json, os, subprocess, sys
chunks = int(sys.argv[1])
p = subprocess.Popen([sys.executable, "-m", "jobs.prices.fetch"], stdout=subprocess.PIPE, text=True)
seen = 0
for line in p.stdout:
    sys.stdout.write(line)
    sys.stdout.flush()
    try:
        msg = json.loads(line)
    except ValueError:
        continue
    if msg.get("stage") == "fetching":
        seen += 1
        if os.environ["HEA_ATTEMPT"] == "1" and seen == chunks:
            p.kill()
            p.wait()
            print(f"killed the fetch after {seen} chunks", file=sys.stderr)
            sys.exit(1)
sys.exit(p.wait())
`;

async function runJob(config: AppConfig, job: string, args: string[] = []): Promise<JobOutcome> {
  const taskQueue = uniqueTaskQueue('store');
  const worker = await fixtureWorker(env, config, taskQueue);
  return worker.runUntil(env.client.workflow.execute('runSingleJob', { taskQueue, workflowId: `${job}-${taskQueue}`, args: [{ job, args }] })) as Promise<JobOutcome>;
}

async function jobFailure(config: AppConfig, job: string, args: string[] = []): Promise<ApplicationFailure> {
  const err = await runJob(config, job, args).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(WorkflowFailedError);
  const cause = ((err as WorkflowFailedError).cause as ActivityFailure).cause as ApplicationFailure;
  expect(cause).toBeInstanceOf(ApplicationFailure);
  return cause;
}

type Status = { series: Record<string, { rows: number; first: string; latest: string }>; models: Record<string, unknown> };

test('a fetch killed after writing part of its rows, then retried, leaves each row once', async () => {
  const dir = tmpDir('hea-fetch-');
  const wrapper = writeScript(dir, 'kill_mid_fetch.py', KILL_MID_FETCH);
  const config = writeConfig({ prices_data: { args: [wrapper, '5'], env: JOB_ENV }, store_status: STATUS }, {}, dir);
  const outcome = await runJob(config, 'prices_data');
  expect(outcome.attempt).toBe(2);
  const resumed = outcome.result as { rows_written: number; first: string };

  // The same fetch, run bare and uninterrupted into an empty store: the reference.
  const cleanDir = tmpDir('hea-fetch-clean-');
  const runBare = (module: string) => {
    const out = execFileSync(PYTHON, ['-m', module], { cwd: ROOT, env: { ...process.env, ...JOB_ENV, HEA_DATA_DIR: cleanDir }, encoding: 'utf8' });
    return JSON.parse(out.trim().split('\n').at(-1)!).result;
  };
  const clean = runBare('jobs.prices.fetch') as { rows_written: number };
  const cleanStatus = runBare('jobs.store.status') as Status;

  const status = (await runJob(config, 'store_status')).result as Status;
  expect(status.series['price.spot']).toEqual(cleanStatus.series['price.spot']);
  expect(status.series['price.spot']!.rows).toBe(clean.rows_written);
  // Attempt 2 resumed from what attempt 1 had stored instead of starting over.
  expect(resumed.rows_written).toBeLessThan(clean.rows_written);
  expect(resumed.first > cleanStatus.series['price.spot']!.first).toBe(true);

  // And once more: nothing new, nothing doubled.
  await runJob(config, 'prices_data');
  expect(((await runJob(config, 'store_status')).result as Status).series['price.spot']).toEqual(cleanStatus.series['price.spot']);
});

test('a data folder that is a file: ConfigError naming the path, not retried, nothing written', async () => {
  const dir = tmpDir('hea-nodata-');
  const blocker = join(dir, 'data');
  writeFileSync(blocker, 'not a directory\n');
  const config = writeConfig({ prices_data: { args: ['-m', 'jobs.prices.fetch'], env: JOB_ENV } }, {}, dir);
  expect(config.dirs.data).toBe(blocker);
  const cause = await jobFailure(config, 'prices_data');
  expect(cause.type).toBe('ConfigError');
  expect(cause.nonRetryable).toBe(true);
  expect(cause.message).toContain(`cannot create the store directory ${blocker}`);
  expect((cause.details?.[0] as { attempt: number }).attempt).toBe(1);
  expect(readFileSync(blocker, 'utf8')).toBe('not a directory\n');
});

test('a models folder that is a file: the training fails naming the path; no model is registered', async () => {
  const dir = tmpDir('hea-nomodels-');
  const blocker = join(dir, 'models');
  writeFileSync(blocker, 'not a directory\n');
  const config = writeConfig(
    {
      prices_data: { args: ['-m', 'jobs.prices.fetch'], env: JOB_ENV },
      prices_train: { args: ['-m', 'jobs.prices.train'], env: JOB_ENV, retry: { maximumAttempts: 1 } },
      store_status: STATUS,
    },
    {},
    dir,
  );
  await runJob(config, 'prices_data');
  const cause = await jobFailure(config, 'prices_train', ['--model', 'trend', '--production']);
  // Today a JobFailed (exit 1, the traceback's last line names the path): jobs/common/protocol.py maps only
  // PermissionError to 73, not NotADirectoryError. Either way the path is in the message.
  expect(cause.message).toContain(blocker);
  const status = (await runJob(config, 'store_status')).result as Status;
  expect(status.models).toEqual({});
  expect(readFileSync(blocker, 'utf8')).toBe('not a directory\n');
  expect(readdirSync(config.dirs.data).filter((f) => f.includes('tmp'))).toEqual([]);
});

test('a reports folder that is a file: the run fails with the path in its error', async () => {
  const dir = tmpDir('hea-noreports-');
  const blocker = join(dir, 'reports');
  writeFileSync(blocker, 'not a directory\n');
  const config = writeConfig({ solar_actual: { args: [join(FIXTURES, 'echo_job.py')] }, solar_predictions: { args: [join(FIXTURES, 'echo_job.py')] } }, {}, dir);
  const taskQueue = uniqueTaskQueue('reports');
  const worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue,
    workflowBundle: await workflowBundle(),
    activities: createActivities(config, testLogger()),
  });
  const err = await worker.runUntil(env.client.workflow.execute('solarData', { taskQueue, workflowId: `solar-${taskQueue}`, args: [{}] })).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(WorkflowFailedError);
  const cause = ((err as WorkflowFailedError).cause as ActivityFailure).cause as ApplicationFailure;
  expect(cause.message).toContain(blocker);
  expect(readFileSync(blocker, 'utf8')).toBe('not a directory\n');
}, 60_000);

test('a Temporal database path under a file: the embedded server refuses to start, naming the path', async () => {
  const dir = tmpDir('hea-nodb-');
  const blocker = join(dir, 'var');
  writeFileSync(blocker, 'not a directory\n');
  const err = await startEmbeddedServer({
    binary: TEMPORAL_BIN,
    ip: '127.0.0.1',
    port: await freePort(),
    uiPort: await freePort(),
    dbFile: join(blocker, 'temporal.db'),
    logFile: join(dir, 'server.log'),
    namespace: 'default',
    startTimeoutMs: 10_000,
    logger: testLogger(),
  }).catch((e: unknown) => e as Error);
  // (An fs error from Node's own realm: not instanceof this test's Error.)
  expect(['EEXIST', 'ENOTDIR']).toContain((err as NodeJS.ErrnoException).code);
  expect((err as Error).message).toContain(blocker);
  expect(existsSync(join(dir, 'server.log'))).toBe(false);
});
