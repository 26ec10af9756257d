// A table of bad inputs for the CLI, the config file, the HTTP API and workflow parameters: each gets a clear error and
// its exit code, HTTP status or failure type, and nothing starts (no workflow on the server for the CLI,
// config and API rows; for workflow parameters, no activity, local activity or child in the history).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { Worker } from '@temporalio/worker';
import { stringify } from 'yaml';
import { createActivities } from '../../src/activities/index.js';
import { startApi } from '../../src/api/server.js';
import { FIXTURES, ROOT, testLogger, tmpDir, uniqueTaskQueue, useTestServer, workflowBundle } from '../helpers/env.js';
import { writeConfig } from '../helpers/faults.js';

const env = useTestServer();

const dir = tmpDir('hea-badinput-');
const echo = { args: [join(FIXTURES, 'echo_job.py')] };
const config = writeConfig({ prices_data: echo, co2_gas_coal: echo, weather_data: echo, store_status: echo }, {}, dir);

/** A config file made of a good one with one part replaced. */
function badConfig(name: string, patch: Record<string, unknown> | string): string {
  const file = join(dir, `${name}.yaml`);
  const good = { jobs: { prices_data: { args: ['x.py'] } } };
  writeFileSync(file, typeof patch === 'string' ? patch : stringify({ ...good, ...patch }));
  return file;
}

async function workflowCount(): Promise<number> {
  let n = 0;
  for await (const _ of env.client.workflow.list()) n += 1;
  return n;
}

// [what, argv, config file (default: the good one), exit code, text the error must contain]
const CLI_CASES: [string, string[], string | undefined, number, string][] = [
  ['unknown command', ['frobnicate'], undefined, 2, "unknown command 'frobnicate'"],
  ['unknown flow', ['run', 'nightly'], undefined, 2, 'unknown flow "nightly"'],
  ['parameter out of range', ['run', 'daily-pipeline', '-p', 'horizonDays=30'], undefined, 2, 'horizonDays'],
  ['parameter of the wrong kind', ['run', 'daily-pipeline', '-p', 'updateData=maybe'], undefined, 2, 'updateData'],
  ['unknown model', ['run', 'daily-pipeline', '-p', 'priceModel=median'], undefined, 2, 'priceModel'],
  ['unknown parameter', ['run', 'hourly-exogenic', '-p', 'zone=SE3'], undefined, 2, 'zone'],
  ['parameter without =', ['run', 'weekly-training', '-p', 'demandTrials'], undefined, 2, 'expected key=value'],
  ['no trials', ['run', 'weekly-training', '-p', 'demandTrials=0'], undefined, 2, 'demandTrials'],
  ['dates the wrong way round', ['run', 'rl-training', '-p', 'startDate=2026-02-01', '-p', 'endDate=2026-01-01'], undefined, 2, 'startDate must not be after endDate'],
  ['not a date', ['run', 'rl-training', '-p', 'startDate=yesterday'], undefined, 2, 'startDate'],
  ['missing argument', ['run'], undefined, 2, "missing required argument 'flow'"],
  ['unknown job', ['job', 'nosuch_job'], undefined, 2, 'unknown job "nosuch_job"'],
  [
    'backfill with a bad time',
    ['schedules', 'backfill', 'daily', '--from', 'last tuesday', '--to', '2026-01-02'],
    undefined,
    2,
    '--from: "last tuesday" is not a date/time',
  ],
  ['config: file missing', ['run', 'hourly-exogenic'], join(dir, 'missing.yaml'), 2, 'config file not found'],
  ['config: not YAML', ['run', 'hourly-exogenic'], badConfig('notyaml', 'jobs: [unclosed\n  - {'), 2, 'invalid config'],
  ['config: unknown key', ['run', 'hourly-exogenic'], badConfig('unknownkey', { jbos: {} }), 2, 'jbos'],
  ['config: bad duration', ['run', 'hourly-exogenic'], badConfig('duration', { jobDefaults: { timeout: '10 minutes' } }), 2, '"10 minutes" is not a duration'],
  ['config: bad job name', ['run', 'hourly-exogenic'], badConfig('jobname', { jobs: { 'Prices-Data': { args: [] } } }), 2, 'jobs.Prices-Data'],
  [
    'config: bad cron',
    ['run', 'hourly-exogenic'],
    badConfig('cron', { schedules: { entries: { daily: { flow: 'daily-pipeline', cron: 'at six' } } } }),
    2,
    '5-field cron',
  ],
  [
    'config: schedule of an unknown flow',
    ['run', 'hourly-exogenic'],
    badConfig('flow', { schedules: { entries: { daily: { flow: 'nightly', every: '1h' } } } }),
    2,
    'unknown flow',
  ],
  [
    'config: bad schedule parameter',
    ['run', 'hourly-exogenic'],
    badConfig('params', { schedules: { entries: { daily: { flow: 'daily-pipeline', cron: '0 6 * * *', params: { horizonDays: -1 } } } } }),
    2,
    'horizonDays',
  ],
  ['config: bad time zone', ['run', 'hourly-exogenic'], badConfig('tz', { schedules: { timezone: 'Mars/Olympus' } }), 2, 'IANA time zone'],
  ['config: negative retries', ['run', 'hourly-exogenic'], badConfig('retries', { jobDefaults: { retry: { maximumAttempts: -1 } } }), 2, 'maximumAttempts'],
];

