import { existsSync, readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseDocument } from 'yaml';
import type { z } from 'zod';
import { configSchema, type ParsedConfig, type RetryPolicyConfig } from './schema.js';

/** The project root: where package.json, config/, jobs/ and .venv/ live. */
export const PROJECT_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

export interface ConfigProblem {
  path: string;
  message: string;
}

/** A config that cannot be used: every problem found, each with its path. */
export class ConfigError extends Error {
  constructor(
    readonly file: string,
    readonly problems: ConfigProblem[],
  ) {
    super(`${file}: ${problems.length} problem${problems.length === 1 ? '' : 's'}\n` + problems.map((p) => `  - ${p.path || '(root)'}: ${p.message}`).join('\n'));
    this.name = 'ConfigError';
  }
}

export interface JobSpec {
  name: string;
  description?: string;
  /** Absolute path, or a bare command name looked up on PATH. */
  command: string;
  args: string[];
  cwd: string;
  env: Record<string, string>;
  timeoutMs: number;
  heartbeatTimeoutMs: number;
  killGraceMs: number;
  retry: RetryPolicyConfig;
  /** `warm`: through the job host; `cold`: a supervisor process of its own (config `jobs.<name>.host`). */
  host: 'warm' | 'cold';
  /** Batches of this job (runJobBatch) run as local activities (config `jobs.<name>.local`). */
  local: boolean;
}

export interface AppConfig extends Omit<ParsedConfig, 'jobs' | 'jobHost'> {
  file: string;
  root: string;
  jobs: Record<string, JobSpec>;
  /** Absolute paths derived from `paths`. */
  dirs: { data: string; models: string; reports: string; var: string };
  storeUrl: string;
  /** The warm job host's settings, its interpreter resolved (default: jobDefaults.command). */
  jobHost: Omit<ParsedConfig['jobHost'], 'python'> & { python: string };
}

export function formatIssues(issues: z.core.$ZodIssue[]): ConfigProblem[] {
  return issues.map((issue) => {
    // A bad record key (a job named "Prices-Data"): say what the key must look like, not just "invalid key".
    const inner = issue.code === 'invalid_key' ? issue.issues[0]?.message : undefined;
    return { path: issue.path.map(String).join('.'), message: inner ? `invalid name: ${inner}` : issue.message };
  });
}

/**
 * Environment variables that override the file (connection settings only, so the same file serves a
 * laptop and a cluster). TEMPORAL_* follow @temporalio/envconfig's names.
 */
function applyEnv(raw: Record<string, unknown>, env: NodeJS.ProcessEnv): Record<string, unknown> {
  const temporal = { ...((raw.temporal as Record<string, unknown> | undefined) ?? {}) };
  const embedded = { ...((temporal.embedded as Record<string, unknown> | undefined) ?? {}) };
  if (env.TEMPORAL_ADDRESS) temporal.address = env.TEMPORAL_ADDRESS;
  if (env.TEMPORAL_NAMESPACE) temporal.namespace = env.TEMPORAL_NAMESPACE;
  if (env.HEA_TASK_QUEUE) temporal.taskQueue = env.HEA_TASK_QUEUE;
  if (env.HEA_TEMPORAL_PORT) embedded.port = Number(env.HEA_TEMPORAL_PORT);
  if (env.HEA_TEMPORAL_UI_PORT) embedded.uiPort = Number(env.HEA_TEMPORAL_UI_PORT);
  if (env.HEA_TEMPORAL_DB) embedded.dbFile = env.HEA_TEMPORAL_DB;
  temporal.embedded = embedded;
  const paths = { ...((raw.paths as Record<string, unknown> | undefined) ?? {}) };
  if (env.HEA_DATA_DIR) paths.dataDir = env.HEA_DATA_DIR;
  if (env.HEA_MODELS_DIR) paths.modelsDir = env.HEA_MODELS_DIR;
  if (env.HEA_REPORTS_DIR) paths.reportsDir = env.HEA_REPORTS_DIR;
  if (env.HEA_STORE_URL) paths.storeUrl = env.HEA_STORE_URL;
  const worker = { ...((raw.worker as Record<string, unknown> | undefined) ?? {}) };
  if (env.HEA_METRICS_ADDRESS) worker.metricsAddress = env.HEA_METRICS_ADDRESS;
  const api = { ...((raw.api as Record<string, unknown> | undefined) ?? {}) };
  if (env.HEA_API_PORT) api.port = Number(env.HEA_API_PORT);
  if (env.HEA_API_HOST) api.host = env.HEA_API_HOST;
  if (env.HEA_API_TOKEN) api.token = env.HEA_API_TOKEN;
  return { ...raw, temporal, paths, api, worker };
}

