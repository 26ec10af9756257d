import { z } from 'zod';
import { durationMs } from './duration.js';
import { apiSchema } from './api.js';
import { freshnessSchema, schedulesSchema } from './schedules.js';
import { mqttSchema } from './mqtt.js';

/** A job or dataset name: also used in env vars, file names and workflow ids. */
const identifier = z.string().regex(/^[a-z][a-z0-9_]*$/, 'use lower case letters, digits and _');

export const retryPolicySchema = z
  .object({
    initialInterval: durationMs.default(60_000),
    backoffCoefficient: z.number().min(1).max(10).default(2),
    maximumInterval: durationMs.default(600_000),
    maximumAttempts: z.number().int().min(0).default(3),
  })
  .strict();

/**
 * How a job is started: `warm` through the job host (a Python job with the host's interpreter runs in a fork
 * of it, with the heavy libraries imported already; any other command is forked and exec'd by it), `cold`
 * under a supervisor process of its own (a fresh interpreter every time).
 */
const hostMode = z.enum(['warm', 'cold']);

const envMap = z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'not an environment variable name'), z.string());

/** What every job inherits unless it says otherwise. */
export const jobDefaultsSchema = z
  .object({
    command: z.string().min(1).default('.venv/bin/python'),
    cwd: z.string().default('.'),
    timeout: durationMs.default(3_600_000),
    heartbeatTimeout: durationMs.default(15_000),
    killGrace: durationMs.default(10_000),
    retry: retryPolicySchema.default(retryPolicySchema.parse({})),
    env: envMap.default({}),
    host: hostMode.default('warm'),
  })
  .strict();

/** One entry of the jobs registry (the seed's SCRIPT_PATHS), before defaults are applied. */
export const jobSchema = z
  .object({
    description: z.string().optional(),
    command: z.string().min(1).optional(),
    args: z.array(z.string()).default([]),
    cwd: z.string().optional(),
    timeout: durationMs.optional(),
    heartbeatTimeout: durationMs.optional(),
    killGrace: durationMs.optional(),
    // No defaults here: what a job leaves out comes from jobDefaults.retry.
    retry: z
      .object({
        initialInterval: durationMs.optional(),
        backoffCoefficient: z.number().min(1).max(10).optional(),
        maximumInterval: durationMs.optional(),
        maximumAttempts: z.number().int().min(0).optional(),
      })
      .strict()
      .optional(),
    env: envMap.default({}),
    host: hostMode.optional(),
    /**
     * Batches of this job (`hea job <name> --runs N`, runJobBatch) run as local activities: in the worker
     * that runs the batch's workflow, with no activity task through the server per run (results are
     * recorded as markers, many per workflow task). For many short runs: the bound is the job's `timeout`
     * (local activities do not heartbeat), retries follow `retry`. A single run (`hea job <name>`) and
     * the pipelines are unaffected.
     */
    local: z.boolean().default(false),
  })
  .strict();

/** The warm job host (src/process/jobHost.ts, jobs/common/jobhost.py). */
export const jobHostSchema = z
  .object({
    /** The host's interpreter: jobs whose command is this one run warm. Default: jobDefaults.command. */
    python: z.string().min(1).optional(),
    /** Third-party modules imported once, up front (never jobs.*: they read the environment at import). */
    preload: z
      .array(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$/, 'expected a module name such as pandas or sklearn.model_selection'))
      .default(['numpy', 'pandas', 'xgboost', 'sklearn.model_selection']),
    /** With no job running for this long the host exits (the idle system stays small); the next job starts it. */
    idleTimeout: durationMs.default(300_000),
    /** How long the host may take to start (its imports); past it, jobs run cold. */
    startTimeout: durationMs.default(60_000),
  })
  .strict();

const port = z.number().int().min(1).max(65_535);

