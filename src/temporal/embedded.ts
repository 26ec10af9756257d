import { spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { createConnection } from 'node:net';
import { Connection } from '@temporalio/client';
import type { Logger } from '../logging.js';
import { signalGroup } from '../process/group.js';

export const DEFAULT_SQLITE_PRAGMAS: Readonly<Record<string, string>> = { journal_mode: 'wal', synchronous: 'normal' };

export interface EmbeddedServerOptions {
  binary: string;
  ip: string;
  port: number;
  uiPort: number;
  dbFile: string;
  logFile: string;
  namespace: string;
  startTimeoutMs: number;
  /**
   * SQLite pragmas for the server's database file. Default WAL with synchronous=normal: writes no longer wait
   * for an fsync each (the journal is synced at checkpoints), which is what lets short jobs run at ~100/s; a
   * power cut may lose the last moments of history, never the file's consistency.
   */
  sqlitePragmas?: Record<string, string>;
  logger: Logger;
  /**
   * Whether this process takes charge of a server an earlier `hea` started on the same database and left
   * running (it crashed or was killed): stop() then stops it. For `hea start`/`dev`/`worker`, not `hea run`.
   */
  adopt?: boolean;
}

export interface EmbeddedServer {
  address: string;
  uiUrl: string;
  /** False when a server was already answering on the port (another `hea` process started it). */
  owned: boolean;
  /** The server's process id, when this project started it (its pid file names it). */
  pid?: number;
  stop(): Promise<void>;
}

function portOpen(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host, port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** True once the server answers gRPC and knows the namespace. */
async function answers(address: string, namespace: string): Promise<boolean> {
  let connection: Connection | undefined;
  try {
    connection = await Connection.connect({ address, connectTimeout: 2_000 });
    await connection.workflowService.describeNamespace({ namespace });
    return true;
  } catch {
    return false;
  } finally {
    await connection?.close().catch(() => undefined);
  }
}

async function pollUntil(deadline: number, check: () => Promise<boolean>, failed: () => string | undefined): Promise<void> {
  let delay = 50;
  while (Date.now() < deadline) {
    const problem = failed();
    if (problem) throw new Error(problem);
    if (await check()) return;
    await new Promise((r) => setTimeout(r, delay));
    delay = Math.min(delay * 2, 500);
  }
  throw new Error('timed out');
}

/** Where a started server's pid is kept, so a later `hea` can find (and stop) a server that outlived its starter. */
export function pidFileOf(dbFile: string): string {
  return `${dbFile}.pid`;
}

interface PidRecord {
  pid: number;
  address: string;
}

function readPidFile(file: string): PidRecord | undefined {
  try {
    const rec = JSON.parse(readFileSync(file, 'utf8')) as PidRecord;
    return Number.isInteger(rec.pid) && rec.pid > 0 ? rec : undefined;
  } catch {
    return undefined;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** SIGTERM to the server's process group, SIGKILL after 10 s; resolves once it is gone. */
async function stopGroup(pid: number, isGone: () => boolean): Promise<void> {
  signalGroup(pid, 'SIGTERM');
  const deadline = Date.now() + 10_000;
  while (!isGone() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  if (!isGone()) {
    signalGroup(pid, 'SIGKILL');
    while (!isGone()) await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * Starts `temporal server start-dev` with its SQLite file under var/, so schedules and histories survive
 * a restart, and waits until it answers. The server is its own detached process: it outlives a crash of
 * the process that started it (a SIGKILLed `hea start`), so running workflows, `hea run` clients and the
 * Web UI keep their server, and the restarted `hea start` finds it and reuses it. stop() ends it.
 * If a Temporal server already answers on the port, it is used as it is (and left running, unless
 * `adopt` and this project's pid file names it).
 */
export async function startEmbeddedServer(options: EmbeddedServerOptions): Promise<EmbeddedServer> {
  const { ip, port, uiPort, logger } = options;
  const address = `${ip}:${port}`;
  const uiUrl = `http://${ip === '0.0.0.0' ? 'localhost' : ip}:${uiPort}`;
  const pidFile = pidFileOf(options.dbFile);
  if (await portOpen(ip, port)) {
    if (await answers(address, options.namespace)) {
      const rec = readPidFile(pidFile);
      const ours = rec && rec.address === address && alive(rec.pid) ? rec.pid : undefined;
      if (ours && options.adopt) {
        logger.info({ address, pid: ours }, 'the embedded Temporal server started earlier is still running; using it');
        return {
          address,
          uiUrl,
          owned: true,
          pid: ours,
          stop: async () => {
            await stopGroup(ours, () => !alive(ours));
            rmSync(pidFile, { force: true });
            logger.info('embedded Temporal server stopped');
          },
        };
      }
      logger.info({ address }, 'a Temporal server is already running here; using it');
      return { address, uiUrl, owned: false, pid: ours, stop: async () => undefined };
    }
    throw new Error(`port ${port} on ${ip} is taken by something that is not a Temporal server (set temporal.embedded.port or HEA_TEMPORAL_PORT)`);
  }
  mkdirSync(dirname(options.dbFile), { recursive: true });
  mkdirSync(dirname(options.logFile), { recursive: true });
  const args = [
    'server',
    'start-dev',
    '--ip',
    ip,
    '--port',
    String(port),
    '--ui-port',
    String(uiPort),
    '--db-filename',
    options.dbFile,
    '--namespace',
    options.namespace,
    '--log-format',
    'json',
    '--log-level',
    'warn',
    ...Object.entries(options.sqlitePragmas ?? DEFAULT_SQLITE_PRAGMAS).flatMap(([k, v]) => ['--sqlite-pragma', `${k}=${v}`]),
  ];
  logger.info({ binary: options.binary, address, db: options.dbFile }, 'starting the embedded Temporal server');
  const log = openSync(options.logFile, 'a');
  // Detached, in its own process group, with no pipe to this process: it survives this process's death.
  const child = spawn(options.binary, args, { detached: true, stdio: ['ignore', log, log] });
  closeSync(log);
  let exited: string | undefined;
  child.once('error', (err) => {
    exited = `the Temporal server could not start (${err.message})`;
  });
  child.once('exit', (code, signal) => {
    exited = `the Temporal server exited (${code ?? signal}); see ${options.logFile}`;
  });
  child.unref();
  const pid = child.pid;
  if (pid === undefined) throw new Error(`the embedded Temporal server did not start: cannot run ${options.binary}`);
  writeFileSync(pidFile, JSON.stringify({ pid, address } satisfies PidRecord));
  const stop = async () => {
    if (!exited) await stopGroup(pid, () => exited !== undefined);
    rmSync(pidFile, { force: true });
  };
  try {
    await pollUntil(
      Date.now() + options.startTimeoutMs,
      () => answers(address, options.namespace),
      () => exited,
    );
  } catch (err) {
    await stop();
    throw new Error(`the embedded Temporal server did not start: ${(err as Error).message}`);
  }
  logger.info({ address, ui: uiUrl, pid }, 'embedded Temporal server ready');
  return {
    address,
    uiUrl,
    owned: true,
    pid,
    stop: async () => {
      await stop();
      logger.info('embedded Temporal server stopped');
    },
  };
}