/** Commands with a slash are paths relative to the project root; bare names are looked up on PATH. */
function resolveCommand(root: string, command: string): string {
  return command.includes('/') && !isAbsolute(command) ? resolve(root, command) : command;
}

export function defaultConfigFile(env: NodeJS.ProcessEnv = process.env): string {
  return resolve(env.HEA_CONFIG ?? resolve(PROJECT_ROOT, 'config', 'hea.yaml'));
}

/** Parse and validate a config text; throws ConfigError listing every problem. */
export function parseConfig(text: string, file: string, options: { env?: NodeJS.ProcessEnv; root?: string } = {}): AppConfig {
  const env = options.env ?? process.env;
  const root = options.root ?? PROJECT_ROOT;
  // prettyErrors: the errors carry their line and column (without it, linePos is never set).
  const doc = parseDocument(text, { prettyErrors: true });
  if (doc.errors.length > 0) {
    throw new ConfigError(
      file,
      doc.errors.map((e) => {
        const at = e.linePos?.[0];
        return {
          path: at ? `line ${at.line}, column ${at.col}` : 'YAML',
          message: (e.message.split('\n')[0] ?? '').replace(/ at line \d+, column \d+:?$/, ''),
        };
      }),
    );
  }
  const raw = doc.toJS() ?? {};
  if (typeof raw !== 'object' || Array.isArray(raw)) {
    throw new ConfigError(file, [{ path: '', message: 'expected a mapping at the top level' }]);
  }
  const parsed = configSchema.safeParse(applyEnv(raw as Record<string, unknown>, env));
  if (!parsed.success) throw new ConfigError(file, formatIssues(parsed.error.issues));
  const cfg = parsed.data;

  const abs = (p: string) => resolve(root, p);
  const dirs = {
    data: abs(cfg.paths.dataDir),
    models: abs(cfg.paths.modelsDir),
    reports: abs(cfg.paths.reportsDir),
    var: dirname(abs(cfg.temporal.embedded.dbFile)),
  };
  const defaults = cfg.jobDefaults;
  const jobs: Record<string, JobSpec> = {};
  for (const [name, job] of Object.entries(cfg.jobs)) {
    jobs[name] = {
      name,
      description: job.description,
      command: resolveCommand(root, job.command ?? defaults.command),
      args: job.args,
      cwd: abs(job.cwd ?? defaults.cwd),
      env: { ...defaults.env, ...job.env },
      timeoutMs: job.timeout ?? defaults.timeout,
      heartbeatTimeoutMs: job.heartbeatTimeout ?? defaults.heartbeatTimeout,
      killGraceMs: job.killGrace ?? defaults.killGrace,
      retry: { ...defaults.retry, ...stripUndefined(job.retry ?? {}) },
      host: job.host ?? defaults.host,
      local: job.local,
    };
  }
  return {
    ...cfg,
    file,
    root,
    jobs,
    dirs,
    storeUrl: cfg.paths.storeUrl ?? `sqlite:///${resolve(dirs.data, 'energy.db')}`,
    jobHost: { ...cfg.jobHost, python: resolveCommand(root, cfg.jobHost.python ?? defaults.command) },
    temporal: {
      ...cfg.temporal,
      embedded: {
        ...cfg.temporal.embedded,
        binary: resolveCommand(root, cfg.temporal.embedded.binary),
        dbFile: abs(cfg.temporal.embedded.dbFile),
        logFile: abs(cfg.temporal.embedded.logFile),
      },
    },
  };
}

function stripUndefined<T extends object>(obj: T): Partial<T> {
  return Object.fromEntries(Object.entries(obj).filter(([, v]) => v !== undefined)) as Partial<T>;
}

export function loadConfig(file = defaultConfigFile(), options: { env?: NodeJS.ProcessEnv; root?: string } = {}): AppConfig {
  if (!existsSync(file)) {
    throw new ConfigError(file, [{ path: '', message: 'config file not found (set HEA_CONFIG or create it)' }]);
  }
  return parseConfig(readFileSync(file, 'utf8'), file, options);
}

/** For commands: a config that cannot be used ends the process with exit code 2 and every problem listed. */
export function loadConfigOrExit(file?: string): AppConfig {
  try {
    return loadConfig(file ?? defaultConfigFile());
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`hea: invalid config ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
}
