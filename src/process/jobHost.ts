// The warm job host (jobs/common/jobhost.py): a Python that has imported the heavy libraries once and forks
// a job per request, so a training does not pay for Python starting and importing pandas and xgboost each
// time, and a short job costs a fork instead of a Node supervisor's start-up. Started on the first job that
// needs it, stopped after `idleTimeoutMs` without jobs (so the idle system stays small), and tied to this
// process by a lifeline (its stdin): it never outlives the worker. Each job keeps every promise of the cold
// path (launch.ts): its own process group, a lifeline of its own, its exit code or signal.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createConnection, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Logger } from '../logging.js';
import type { JobExit, LaunchSpec, LaunchedJob } from './launch.js';

export interface JobHostSettings {
  /** The host's interpreter (absolute). Jobs whose command is this one run in it, warm. */
  python: string;
  /** Third-party modules imported up front (never our jobs.* modules: they read the environment at import). */
  preload: string[];
  /** With no job running for this long, the host exits; the next job starts it again. */
  idleTimeoutMs: number;
  /** How long the host may take to start (its imports); past it, jobs run cold. */
  startTimeoutMs: number;
  /** Where `jobs/` lives: the host's working directory. */
  root: string;
}

interface Running {
  child: ChildProcess;
  dir: string;
  /** The warm host's socket: jobs that run in its interpreter. */
  socketPath: string;
  /**
   * The exec host's (forked by the host before its imports): every other command. A small process forks
   * cheaply, so a short command costs about a millisecond over a bare spawn instead of tens.
   */
  execSocketPath: string;
  exited: boolean;
}

/** After a failed start, jobs run cold for this long before the host is tried again. */
const RETRY_AFTER_MS = 30_000;
/** How long the host may take to fork a job and report its pid (it is busy only with accepting). */
const PID_TIMEOUT_MS = 30_000;

/** True when `python <args>` is a Python program the host can run itself: `-m mod`, `-c code` or `script.py`. */
export function warmCapable(python: string, spec: Pick<LaunchSpec, 'command' | 'args'>): boolean {
  const [first, second] = spec.args;
  if (spec.command !== python || first === undefined) return false;
  if (first === '-m' || first === '-c') return second !== undefined;
  return !first.startsWith('-');
}

export class JobHost {
  private running?: Promise<Running>;
  /** The running host once it has answered. */
  private ready?: Running;
  private active = 0;
  private idleTimer?: NodeJS.Timeout;
  private unavailableUntil = 0;

  constructor(
    readonly settings: JobHostSettings,
    /** The host's own environment (each job gets its own in full). */
    private readonly env: Record<string, string>,
    private readonly log: Logger,
  ) {}

