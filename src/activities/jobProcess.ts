import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import type { Logger } from '../logging.js';
import type { JobSpec } from '../config/load.js';
import { boundedLines } from './lines.js';
import { parseLine, type JobProgress } from './protocol.js';

const SUPERVISOR = fileURLToPath(new URL('../../bin/job-supervisor.js', import.meta.url));
const STDERR_TAIL_LINES = 40;
const RESULT_MAX_BYTES = 256 * 1024;

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
}

export interface JobRun {
  exitCode?: number;
  signal?: string;
  result: Record<string, unknown>;
  lastProgress?: JobProgress;
  stderrTail: string[];
  durationMs: number;
  timedOut: boolean;
  aborted: boolean;
  pid?: number;
}

/** Variables that must not leak into jobs: they are the worker's credentials, not the job's. */
const WITHHELD_ENV = /^(TEMPORAL_(API_KEY|TLS_.*|CLIENT_.*|CONFIG_FILE|PROFILE)|HEA_API_TOKEN)$/;

function jobEnvironment(spec: JobSpec, extra: Record<string, string>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (v !== undefined && !WITHHELD_ENV.test(k)) env[k] = v;
  }
  return { ...env, ...spec.env, ...extra, PYTHONUNBUFFERED: '1' };
}

export function signalGroup(pid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(-pid, signal);
    return true;
  } catch {
    return false; // ESRCH: the group is gone already
  }
}

// Groups still running when the worker process exits are killed on the way out. The supervisor's
// lifeline covers the case where the worker dies too suddenly for this to run (SIGKILL, OOM).
const liveGroups = new Set<number>();
process.once('exit', () => {
  for (const pid of liveGroups) signalGroup(pid, 'SIGKILL');
});

/**
 * Runs a job under the supervisor, as its own process group, streaming its protocol lines.
 * Never throws for a job that ran and failed: the caller classifies the outcome.
 */
export async function runJobProcess(spec: JobSpec, options: JobRunOptions): Promise<JobRun> {
  const { logger } = options;
  const log = logger.child({ job: spec.name });
  const started = Date.now();
  const argv = [...spec.args, ...(options.args ?? [])];
  const child = execa(process.execPath, [SUPERVISOR, String(spec.killGraceMs), spec.command, ...argv], {
    cwd: spec.cwd,
    env: jobEnvironment(spec, options.env ?? {}),
    extendEnv: false,
    detached: true, // a new process group, so the job's own children can be killed with it
    cleanup: false, // execa's exit hook only kills the direct child; liveGroups does better
    stdin: 'pipe', // the lifeline: never written to, closed when this process dies
    stdout: 'pipe',
    stderr: 'pipe',
    buffer: false,
    reject: false,
    encoding: 'buffer',
  });
  const pid = child.pid;
  if (pid !== undefined) {
    liveGroups.add(pid);
    options.onStart?.(pid);
  }
  log.debug({ pid, command: spec.command, args: argv }, 'job started');

  let timedOut = false;
  let aborted = false;
  let killTimer: NodeJS.Timeout | undefined;
  const stop = () => {
    if (pid === undefined || killTimer) return;
    signalGroup(pid, 'SIGTERM');
    killTimer = setTimeout(() => signalGroup(pid, 'SIGKILL'), spec.killGraceMs);
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

  let result: Record<string, unknown> = {};
  let lastProgress: JobProgress | undefined;
  const stderrTail: string[] = [];

  const readStdout = (async () => {
    if (!child.stdout) return;
    for await (const { line, truncated } of boundedLines(child.stdout)) {
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
        case 'invalid':
          log.warn({ line: parsed.text.slice(0, 500), problem: parsed.problem }, 'malformed protocol line');
          break;
        default:
          if (parsed.text.trim()) log.info({ stream: 'stdout' }, parsed.text);
      }
    }
  })();
  const readStderr = (async () => {
    if (!child.stderr) return;
    for await (const { line } of boundedLines(child.stderr, 8 * 1024)) {
      if (!line.trim()) continue;
      stderrTail.push(line);
      if (stderrTail.length > STDERR_TAIL_LINES) stderrTail.shift();
      log.info({ stream: 'stderr' }, line);
    }
  })();

  // execa resolves once stdout and stderr close, not when the process exits: a grandchild the job left
  // behind would hold the pipes open and hang a job that already succeeded. When the supervisor exits,
  // whatever is left of the group goes, which also closes the pipes.
  child.once('exit', () => {
    if (pid !== undefined) signalGroup(pid, 'SIGKILL');
  });
  const ended = await child;
  await Promise.allSettled([readStdout, readStderr]);
  clearTimeout(deadline);
  if (killTimer) clearTimeout(killTimer);
  options.signal?.removeEventListener('abort', onAbort);
  if (pid !== undefined) {
    // Anything the job left behind in its group goes too: no orphans.
    signalGroup(pid, 'SIGKILL');
    liveGroups.delete(pid);
  }
  const run: JobRun = {
    exitCode: ended.exitCode,
    signal: ended.signal,
    result,
    lastProgress,
    stderrTail,
    durationMs: Date.now() - started,
    timedOut,
    aborted,
    pid,
  };
  log.debug({ exitCode: run.exitCode, signal: run.signal, durationMs: run.durationMs }, 'job ended');
  return run;
}
