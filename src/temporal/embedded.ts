import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { createConnection } from 'node:net';
import { fileURLToPath } from 'node:url';
import { execa, type ResultPromise } from 'execa';
import { Connection } from '@temporalio/client';
import type { Logger } from '../logging.js';
import { signalGroup } from '../activities/jobProcess.js';

const SUPERVISOR = fileURLToPath(new URL('../../bin/job-supervisor.js', import.meta.url));

export interface EmbeddedServerOptions {
  binary: string;
  ip: string;
  port: number;
  uiPort: number;
  dbFile: string;
  logFile: string;
  namespace: string;
  startTimeoutMs: number;
  logger: Logger;
}

export interface EmbeddedServer {
  address: string;
  uiUrl: string;
  /** False when a server was already answering on the port (another `hea` process started it). */
  owned: boolean;
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

/**
 * Starts `temporal server start-dev` with its SQLite file under var/, so schedules and histories survive
 * a restart, and waits until it answers. If a Temporal server already answers on the port (an `npm start`
 * in another terminal), it is used as it is and left running.
 */
export async function startEmbeddedServer(options: EmbeddedServerOptions): Promise<EmbeddedServer> {
  const { ip, port, uiPort, logger } = options;
  const address = `${ip}:${port}`;
  const uiUrl = `http://${ip === '0.0.0.0' ? 'localhost' : ip}:${uiPort}`;
  if (await portOpen(ip, port)) {
    if (await answers(address, options.namespace)) {
      logger.info({ address }, 'a Temporal server is already running here; using it');
      return { address, uiUrl, owned: false, stop: async () => undefined };
    }
    throw new Error(`port ${port} on ${ip} is taken by something that is not a Temporal server (set temporal.embedded.port or HEA_TEMPORAL_PORT)`);
  }
  mkdirSync(dirname(options.dbFile), { recursive: true });
  mkdirSync(dirname(options.logFile), { recursive: true });
  const args = [
    'server', 'start-dev',
    '--ip', ip,
    '--port', String(port),
    '--ui-port', String(uiPort),
    '--db-filename', options.dbFile,
    '--namespace', options.namespace,
    '--log-format', 'json',
    '--log-level', 'warn',
  ];
  logger.info({ binary: options.binary, address, db: options.dbFile }, 'starting the embedded Temporal server');
  // Under the job supervisor: if this process dies without stopping the server, the server goes too.
  const child: ResultPromise = execa(process.execPath, [SUPERVISOR, '10000', options.binary, ...args], {
    detached: true,
    cleanup: false,
    stdin: 'pipe',
    stdout: { file: options.logFile, append: true },
    stderr: { file: options.logFile, append: true },
    reject: false,
  });
  let exited: string | undefined;
  void child.then((r) => {
    exited = `the Temporal server exited (${r.exitCode ?? r.signal}); see ${options.logFile}`;
  });
  const pid = child.pid as number;
  const stop = async () => {
    if (exited) return;
    signalGroup(pid, 'SIGTERM');
    const timer = setTimeout(() => signalGroup(pid, 'SIGKILL'), 10_000);
    await child;
    clearTimeout(timer);
    logger.info('embedded Temporal server stopped');
  };
  const onExit = () => signalGroup(pid, 'SIGKILL');
  process.once('exit', onExit);
  try {
    await pollUntil(Date.now() + options.startTimeoutMs, () => answers(address, options.namespace), () => exited);
  } catch (err) {
    await stop();
    throw new Error(`the embedded Temporal server did not start: ${(err as Error).message}`);
  }
  logger.info({ address, ui: uiUrl }, 'embedded Temporal server ready');
  return {
    address,
    uiUrl,
    owned: true,
    stop: async () => {
      process.removeListener('exit', onExit);
      await stop();
    },
  };
}