test('bad CLI arguments and config files: exit 2 with the problem named, and no workflow started', async () => {
  const before = await workflowCount();
  const failures: string[] = [];
  for (const [what, argv, file, code, text] of CLI_CASES) {
    const res = await execa('node', [join(ROOT, 'bin', 'hea.js'), ...argv], {
      env: { HEA_CONFIG: file ?? config.file, TEMPORAL_ADDRESS: env.address, HEA_TASK_QUEUE: uniqueTaskQueue('badcli'), LOG_LEVEL: 'error' },
      reject: false,
      stdin: 'ignore',
      timeout: 60_000, // a hung command is killed, not left behind
    });
    if (res.exitCode !== code || !res.stderr.includes(text)) {
      failures.push(`${what}: exit ${res.exitCode} (want ${code}), stderr: ${res.stderr.slice(0, 400)}`);
    }
  }
  expect(failures).toEqual([]);
  expect(await workflowCount()).toBe(before);
}, 300_000); // 23 CLI processes: a minute on an idle machine, minutes on a loaded one

// [workflow, input, failure type, text the message must contain]
const PARAM_CASES: [string, unknown, string, string][] = [
  ['dailyEnergyPipeline', { horizonDays: 30 }, 'InvalidParameters', 'horizonDays'],
  ['dailyEnergyPipeline', { priceModel: 'median' }, 'InvalidParameters', 'priceModel'],
  ['dailyEnergyPipeline', { updateData: 'yes' }, 'InvalidParameters', 'updateData'],
  ['dailyEnergyPipeline', { surprise: 1 }, 'InvalidParameters', 'surprise'],
  ['dailyEnergyPipeline', 'daily', 'InvalidParameters', 'params'],
  ['weeklyModelTraining', { demandTrials: 0 }, 'InvalidParameters', 'demandTrials'],
  ['weeklyModelTraining', { demandTrials: 2.5 }, 'InvalidParameters', 'demandTrials'],
  ['rlTraining', { startDate: '2026-02-01', endDate: '2026-01-01' }, 'InvalidParameters', 'startDate'],
  ['rlTraining', { totalTimesteps: -5 }, 'InvalidParameters', 'totalTimesteps'],
  ['dataFreshness', { remediate: 'yes' }, 'InvalidParameters', 'remediate'],
];

test('bad workflow parameters fail the run at once, not retried, before any activity', async () => {
  const taskQueue = uniqueTaskQueue('badparams');
  const worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue,
    workflowBundle: await workflowBundle(),
    activities: createActivities(config, testLogger()),
  });
  await worker.runUntil(async () => {
    for (const [i, [workflow, input, type, text]] of PARAM_CASES.entries()) {
      const handle = await env.client.workflow.start(workflow, { taskQueue, workflowId: `bad-${i}-${taskQueue}`, args: [input] });
      const err = await handle.result().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(WorkflowFailedError);
      const cause = (err as WorkflowFailedError).cause as ApplicationFailure;
      expect([workflow, cause.type, cause.nonRetryable]).toEqual([workflow, type, true]);
      expect(cause.message).toContain(text);
      const events = (await handle.fetchHistory()).events ?? [];
      const started = events.filter(
        (e) => e.activityTaskScheduledEventAttributes || e.markerRecordedEventAttributes || e.startChildWorkflowExecutionInitiatedEventAttributes,
      );
      expect([workflow, started.length]).toEqual([workflow, 0]);
    }
  });
});

