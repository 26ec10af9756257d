// The production topology on one machine, without Docker (`npm run cluster`, and `npm run test:cluster`
// against it): PostgreSQL, the Temporal server built from its Go module, and the project's processes, each
// a separate `hea` process with the project's config and TEMPORAL_ADDRESS:
//   pipelines-1   hea worker --role pipelines   (schedules, flows, their jobs)
//   meters-1..N   hea worker --role meters      (meter trainings, on their own task queue)
//   api           hea api                       (the meter training API)
// plus a one-shot `hea schedules apply`. docker-compose.yml describes the same processes.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { loadConfig, type AppConfig } from '../../src/config/load.js';
import { ensureTemporalBinaries, type TemporalBinaries } from './build.js';
import { startPostgres, type Postgres } from './postgres.js';
import { ManagedProcess, freePorts, until } from './processes.js';
import { pickServerPorts, setupSchema, temporalServerProcess, waitForTemporal } from './temporalServer.js';

/** The project's processes and their `hea` commands; docker-compose.yml has a service for each role. */
export const PROCESS_ROLES = {
  'pipeline-worker': { hea: ['worker', '--role', 'pipelines'], replicas: 1 },
  'meter-worker': { hea: ['worker', '--role', 'meters'], replicas: 2 },
  api: { hea: ['api'], replicas: 1 },
} as const;
/** Run once the server answers (and again after a change of config/hea.yaml). */
export const SCHEDULES_COMMAND = ['schedules', 'apply'];

export interface ClusterOptions {
  /** The project root (where bin/hea.js and config/ are). */
  root: string;
  /** State and logs; wiped at start (a throwaway cluster). Default <root>/var/cluster. */
  dir?: string;
  /** The config every hea process uses (HEA_CONFIG); default config/hea.yaml. */
  configFile?: string;
  /** Extra environment for the hea processes. */
  env?: NodeJS.ProcessEnv;
  meterWorkers?: number;
  /** The API's port (default: a free one). */
  apiPort?: number;
  log?: (msg: string) => void;
}

export interface Cluster {
  dir: string;
  config: AppConfig;
  binaries: TemporalBinaries;
  temporalAddress: string;
  namespace: string;
  apiUrl: string;
  postgres: Postgres;
  temporal: ManagedProcess;
  pipelines: ManagedProcess;
  meters: ManagedProcess[];
  api: ManagedProcess;
  /** Metrics address of each worker, by identity. */
  metrics: Record<string, string>;
  /** Every process, in start order. */
  processes(): ManagedProcess[];
  /** Starts the Temporal server again (after stop) and waits until it answers. */
  startTemporal(): Promise<void>;
  /** Waits until a worker with this identity polls its task queue. */
  waitForWorker(identity: string, timeoutMs?: number): Promise<void>;
  /** Runs `hea <args>` to completion with the cluster's environment; returns its output. */
  hea(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }>;
  stop(): Promise<void>;
}

