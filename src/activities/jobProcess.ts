import type { Readable } from 'node:stream';
import type { Logger } from '../logging.js';
import type { AppConfig, JobSpec } from '../config/load.js';
import type { JobError, JobProgress } from '../contracts/jobs.js';
import { signalGroup, trackGroup, untrackGroup } from '../process/group.js';
import { jobHostFor, type JobHost } from '../process/jobHost.js';
import type { LaunchSpec, LaunchedJob } from '../process/launch.js';
import { launchSupervised } from '../process/supervised.js';
import { boundedLines } from './lines.js';
import { parseLine } from './protocol.js';

const STDERR_TAIL_LINES = 40;
const RESULT_MAX_BYTES = 256 * 1024;
/** Output still open this long after the job's group is gone (a process that left the group holds it) is cut. */
const OUTPUT_DRAIN_MS = 2_000;

export interface JobRunOptions {
  /** Arguments appended to the job's configured args. */
  args?: string[];
  /** Variables the runner adds (HEA_RUN_ID, ...), applied last. */
  env?: Record<string, string>;
  /** Aborting stops the job's process group: SIGTERM, the grace period, then SIGKILL. */
  signal?: AbortSignal;
  onProgress?: (progress: JobProgress) => void;
  onStart?: (pid: number) => void;
  logger: Logger;
  /** The warm job host, for jobs whose config says `host: warm` (without one every job runs cold). */
  host?: JobHost;
}

export interface JobRun {
  exitCode?: number;
  signal?: string;
  result: Record<string, unknown>;
  lastProgress?: JobProgress;
  /** The job's own `{"error": {...}}` line, the last one it printed. */
  jobError?: JobError;
  stderrTail: string[];
  durationMs: number;
  timedOut: boolean;
  aborted: boolean;
  pid?: number;
  /** How it was started: `supervisor` (cold), `host` (forked and exec'd by the job host), `warm` (in the host's interpreter). */
  via?: LaunchedJob['via'];
}

/** Variables that must not leak into jobs: they are the worker's credentials, not the job's. */
const WITHHELD_ENV = /^(TEMPORAL_(API_KEY|TLS_.*|CLIENT_.*|CONFIG_FILE|PROFILE)|HEA_API_TOKEN)$/;

export function jobEnvironment(spec: Pick<JobSpec, 'env'>, extra: Record<string, string>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (v !== undefined && !WITHHELD_ENV.test(k)) env[k] = v;
  }
  return { ...env, ...spec.env, ...extra, PYTHONUNBUFFERED: '1' };
}

/** The worker's one warm job host for this config (shared by every job that runs warm), if any job uses it. */
export function warmHostOf(config: AppConfig, logger: Logger): JobHost | undefined {
  if (!Object.values(config.jobs).some((j) => j.host === 'warm')) return undefined;
  const settings = {
    python: config.jobHost.python,
    preload: config.jobHost.preload,
    idleTimeoutMs: config.jobHost.idleTimeout,
    startTimeoutMs: config.jobHost.startTimeout,
    root: config.root,
  };
  return jobHostFor(settings, jobEnvironment({ env: config.jobDefaults.env }, {}), logger.child({ component: 'jobhost' }));
}

/**
 * Runs a job as its own process group (through the warm job host, or under a supervisor of its own),
 * streaming its protocol lines.
 * Never throws for a job that ran and failed: the caller classifies the outcome.
 */
