// The warm job host keeps every promise of the job runner: the protocol (progress, result, the error line),
// the job's environment without the worker's credentials, its own process group killed whole on cancel,
// the exit-code classes, the lifeline when the worker is SIGKILLed, and a cold start when the host cannot
// start. Each test checks that its job really ran warm (forked from the host, in its interpreter).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { WorkflowFailedError } from '@temporalio/client';
import { ActivityFailure, ApplicationFailure } from '@temporalio/common';
import type { JobFailureDetails, JobOutcome } from '../../src/activities/index.js';
import type { AppConfig } from '../../src/config/load.js';
import { warmHostOf } from '../../src/activities/jobProcess.js';
import { stopJobHosts } from '../../src/process/jobHost.js';
import { FIXTURES, pidAlive, tmpDir, uniqueTaskQueue, useTestServer, waitFor } from '../helpers/env.js';
import { capturingLogger, pendingHeartbeat, startSingleJob, startWorkerProcess, withJobWorker, writeConfig, writeScript } from '../helpers/faults.js';

const env = useTestServer();
afterAll(() => stopJobHosts());

const dir = tmpDir('hea-warm-');
const ENV_JOB = writeScript(
  dir,
  'env_job.py',
  `
import json, os, sys
print(json.dumps({"progress": 50, "stage": "env"}))
print("plain text on stdout")
print("a line on stderr", file=sys.stderr)
keys = ["HEA_JOB_NAME", "HEA_ATTEMPT", "TEMPORAL_API_KEY", "HEA_API_TOKEN", "PYTHONUNBUFFERED", "JOB_OWN", "TZ"]
print(json.dumps({"result": {"env": {k: os.environ.get(k) for k in keys}, "argv": sys.argv[1:], "cwd": os.getcwd(),
                             "pandas_preloaded": "pandas" in sys.modules, "jobs_modules": sorted(m for m in sys.modules if m.startswith("jobs."))}}))
`,
);
const ERROR_JOB = writeScript(
  dir,
  'error_job.py',
  `
import json, sys
print(json.dumps({"error": {"type": "DataError", "message": "first guess"}}))
print(json.dumps({"error": {"type": "DataError", "message": "meter m1 has 3 days of readings, needs 28", "field": "meter_id"}}))
print("details on stderr", file=sys.stderr)
sys.exit(65)
`,
);
const CRASH_JOB = writeScript(dir, 'crash_job.py', 'raise RuntimeError("an uncaught bug")\n');
const SIGNAL_JOB = writeScript(dir, 'signal_job.py', 'import os, signal\nos.kill(os.getpid(), signal.SIGKILL)\n');

const jobs = {
  env: { args: [ENV_JOB, 'one', 'two'], env: { JOB_OWN: 'mine', TZ: 'Asia/Tokyo' } },
  module: { args: ['-m', 'jobs.common.timeutil'] },
  error: { args: [ERROR_JOB] },
  crash: { args: [CRASH_JOB] },
  killed: { args: [SIGNAL_JOB], retry: { maximumAttempts: 1 } },
  missing: { command: '/nonexistent/bin/job' },
  shell: { command: '/bin/sh', args: ['-c', 'echo \'{"result": {"shell": true}}\'; exit 0'] },
  tree: { args: [join(FIXTURES, 'tree_job.py')], timeout: '1m', heartbeatTimeout: '5s', killGrace: '1s', retry: { maximumAttempts: 1 } },
};
const config = writeConfig(jobs, { jobHost: { preload: ['pandas'], idleTimeout: '5m' } }, dir);
const captured = capturingLogger();
// Jobs run cold while the host starts; these tests are about a host that is up.
beforeAll(() => warmHostOf(config, captured.logger)!.warmUp(), 120_000);

const withWorker = <T>(cfg: AppConfig, fn: (taskQueue: string) => Promise<T>) => withJobWorker(env, cfg, captured.logger, 'warm', fn);
const start = (taskQueue: string, job: string) => startSingleJob(env, taskQueue, job);

/** How the runner says it started the job's last run. */
function via(job: string): unknown {
  return captured
    .lines()
    .filter((l) => l.job === job && l.msg === 'job started')
    .at(-1)?.via;
}