export async function startCluster(options: ClusterOptions): Promise<Cluster> {
  const { root } = options;
  const log = options.log ?? ((msg: string) => process.stderr.write(`[cluster] ${msg}\n`));
  const dir = options.dir ?? join(root, 'var', 'cluster');
  const configFile = options.configFile ?? join(root, 'config', 'hea.yaml');
  const config = loadConfig(configFile, { env: {} });
  const namespace = config.temporal.namespace;
  const binaries = ensureTemporalBinaries(root, log);

  // A previous cluster whose script was killed outright left its processes running: stop them first.
  await stopLeftovers(join(dir, 'pids.json'), log);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(join(dir, 'logs'), { recursive: true });
  const started: ManagedProcess[] = [];
  const recordPids = () =>
    writeFileSync(join(dir, 'pids.json'), JSON.stringify(started.filter((p) => p.pid).map((p) => ({ name: p.name, pid: p.pid, command: p.spec.command }))));
  const stopAll = async () => {
    // The reverse of the start order: API and workers first (running jobs get their grace time), the
    // Temporal server, then PostgreSQL.
    for (const p of [...started].reverse()) await p.stop().catch(() => undefined);
  };
  try {
    const [pgPort, apiPortFree, ...metricPorts] = await freePorts(3 + (options.meterWorkers ?? PROCESS_ROLES['meter-worker'].replicas));
    const postgres = await startPostgres({ dir: join(dir, 'postgresql'), port: pgPort!, log });
    started.push(postgres.process);
    recordPids();
    setupSchema(binaries, postgres, log);

    const ports = await pickServerPorts();
    const temporal = temporalServerProcess(root, binaries, dir, postgres, ports);
    const temporalAddress = `127.0.0.1:${ports.frontend}`;
    started.push(temporal.start());
    recordPids();
    log(`Temporal server starting at ${temporalAddress} (pid ${temporal.pid})`);
    await waitForTemporal(temporalAddress, namespace, temporal);

    const apiPort = options.apiPort ?? apiPortFree!;
    const metrics: Record<string, string> = {};
    const heaEnv = (extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv => ({
      ...process.env,
      ...options.env,
      HEA_CONFIG: configFile,
      TEMPORAL_ADDRESS: temporalAddress,
      TEMPORAL_NAMESPACE: namespace,
      ...extra,
    });
    const hea = (name: string, args: string[], extra: NodeJS.ProcessEnv = {}) =>
      new ManagedProcess({
        name,
        // bin/hea.js itself, as a service is started: its #! line carries the node flags.
        command: join(root, 'bin', 'hea.js'),
        args,
        cwd: root,
        env: heaEnv(extra),
        logFile: join(dir, 'logs', `${name}.log`),
        // Running jobs get the worker's shutdown grace time, then a margin.
        stopGraceMs: config.worker.shutdownGraceTime + 15_000,
      });
    const worker = (role: 'pipeline-worker' | 'meter-worker', identity: string, metricsPort: number) => {
      metrics[identity] = `127.0.0.1:${metricsPort}`;
      return hea(identity, [...PROCESS_ROLES[role].hea, '--identity', identity], { HEA_METRICS_ADDRESS: metrics[identity] });
    };

    const pipelines = worker('pipeline-worker', 'pipelines-1', metricPorts[0]!);
    const meterCount = options.meterWorkers ?? PROCESS_ROLES['meter-worker'].replicas;
    const meters = Array.from({ length: meterCount }, (_, i) => worker('meter-worker', `meters-${i + 1}`, metricPorts[i + 1]!));
    const api = hea('api', [...PROCESS_ROLES.api.hea], { HEA_API_HOST: '127.0.0.1', HEA_API_PORT: String(apiPort) });
    for (const p of [pipelines, ...meters, api]) started.push(p.start());
    recordPids();

    const client = new Client({ connection: await Connection.connect({ address: temporalAddress }), namespace });
    const waitForWorker = async (identity: string, timeoutMs = 180_000) => {
      const proc = [pipelines, ...meters].find((p) => p.name === identity);
      const taskQueue = identity.startsWith('meters') ? config.temporal.meterTaskQueue : config.temporal.taskQueue;
      await until(
        `worker ${identity} to poll ${taskQueue}`,
        async () => {
          const res = await client.workflowService.describeTaskQueue({ namespace, taskQueue: { name: taskQueue }, taskQueueType: 1 });
          return (res.pollers ?? []).some((p) => p.identity === identity && Date.now() - Number(p.lastAccessTime?.seconds ?? 0) * 1000 < 60_000);
        },
        timeoutMs,
        () => (proc?.pid ? undefined : `it exited: see ${proc?.spec.logFile}`),
      );
    };
    const apiUrl = `http://127.0.0.1:${apiPort}`;
    const runHea: Cluster['hea'] = (args) =>
      new Promise((resolve, reject) => {
        const child = spawn(process.execPath, [join(root, 'bin', 'hea.js'), ...args], { cwd: root, env: heaEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
        child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
        child.once('error', reject);
        child.once('exit', (code) => resolve({ code, stdout, stderr }));
      });

    log('waiting for the workers to poll and the API to answer (each worker bundles the workflow code first)');
    await Promise.all([
      ...[pipelines, ...meters].map((p) => waitForWorker(p.name)),
      until(
        'the API',
        async () => (await fetch(`${apiUrl}/health/`)).ok,
        180_000,
        () => (api.pid ? undefined : `it exited: see ${api.spec.logFile}`),
      ),
    ]);
    const applied = await runHea(SCHEDULES_COMMAND);
    if (applied.code !== 0) throw new Error(`hea schedules apply failed:\n${applied.stderr}`);
    log(`schedules applied:\n${applied.stdout.trim()}`);

    return {
      dir,
      config,
      binaries,
      temporalAddress,
      namespace,
      apiUrl,
      postgres,
      temporal,
      pipelines,
      meters,
      api,
      metrics,
      processes: () => [...started],
      async startTemporal() {
        temporal.start();
        await waitForTemporal(temporalAddress, namespace, temporal);
      },
      waitForWorker,
      hea: runHea,
      async stop() {
        await client.connection.close().catch(() => undefined);
        await stopAll();
      },
    };
  } catch (err) {
    await stopAll();
    throw err;
  }
}

/** Stops the processes a previous run recorded, those still alive and still running the same program. */
async function stopLeftovers(pidFile: string, log: (msg: string) => void): Promise<void> {
  if (!existsSync(pidFile)) return;
  const entries = JSON.parse(readFileSync(pidFile, 'utf8')) as Array<{ name: string; pid: number; command: string }>;
  const alive = entries.filter((e) => {
    try {
      return readFileSync(`/proc/${e.pid}/cmdline`, 'utf8').split('\0')[0] === e.command;
    } catch {
      return false;
    }
  });
  // Workers and API first, PostgreSQL last, as a normal stop.
  for (const e of alive.reverse()) {
    log(`stopping ${e.name} (pid ${e.pid}) left over from an earlier run`);
    process.kill(e.pid, 'SIGTERM');
    await until(
      `${e.name} (pid ${e.pid}) to exit`,
      async () => !existsSync(`/proc/${e.pid}`) || readFileSync(`/proc/${e.pid}/stat`, 'utf8').includes(') Z'),
      60_000,
    ).catch(() => process.kill(e.pid, 'SIGKILL'));
  }
}