export async function runJobProcess(spec: JobSpec, options: JobRunOptions): Promise<JobRun> {
  const { logger } = options;
  const log = logger.child({ job: spec.name });
  const started = Date.now();
  const launchSpec: LaunchSpec = {
    command: spec.command,
    args: [...spec.args, ...(options.args ?? [])],
    cwd: spec.cwd,
    env: jobEnvironment(spec, options.env ?? {}),
    killGraceMs: spec.killGraceMs,
  };
  let pid: number | undefined;
  let timedOut = false;
  let aborted = false;
  let killTimer: NodeJS.Timeout | undefined;
  const stop = () => {
    const group = pid;
    if (group === undefined || killTimer) return;
    signalGroup(group, 'SIGTERM');
    killTimer = setTimeout(() => signalGroup(group, 'SIGKILL'), spec.killGraceMs);
  };
  // The runner's own deadline backs up Temporal's start-to-close timeout: the job dies on time even
  // when the worker cannot reach the server to learn that the attempt timed out.
  const deadline = setTimeout(() => {
    timedOut = true;
    log.warn({ timeoutMs: spec.timeoutMs }, 'job timed out; stopping its process group');
    stop();
  }, spec.timeoutMs);
  const onAbort = () => {
    aborted = true;
    log.info({ reason: String(options.signal?.reason ?? 'aborted') }, 'job cancelled; stopping its process group');
    stop();
  };
  if (options.signal?.aborted) onAbort();
  else options.signal?.addEventListener('abort', onAbort, { once: true });

  // The deadline and a cancellation count from here: a host that is still starting is part of the job's time.
  const launched = (spec.host === 'warm' ? await options.host?.launch(launchSpec) : undefined) ?? launchSupervised(launchSpec);
  pid = launched.pid;
  if (pid !== undefined) {
    trackGroup(pid);
    options.onStart?.(pid);
  }
  log.debug({ pid, via: launched.via, command: launchSpec.command, args: launchSpec.args }, 'job started');
  if (timedOut || aborted) stop();

  let result: Record<string, unknown> = {};
  let lastProgress: JobProgress | undefined;
  let jobError: JobError | undefined;
  const stderrTail: string[] = [];

  const readStdout = (async () => {
    for await (const { line, truncated } of boundedLines(launched.stdout)) {
      if (truncated) log.warn({ bytes: line.length }, 'job printed an over-long line; truncated');
      const parsed = parseLine(line);
      switch (parsed.kind) {
        case 'progress':
          lastProgress = parsed.progress;
          log.debug(parsed.progress, 'progress');
          options.onProgress?.(parsed.progress);
          break;
        case 'result':
          if (Buffer.byteLength(JSON.stringify(parsed.result)) > RESULT_MAX_BYTES) {
            log.warn('job result exceeds 256 KiB; kept out of the workflow history');
            result = { truncated: true, note: 'result exceeded 256 KiB' };
          } else {
            result = parsed.result;
          }
          break;
        case 'error':
          jobError = parsed.error;
          log.debug(parsed.error, 'job error line');
          break;
        case 'invalid':
          log.warn({ line: parsed.text.slice(0, 500), problem: parsed.problem }, 'malformed protocol line');
          break;
        default:
          if (parsed.text.trim()) log.info({ stream: 'stdout' }, parsed.text);
      }
    }
  })();
  const readStderr = (async () => {
    for await (const { line } of boundedLines(launched.stderr, 8 * 1024)) {
      if (!line.trim()) continue;
      stderrTail.push(line);
      if (stderrTail.length > STDERR_TAIL_LINES) stderrTail.shift();
      log.info({ stream: 'stderr' }, line);
    }
  })();

  const ended = await launched.ended;
  await drained([readStdout, readStderr], [launched.stdout, launched.stderr]);
  clearTimeout(deadline);
  if (killTimer) clearTimeout(killTimer);
  options.signal?.removeEventListener('abort', onAbort);
  if (pid !== undefined) {
    // Anything the job left behind in its group goes too: no orphans.
    signalGroup(pid, 'SIGKILL');
    untrackGroup(pid);
  }
  const run: JobRun = {
    exitCode: ended.exitCode,
    signal: ended.signal,
    result,
    lastProgress,
    jobError,
    stderrTail,
    durationMs: Date.now() - started,
    timedOut,
    aborted,
    pid,
    via: launched.via,
  };
  log.debug({ exitCode: run.exitCode, signal: run.signal, durationMs: run.durationMs, via: run.via }, 'job ended');
  return run;
}

/**
 * Waits for the output readers, but not forever: once the job's group is gone its output ends, unless a
 * process that left the group (a new session) still holds it; that one's output is cut after a moment.
 */
async function drained(readers: Promise<void>[], streams: Readable[]): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const cut = new Promise<void>((resolve) => {
    timer = setTimeout(() => {
      for (const s of streams) s.destroy();
      resolve();
    }, OUTPUT_DRAIN_MS);
  });
  await Promise.race([Promise.allSettled(readers), cut]);
  clearTimeout(timer);
  await Promise.allSettled(readers);
}