test('a job missing from the registry: UnknownJob, one attempt, no process', async () => {
  const taskQueue = uniqueTaskQueue('unknownjob');
  const worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue,
    workflowBundle: await workflowBundle(),
    activities: createActivities(config, testLogger()),
  });
  const handle = await env.client.workflow.start('runSingleJob', { taskQueue, workflowId: `nojob-${taskQueue}`, args: [{ job: 'nosuch_job' }] });
  const err = await worker.runUntil(handle.result().catch((e: unknown) => e));
  const cause = ((err as WorkflowFailedError).cause as { cause: ApplicationFailure }).cause;
  expect([cause.type, cause.nonRetryable]).toEqual(['UnknownJob', true]);
  expect(cause.message).toContain(`no job named "nosuch_job" in ${config.file}`);
  const events = (await handle.fetchHistory()).events ?? [];
  expect(events.filter((e) => e.activityTaskStartedEventAttributes).map((e) => e.activityTaskStartedEventAttributes!.attempt)).toEqual([1]);
});

const TOKEN = 'a-test-token-of-some-length';
const AUTH = { authorization: `Bearer ${TOKEN}` };
// [method, path, body (a string is sent as it is), headers, status, text the answer must contain]
const API_CASES: [string, string, unknown, Record<string, string>, number, string][] = [
  ['POST', '/trainmodel/', { meter_id: 'm1', meter_type: 'electricity' }, {}, 401, 'Not authenticated'],
  ['POST', '/trainmodel/', { meter_id: 'm1', meter_type: 'electricity' }, { authorization: 'Bearer not-the-right-token' }, 401, 'Not authenticated'],
  ['POST', '/trainmodel/', '{not json', AUTH, 422, 'not valid JSON'],
  ['POST', '/trainmodel/', {}, AUTH, 422, 'meter_type must be one of: electricity, heat, water, gas'],
  ['POST', '/trainmodel/', { meter_id: '../etc/passwd', meter_type: 'electricity' }, AUTH, 422, 'meter_id must not contain \\"..\\"'],
  ['POST', '/trainmodel/', { meter_id: 'm1', meter_type: 'plutonium' }, AUTH, 422, 'meter_type must be one of'],
  ['POST', '/trainmodel/', { meter_id: 'x'.repeat(65), meter_type: 'heat' }, AUTH, 422, 'meter_id must be at most 64 characters'],
  ['POST', '/trainmodel/bulk', { meters: [] }, AUTH, 422, 'give at least one meter'],
  ['POST', '/trainmodel/bulk', { meters: [{ meter_id: 'm1', meter_type: 'heat' }], concurrency: 999 }, AUTH, 422, 'concurrency must be at most'],
  ['GET', '/trainmodel/status/not-a-task', undefined, {}, 404, 'Task not-a-task not found'],
  ['GET', '/trainmodel/status/electricity:m1:01a1fcb3-841c-7722-865d-5f4d7f4d9987', undefined, {}, 404, 'not found'],
  ['GET', '/trainmodel/bulk/nope', undefined, {}, 404, 'Bulk request nope not found'],
];

test('bad HTTP API requests: 401, 422 or 404 with the problem named, and no workflow started', async () => {
  const apiConfig = writeConfig({ meter_train: echo }, { api: { port: 0, token: TOKEN } });
  const api = await startApi(
    { config: apiConfig, client: env.client, target: { taskQueue: uniqueTaskQueue('badapi'), namespace: 'default' }, logger: testLogger() },
    { host: '127.0.0.1', port: 0 },
  );
  try {
    const before = await workflowCount();
    const failures: string[] = [];
    for (const [method, path, body, headers, status, text] of API_CASES) {
      const res = await fetch(`${api.url}${path}`, {
        method,
        headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers },
        body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
      });
      const answer = await res.text();
      if (res.status !== status || !answer.includes(text)) failures.push(`${method} ${path}: ${res.status} (want ${status}) ${answer.slice(0, 300)}`);
    }
    expect(failures).toEqual([]);
    expect(await workflowCount()).toBe(before);
  } finally {
    await api.close();
  }
});
