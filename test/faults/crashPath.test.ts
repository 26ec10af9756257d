// The crash path as a user meets it: `hea start` (embedded server, worker, API in one process) is
// SIGKILLed while `hea run` follows a pipeline whose job runs. The embedded server lives on (its own
// process), the restarted `hea start` reuses it, the interrupted job is retried within 30 s with the
// shipped heartbeat and retry settings, and `hea run` follows its run to the end and exits 0.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa, type ResultPromise } from 'execa';
import { Client, Connection } from '@temporalio/client';
import { hasWorkers } from '../../src/app.js';
import { loadConfig } from '../../src/config/load.js';
import { pidFileOf } from '../../src/temporal/embedded.js';
import type { RunReport } from '../../src/workflows/report.js';
import { FIXTURE_JOB_DEFAULTS, ROOT, TEMPORAL_BIN, pidAlive, quietRuntime, tmpDir, waitFor } from '../helpers/env.js';
import { RUNLOG_JOB, freePort, readRuns, readStep, writeConfig, writeScript } from '../helpers/faults.js';

const RETRY_WITHIN_MS = 30_000;

function hea(args: string[], configFile: string, logFile: string): ResultPromise {
  return execa('node', [join(ROOT, 'bin', 'hea.js'), ...args], {
    env: { HEA_CONFIG: configFile, TEMPORAL_ADDRESS: '', LOG_LEVEL: 'info' },
    reject: false,
    stdin: 'ignore',
    stderr: { file: logFile, append: true },
    ...(args[0] === 'run' ? {} : { stdout: { file: logFile, append: true } }),
  });
}

test('SIGKILL of hea start: the server lives on, the job is retried within 30 s, hea run follows to success', async () => {
  quietRuntime();
  const dir = tmpDir('hea-crash-');
  const script = writeScript(dir, 'runlog_job.py', RUNLOG_JOB);
  // The shipped sizing, not a test's: the heartbeat timeout and the retry policy from config/hea.yaml.
  const shipped = loadConfig().jobDefaults;
  const [port, uiPort, metricsPort] = [await freePort(), await freePort(), await freePort()];
  const dbFile = join(dir, 'var', 'temporal.db');
  const config = writeConfig(
    {
      solar_actual: { args: [script, '1', '0'] },
      solar_predictions: { args: [script, '40', '0.5'] },
    },
    {
      jobDefaults: {
        ...FIXTURE_JOB_DEFAULTS,
        heartbeatTimeout: `${shipped.heartbeatTimeout}ms`,
        retry: {
          initialInterval: `${shipped.retry.initialInterval}ms`,
          backoffCoefficient: shipped.retry.backoffCoefficient,
          maximumInterval: `${shipped.retry.maximumInterval}ms`,
          maximumAttempts: shipped.retry.maximumAttempts,
        },
      },
      temporal: { taskQueue: 'crash-path', embedded: { binary: TEMPORAL_BIN, port, uiPort, dbFile } },
      worker: { metricsAddress: `127.0.0.1:${metricsPort}` },
      api: { enabled: false },
      schedules: { firstTraining: false },
    },
    dir,
  );
  const address = `127.0.0.1:${port}`;
  const serverPid = () => (existsSync(pidFileOf(dbFile)) ? (JSON.parse(readFileSync(pidFileOf(dbFile), 'utf8')) as { pid: number }).pid : undefined);
  const startLog = join(dir, 'start.log');
  let start = hea(['start'], config.file, startLog);
  let run: ResultPromise | undefined;
  let connection: Connection | undefined;
  try {
    connection = await waitFor('the embedded server', () => Connection.connect({ address, connectTimeout: 1_000 }), 120_000);
    const client = new Client({ connection });
    const target = { namespace: 'default', taskQueue: 'crash-path' } as Parameters<typeof hasWorkers>[1];
    await waitFor("hea start's worker to poll", () => hasWorkers(client, target, 5_000), 120_000);

    run = hea(['run', 'solar-data', '--json'], config.file, join(dir, 'run.log'));
    await waitFor('the solar forecast to get going', () => readStep(config.dirs.data, 'solar_predictions') >= 3, 120_000);
    const pid = serverPid();
    expect(pid).toBeDefined();

    const killedAt = Date.now();
    start.kill('SIGKILL');
    await start;
    // The server is its own process: it still answers, and the same process does.
    await client.workflowService.getSystemInfo({});
    expect(pidAlive(pid!)).toBe(true);

    start = hea(['start'], config.file, startLog);
    // The sizing: when the server gives up on the dead worker's attempt and schedules attempt 2. (When the
    // job then starts also depends on how fast the new hea start is up: seconds on an idle machine.)
    const handle = client.workflow.getHandle(
      (await waitFor('the run', async () => {
        for await (const w of client.workflow.list({ query: "WorkflowType = 'solarData'" })) return w.workflowId;
        return undefined;
      }))!,
    );
    await waitFor(
      'attempt 2 of the interrupted job to be scheduled',
      async () => ((await handle.describe()).raw.pendingActivities ?? []).some((a) => (a.attempt ?? 1) >= 2),
      90_000,
    );
    const retryScheduledMs = Date.now() - killedAt;
    const retried = await waitFor(
      'the interrupted job to run again',
      () => readRuns(config.dirs.data).find((r) => r.job === 'solar_predictions' && r.attempt === 2),
      90_000,
    );
    const rerunMs = retried.t * 1000 - killedAt;
    process.stderr.write(`crash path: attempt 2 scheduled ${(retryScheduledMs / 1000).toFixed(1)} s after the kill, running after ${(rerunMs / 1000).toFixed(1)} s\n`);
    expect(retryScheduledMs).toBeLessThan(RETRY_WITHIN_MS);

    const finished = await run;
    expect(finished.exitCode).toBe(0);
    const report = JSON.parse(String(finished.stdout)) as RunReport;
    expect(report.status).toBe('success');
    expect(report.steps.find((s) => s.job === 'solar_predictions')?.attempts).toBe(2);
    // The restarted hea start took over the same server, not a new one.
    expect(serverPid()).toBe(pid);
    expect(readFileSync(startLog, 'utf8')).toContain('started earlier is still running; using it');

    // Ctrl-C on the restarted hea start stops the server it took over.
    start.kill('SIGTERM');
    await start;
    await waitFor('the server to stop with hea start', () => !pidAlive(pid!), 30_000);
  } finally {
    await connection?.close().catch(() => undefined);
    start.kill('SIGKILL');
    run?.kill('SIGKILL');
    const left = serverPid();
    if (left && pidAlive(left)) process.kill(-left, 'SIGKILL');
  }
}, 300_000);