  /**
   * Runs a job through the host. Undefined when the host is not ready (it is starting: the job runs cold
   * rather than wait for its imports, and so is never slower than without a host) or cannot be used (it
   * failed to start: logged once); the caller then runs the job cold.
   */
  async launch(spec: LaunchSpec): Promise<LaunchedJob | undefined> {
    if (Date.now() < this.unavailableUntil) return undefined;
    if (!this.ready) {
      void this.start().catch(() => undefined);
      return undefined;
    }
    this.active += 1;
    clearTimeout(this.idleTimer);
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      this.active -= 1;
      if (this.active === 0) this.armIdleTimer();
    };
    try {
      const launched = await this.connect(this.ready, spec);
      void launched.ended.finally(release);
      return launched;
    } catch (err) {
      release();
      this.log.warn({ err: (err as Error).message }, 'the warm job host cannot run the job; running it cold');
      return undefined;
    }
  }

  /** Starts the host now (a worker that expects work soon); resolves once it is ready. */
  async warmUp(): Promise<void> {
    await this.start();
  }

  private armIdleTimer(): void {
    clearTimeout(this.idleTimer);
    this.idleTimer = setTimeout(() => {
      if (this.active === 0) void this.stop();
    }, this.settings.idleTimeoutMs);
    this.idleTimer.unref();
  }

  /** Ends the host (jobs it started keep running under their own supervisors until they end). */
  async stop(): Promise<void> {
    const running = this.running;
    this.running = undefined;
    this.ready = undefined;
    const host = await running?.catch(() => undefined);
    if (!host || host.exited) return;
    this.log.debug({ pid: host.child.pid }, 'stopping the idle job host');
    host.child.stdin?.end();
    const killer = setTimeout(() => host.child.kill('SIGKILL'), 5_000);
    killer.unref();
    await new Promise<void>((resolve) => (host.exited ? resolve() : host.child.once('exit', () => resolve())));
    clearTimeout(killer);
  }

  /** The host's pid while it runs (the bench reads its memory). */
  async pid(): Promise<number | undefined> {
    const host = await this.running?.catch(() => undefined);
    return host && !host.exited ? host.child.pid : undefined;
  }

  private start(): Promise<Running> {
    this.running ??= this.spawnHost().then(
      (host) => {
        this.ready = host;
        this.armIdleTimer(); // a host that no job ends up using goes too
        return host;
      },
      (err: Error) => {
        this.running = undefined;
        this.unavailableUntil = Date.now() + RETRY_AFTER_MS;
        this.log.warn({ err: err.message, retryInSeconds: RETRY_AFTER_MS / 1000 }, 'the warm job host did not start; jobs run cold for now');
        throw err;
      },
    );
    return this.running;
  }

  private async spawnHost(): Promise<Running> {
    const { python, preload, root, startTimeoutMs } = this.settings;
    // A private directory (0700): whoever can connect to the socket can run commands as this user.
    const dir = mkdtempSync(join(tmpdir(), 'hea-jobhost-'));
    const socketPath = join(dir, 'host.sock');
    const execSocketPath = join(dir, 'exec.sock');
    const started = Date.now();
    const child = spawn(python, ['-m', 'jobs.common.jobhost', '--socket', socketPath, '--exec-socket', execSocketPath, '--preload', preload.join(',')], {
      cwd: root,
      env: { ...this.env, PYTHONUNBUFFERED: '1' },
      detached: true, // its own group: a Ctrl-C meant for the worker reaches the host through its lifeline
      stdio: ['pipe', 'pipe', 'pipe'], // stdin: the lifeline, never written to
    });
    const host: Running = { child, dir, socketPath, execSocketPath, exited: false };
    const stderrTail: string[] = [];
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (text: string) => {
      for (const line of text.split('\n').filter((l) => l.trim())) {
        stderrTail.push(line);
        if (stderrTail.length > 20) stderrTail.shift();
        this.log.warn({ component: 'jobhost' }, line);
      }
    });
    child.once('exit', (code, signal) => {
      host.exited = true;
      rmSync(dir, { recursive: true, force: true });
      if (this.running && this.active > 0) this.log.warn({ code, signal }, 'the job host exited; its running jobs go on, the next starts a new host');
      if (this.ready === host) {
        this.ready = undefined;
        this.running = undefined;
      }
    });
    const ready = await new Promise<{ pid: number; preloaded: string[]; failed: string[] }>((resolve, reject) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`no answer within ${startTimeoutMs} ms`));
      }, startTimeoutMs);
      let out = '';
      child.stdout!.setEncoding('utf8');
      child.stdout!.on('data', (text: string) => {
        out += text;
        const nl = out.indexOf('\n');
        if (nl === -1) return;
        clearTimeout(timer);
        try {
          resolve(JSON.parse(out.slice(0, nl)) as { pid: number; preloaded: string[]; failed: string[] });
        } catch {
          reject(new Error(`unexpected first line: ${out.slice(0, 200)}`));
        }
      });
      child.once('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`${python} -m jobs.common.jobhost exited (${code ?? signal}): ${stderrTail.slice(-3).join(' | ')}`));
      });
    });
    // Neither the host nor its pipes keep this process alive: it is stopped when idle, and its lifeline
    // ends it when this process exits.
    child.unref();
    for (const stream of [child.stdin, child.stdout, child.stderr]) (stream as unknown as Socket | null)?.unref();
    if (ready.failed.length) this.log.warn({ failed: ready.failed }, 'the job host could not preload some modules; their jobs import them themselves');
    this.log.info({ pid: ready.pid, preloaded: ready.preloaded, startMs: Date.now() - started }, 'job host ready');
    return host;
  }

  private async connect(host: Running, spec: LaunchSpec): Promise<LaunchedJob> {
    const job = randomUUID();
    const warm = warmCapable(this.settings.python, spec);
    const open = (role: string, extra: Record<string, unknown> = {}) =>
      new Promise<Socket>((resolve, reject) => {
        const socket = createConnection(warm ? host.socketPath : host.execSocketPath);
        socket.once('error', reject);
        socket.once('connect', () => {
          socket.off('error', reject);
          socket.write(`${JSON.stringify({ job, role, ...extra })}\n`);
          resolve(socket);
        });
      });
    const sockets = await Promise.allSettled([
      open('control', { spec: { command: spec.command, args: spec.args, cwd: spec.cwd, env: spec.env, killGraceMs: spec.killGraceMs, warm } }),
      open('stdout'),
      open('stderr'),
    ]);
    const failed = sockets.find((s): s is PromiseRejectedResult => s.status === 'rejected');
    if (failed) {
      for (const s of sockets) if (s.status === 'fulfilled') s.value.destroy();
      throw new Error(`cannot reach the job host: ${(failed.reason as Error).message}`);
    }
    const [control, stdout, stderr] = sockets.map((s) => (s as PromiseFulfilledResult<Socket>).value) as [Socket, Socket, Socket];
    stdout.end(); // nothing is ever written to the job
    stderr.end();

    // Control lines: {"pid": n} once the job leads its group, then {"exitCode": n} or {"signal": "SIGTERM"}.
    let onPid: (pid: number) => void = () => undefined;
    let onEnd: (exit: JobExit) => void = () => undefined;
    const pid = new Promise<number>((resolve, reject) => {
      onPid = resolve;
      const timer = setTimeout(() => reject(new Error('the job host did not start the job in time')), PID_TIMEOUT_MS);
      timer.unref();
      control.once('close', () => reject(new Error('the job host closed the connection before the job started')));
    });
    const ended = new Promise<JobExit>((resolve) => {
      onEnd = resolve;
      // No verdict: the job's supervisor died (it never should); the runner calls that "could not be run".
      control.once('close', () => resolve({}));
    });
    let buffered = '';
    control.setEncoding('utf8');
    control.on('data', (text: string) => {
      buffered += text;
      let nl: number;
      while ((nl = buffered.indexOf('\n')) !== -1) {
        const message = JSON.parse(buffered.slice(0, nl)) as { pid?: number; exitCode?: number; signal?: string };
        buffered = buffered.slice(nl + 1);
        if (message.pid !== undefined) onPid(message.pid);
        else onEnd(message.signal ? { signal: message.signal } : { exitCode: message.exitCode });
      }
    });
    control.on('error', () => undefined); // a reset ends it like a close
    try {
      const groupPid = await pid;
      void ended.finally(() => control.destroy());
      return { pid: groupPid, stdout, stderr, ended, via: warm ? 'warm' : 'host' };
    } catch (err) {
      for (const s of [control, stdout, stderr]) s.destroy();
      throw err;
    }
  }
}

const hosts = new Map<string, JobHost>();

/** The one host of these settings in this process (every runJob of a worker shares it). */
export function jobHostFor(settings: JobHostSettings, env: Record<string, string>, log: Logger): JobHost {
  const key = JSON.stringify(settings);
  let host = hosts.get(key);
  if (!host) {
    host = new JobHost(settings, env, log);
    hosts.set(key, host);
  }
  return host;
}

/** Stops every job host of this process (tests, the bench, a worker shutting down). */
export async function stopJobHosts(): Promise<void> {
  await Promise.all([...hosts.values()].map((h) => h.stop()));
}
