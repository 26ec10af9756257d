// Child processes of the cluster: each in its own process group (so a terminal's Ctrl-C reaches the cluster
// script alone, which then stops them in order), logging to a file, stopped by PID.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, openSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname } from 'node:path';

export interface ProcessSpec {
  name: string;
  command: string;
  args: string[];
  cwd: string;
  env: NodeJS.ProcessEnv;
  logFile: string;
  /** Run as this user (when we are root and the program refuses root, as PostgreSQL does). */
  uid?: number;
  gid?: number;
  /** SIGTERM first; after this long, SIGKILL. */
  stopGraceMs: number;
}

/** A process the cluster started: stopped by stop() (or a signal), started again by start(). */
export class ManagedProcess {
  private child?: ChildProcess;
  private exited?: Promise<void>;

  constructor(readonly spec: ProcessSpec) {}

  get name(): string {
    return this.spec.name;
  }

  get pid(): number | undefined {
    return this.child && this.child.exitCode === null && this.child.signalCode === null ? this.child.pid : undefined;
  }

  start(): this {
    if (this.pid) throw new Error(`${this.name} is already running (pid ${this.pid})`);
    mkdirSync(dirname(this.spec.logFile), { recursive: true });
    const log = openSync(this.spec.logFile, 'a');
    try {
      const child = spawn(this.spec.command, this.spec.args, {
        cwd: this.spec.cwd,
        env: this.spec.env,
        stdio: ['ignore', log, log],
        detached: true,
        ...(this.spec.uid !== undefined ? { uid: this.spec.uid, gid: this.spec.gid } : {}),
      });
      this.child = child;
      this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
      child.once('error', () => undefined); // a failed spawn also ends in 'exit'; its log line says why
    } finally {
      closeSync(log);
    }
    return this;
  }

  /** Resolves when the process has exited (at once if it is not running). */
  async waitExit(): Promise<void> {
    await this.exited;
  }

  /** Sends a signal to the process (not its group: what a crash or an operator's `kill PID` does). */
  signal(sig: NodeJS.Signals): void {
    if (this.pid) process.kill(this.pid, sig);
  }

  /** SIGTERM, then SIGKILL after the grace time; resolves when the process is gone. */
  async stop(): Promise<void> {
    const pid = this.pid;
    if (!pid) return;
    this.signal('SIGTERM');
    const timer = setTimeout(() => this.signal('SIGKILL'), this.spec.stopGraceMs);
    await this.exited;
    clearTimeout(timer);
  }
}

function listen(port: number, host: string): Promise<ReturnType<typeof createServer> | undefined> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(undefined));
    server.listen(port, host, () => resolve(server));
  });
}

/**
 * Distinct TCP ports nobody listens on right now (held together while asked for, so none is handed out
 * twice). Without a range the OS picks them; with one, they are tried at random in it (the Temporal server
 * stores its membership ports as a PostgreSQL smallint: they must be below 32768, under the OS's ephemeral
 * range).
 */
export async function freePorts(n: number, host = '127.0.0.1', range?: [number, number]): Promise<number[]> {
  const servers: Array<ReturnType<typeof createServer>> = [];
  for (let tries = 0; servers.length < n; tries += 1) {
    if (tries > 50 * n) throw new Error(`no ${n} free ports${range ? ` in ${range.join('-')}` : ''}`);
    const port = range ? range[0] + Math.floor(Math.random() * (range[1] - range[0])) : 0;
    const server = await listen(port, host);
    if (server) servers.push(server);
  }
  const ports = servers.map((s) => (s.address() as { port: number }).port);
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  return ports;
}

/** Polls `check` until it is truthy; throws with `what` after the deadline (or when `failed` says why). */
export async function until<T>(what: string, check: () => Promise<T | undefined | false>, timeoutMs: number, failed?: () => string | undefined): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let delay = 100;
  for (;;) {
    const problem = failed?.();
    if (problem) throw new Error(`${what}: ${problem}`);
    const value = await check().catch(() => undefined);
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${Math.round(timeoutMs / 1000)} s waiting for ${what}`);
    await new Promise((r) => setTimeout(r, delay));
    delay = Math.min(delay * 2, 1_000);
  }
}