async function failureOf(handle: Awaited<ReturnType<typeof start>>) {
  const err = await handle.result().catch((e: unknown) => e);
  expect(err).toBeInstanceOf(WorkflowFailedError);
  const cause = ((err as WorkflowFailedError).cause as ActivityFailure).cause as ApplicationFailure;
  expect(cause).toBeInstanceOf(ApplicationFailure);
  return { cause, details: cause.details?.[0] as JobFailureDetails };
}

function parentOf(pid: number): number {
  return Number(readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')[1]);
}
function cmdline(pid: number): string {
  return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
}

test('protocol and environment through the warm host: progress, result, logs, the job env without credentials', async () => {
  process.env.TEMPORAL_API_KEY = 'secret-key';
  process.env.HEA_API_TOKEN = 'secret-token';
  try {
    await withWorker(config, async (taskQueue) => {
      const outcome = (await (await start(taskQueue, 'env')).result()) as JobOutcome;
      expect(via('env')).toBe('warm');
      expect(outcome.lastProgress).toEqual({ progress: 50, stage: 'env' });
      expect(outcome.result).toEqual({
        env: { HEA_JOB_NAME: 'env', HEA_ATTEMPT: '1', TEMPORAL_API_KEY: null, HEA_API_TOKEN: null, PYTHONUNBUFFERED: '1', JOB_OWN: 'mine', TZ: 'Asia/Tokyo' },
        argv: ['one', 'two'],
        cwd: config.root,
        pandas_preloaded: true,
        jobs_modules: [],
      });
      const logged = captured.lines().filter((l) => l.job === 'env');
      expect(logged).toContainEqual(expect.objectContaining({ stream: 'stdout', msg: 'plain text on stdout' }));
      expect(logged).toContainEqual(expect.objectContaining({ stream: 'stderr', msg: 'a line on stderr' }));

      // A module job (`python -m ...`) and a non-Python command (forked and exec'd by the host).
      expect((await (await start(taskQueue, 'module')).result()) as JobOutcome).toMatchObject({ job: 'module' });
      expect(via('module')).toBe('warm');
      expect(((await (await start(taskQueue, 'shell')).result()) as JobOutcome).result).toEqual({ shell: true });
      expect(via('shell')).toBe('host');
    });
  } finally {
    delete process.env.TEMPORAL_API_KEY;
    delete process.env.HEA_API_TOKEN;
  }
});

test('exit-code classes through the warm host: the error line, an uncaught exception, a signal, a missing command', async () => {
  await withWorker(config, async (taskQueue) => {
    const error = await failureOf(await start(taskQueue, 'error'));
    expect(via('error')).toBe('warm');
    expect(error.cause.type).toBe('DataError');
    expect(error.cause.nonRetryable).toBe(true);
    // The last error line wins, and it is the message's first line.
    expect(error.details.jobError).toEqual({ type: 'DataError', message: 'meter m1 has 3 days of readings, needs 28', field: 'meter_id' });
    expect(error.cause.message.split('\n')[0]).toBe('job error exited with code 65: DataError: meter m1 has 3 days of readings, needs 28 (field meter_id)');
    expect(error.details.stderrTail).toEqual(['details on stderr']);

    const crash = await failureOf(await start(taskQueue, 'crash'));
    expect(crash.cause.type).toBe('JobFailed');
    expect(crash.details.exitCode).toBe(1);
    // The traceback as a fresh interpreter prints it: the job's frames, none of the host's.
    expect(crash.details.stderrTail[0]).toBe('Traceback (most recent call last):');
    expect(crash.details.stderrTail.at(-1)).toBe('RuntimeError: an uncaught bug');
    expect(crash.details.stderrTail.join('\n')).not.toContain('jobhost');

    const killed = await failureOf(await start(taskQueue, 'killed'));
    expect([killed.cause.type, killed.details.signal]).toEqual(['JobKilled', 'SIGKILL']);

    const missing = await failureOf(await start(taskQueue, 'missing'));
    expect(via('missing')).toBe('host');
    expect([missing.cause.type, missing.cause.nonRetryable, missing.details.exitCode]).toEqual(['JobNotFound', true, 127]);
  });
});

test('cancel kills the whole tree of a warm job: the job leads its own group, the worker is not its parent', async () => {
  await withWorker(config, async (taskQueue) => {
    const handle = await start(taskQueue, 'tree');
    const { pid, child, group } = await waitFor('the job to report its pids', async () => {
      const beat = await pendingHeartbeat(env.client, handle, 'tree');
      return beat?.message ? { ...(JSON.parse(beat.message) as { pid: number; child: number }), group: beat.pid! } : undefined;
    });
    expect(via('tree')).toBe('warm');
    expect(group).toBe(pid); // the heartbeat's pid is the job itself, leader of its group
    expect(parentOf(pid)).not.toBe(process.pid);
    expect(cmdline(parentOf(parentOf(pid)))).toContain('jobs.common.jobhost');
    await handle.cancel();
    await expect(handle.result()).rejects.toThrow();
    await waitFor('the job and its child to be gone', () => !pidAlive(pid) && !pidAlive(child), 15_000);
  });
});

test('the lifeline: SIGKILL the worker and the warm job, its child and the host all die', async () => {
  const taskQueue = uniqueTaskQueue('warm-lifeline');
  const logFile = join(dir, 'worker.log');
  const worker = startWorkerProcess({ configFile: config.file, address: env.address, taskQueue, logFile });
  try {
    // The worker's first job runs cold and starts its host.
    await (await start(taskQueue, 'shell')).result();
    await waitFor("the worker's job host", () => readFileSync(logFile, 'utf8').includes('job host ready'), 120_000);
    const handle = await start(taskQueue, 'tree');
    const { pid, child } = await waitFor(
      'the job to report its pids',
      async () => {
        const beat = await pendingHeartbeat(env.client, handle, 'tree');
        return beat?.message ? (JSON.parse(beat.message) as { pid: number; child: number }) : undefined;
      },
      60_000,
    );
    const supervisor = parentOf(pid);
    const host = parentOf(supervisor);
    expect(cmdline(host)).toContain('jobs.common.jobhost');
    worker.kill('SIGKILL');
    await worker;
    await waitFor('the job, its child, its supervisor and the host to be gone', () => ![pid, child, supervisor, host].some(pidAlive), 20_000);
    await handle.terminate();
  } finally {
    worker.kill('SIGKILL');
  }
});

test('an idle host exits after its idle timeout; the next job runs cold while a new one starts', async () => {
  const idle = writeConfig({ env: jobs.env }, { jobHost: { preload: ['pandas'], idleTimeout: '8s' } }, tmpDir('hea-warm-idle-'));
  const host = warmHostOf(idle, captured.logger)!;
  await withWorker(idle, async (taskQueue) => {
    await host.warmUp();
    await (await start(taskQueue, 'env')).result();
    expect(via('env')).toBe('warm');
    const first = (await host.pid())!;
    await waitFor('the idle host to exit', () => !pidAlive(first), 30_000);
    const cold = (await (await start(taskQueue, 'env')).result()) as JobOutcome;
    expect(via('env')).toBe('supervisor');
    expect(cold.result).toMatchObject({ pandas_preloaded: false });
    await host.warmUp();
    await (await start(taskQueue, 'env')).result();
    expect(via('env')).toBe('warm');
    expect(await host.pid()).not.toBe(first);
  });
});

test('a host that cannot start: the job runs cold, with a warning', async () => {
  const broken = writeConfig({ env: jobs.env }, { jobHost: { preload: ['pandas'], startTimeout: '1ms' } }, tmpDir('hea-warm-broken-'));
  await withWorker(broken, async (taskQueue) => {
    const outcome = (await (await start(taskQueue, 'env')).result()) as JobOutcome;
    expect(outcome.result).toMatchObject({ argv: ['one', 'two'], pandas_preloaded: false });
    expect(via('env')).toBe('supervisor');
    await waitFor('the warning', () => captured.lines().some((l) => l.msg === 'the warm job host did not start; jobs run cold for now'));
  });
});