export const temporalSchema = z
  .object({
    /** host:port of a Temporal cluster; unset means the embedded dev server (TEMPORAL_ADDRESS overrides). */
    address: z.string().min(1).optional(),
    namespace: z.string().min(1).default('default'),
    taskQueue: z.string().min(1).default('home-energy'),
    /** Meter trainings (the API, `hea train-meters`) run here, so a burst of them never starves the pipelines. */
    meterTaskQueue: z.string().min(1).default('home-energy-meters'),
    embedded: z
      .object({
        binary: z.string().min(1).default('.venv/bin/temporal'),
        ip: z.string().min(1).default('127.0.0.1'),
        port: port.default(7233),
        uiPort: port.default(8233),
        dbFile: z.string().min(1).default('var/temporal.db'),
        logFile: z.string().min(1).default('var/temporal-server.log'),
        startTimeout: durationMs.default(60_000),
        /** How long closed runs stay visible (applied at start; the dev server's own default is 1 day). */
        retention: durationMs.default(30 * 86_400_000),
        /** SQLite pragmas of the server's file (`--sqlite-pragma`): WAL without an fsync per write, by default. */
        sqlitePragmas: z
          .record(z.string().regex(/^[a-z_]+$/, 'expected a pragma name such as journal_mode'), z.string().regex(/^[A-Za-z0-9_]+$/, 'expected a plain value such as wal'))
          .default({ journal_mode: 'wal', synchronous: 'normal' }),
      })
      .strict()
      .prefault({}),
  })
  .strict();

export const workerSchema = z
  .object({
    maxConcurrentActivities: z.number().int().min(1).max(256).default(4),
    maxConcurrentWorkflowTasks: z.number().int().min(1).max(256).default(20),
    /** Job slots of the meter task queue (its own, next to maxConcurrentActivities of the pipelines). */
    maxConcurrentMeterActivities: z.number().int().min(1).max(256).default(2),
    /** How long running jobs may go on after SIGTERM before they are cancelled (and retried elsewhere). */
    shutdownGraceTime: durationMs.default(30_000),
    /** host:port for the worker's Prometheus metrics (the SDK's runtime telemetry, at /metrics); unset: off. */
    metricsAddress: z
      .string()
      .regex(/^[^:\s]+:\d+$/, 'expected host:port')
      .optional(),
  })
  .strict();

export const pathsSchema = z
  .object({
    dataDir: z.string().min(1).default('data'),
    modelsDir: z.string().min(1).default('models'),
    reportsDir: z.string().min(1).default('reports'),
    /** Run reports older than this many days are deleted by `hea start`/`hea dev` (about 200 are written a day). */
    reportsKeepDays: z.number().int().min(1).default(30),
    /** Passed to jobs as HEA_STORE_URL; default: sqlite:///<dataDir>/energy.db */
    storeUrl: z.string().min(1).optional(),
  })
  .strict();

/** Where alerts go (failed and partial runs, stale data, degraded models): src/activities/notify.ts. */
export const notificationsSchema = z
  .object({
    webhook: z
      .object({
        url: z.url(),
        headers: z.record(z.string(), z.string()).default({}),
        /** Sent as `Authorization: Bearer <token>`. */
        token: z.string().min(1).optional(),
      })
      .strict()
      .optional(),
    /** The same subject again within this window is logged, not sent again. */
    dedupWindow: durationMs.default(6 * 3_600_000),
    /** At most this many webhook posts per hour; the rest are recorded (alerts table) but not sent. */
    maxPerHour: z.number().int().min(1).max(1000).default(10),
    /** Prefix for report links in notifications (e.g. a file server's URL); default: the file path. */
    reportBaseUrl: z.string().min(1).optional(),
  })
  .strict();

/** When a serving model counts as degraded, from its rolling 7-day realised error (jobs/accuracy/score.py). */
export const accuracySchema = z
  .object({
    /** Degraded when the serving model's rolling MAE > best naive's x (1 + threshold). */
    degradationThreshold: z.number().min(0).max(10).default(0.1),
    /** Days of scores needed in the window before any verdict. */
    minDays: z.number().int().min(1).max(90).default(3),
  })
  .strict();

export const configSchema = z
  .object({
    paths: pathsSchema.prefault({}),
    temporal: temporalSchema.prefault({}),
    worker: workerSchema.prefault({}),
    jobDefaults: jobDefaultsSchema.prefault({}),
    jobHost: jobHostSchema.prefault({}),
    jobs: z.record(identifier, jobSchema),
    api: apiSchema.prefault({}),
    schedules: schedulesSchema.prefault({}),
    freshness: freshnessSchema.prefault({}),
    notifications: notificationsSchema.prefault({}),
    accuracy: accuracySchema.prefault({}),
    mqtt: mqttSchema.prefault({}),
  })
  .strict();

export type RawConfig = z.input<typeof configSchema>;
export type ParsedConfig = z.output<typeof configSchema>;
export type RetryPolicyConfig = z.output<typeof retryPolicySchema>;
