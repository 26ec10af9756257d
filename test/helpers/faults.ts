// Fault-injection plumbing: throwaway job scripts, configs with env and commands, worker processes that
// can be SIGKILLed, a file-backed embedded server on free ports, and readers for histories and run logs.
import { appendFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createConnection, createServer, type Socket } from 'node:net';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { execa, type ResultPromise } from 'execa';
import { pino } from 'pino';
import type { Client, WorkflowHandle } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import type { temporal } from '@temporalio/proto';
import type { AppConfig } from '../../src/config/load.js';
import { startEmbeddedServer, type EmbeddedServer } from '../../src/temporal/embedded.js';
import { createActivities, type JobHeartbeat } from '../../src/activities/index.js';
import type { Logger } from '../../src/logging.js';
import { ROOT, TEMPORAL_BIN, testLogger, tmpDir, uniqueTaskQueue, workflowBundle, writeFixtureConfig } from './env.js';

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/**
 * A TCP link to `target` ("host:port") whose answers arrive `delayMs` late (requests go through at once), as
 * over a slow network: a read sent before a write can then end after the write has returned.
 */
export async function slowLink(target: string, delayMs: number): Promise<{ address: string; close(): Promise<void> }> {
  const [host, port] = [target.slice(0, target.lastIndexOf(':')), Number(target.slice(target.lastIndexOf(':') + 1))];
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const upstream = createConnection({ host, port });
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => client.destroy());
    }
    client.pipe(upstream);
    // Each chunk keeps its order: every one waits the same time.
    upstream.on('data', (chunk) => setTimeout(() => client.writable && client.write(chunk), delayMs));
    upstream.on('end', () => setTimeout(() => client.end(), delayMs));
    client.on('close', () => upstream.destroy());
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const { port: bound } = server.address() as { port: number };
  return {
    address: `127.0.0.1:${bound}`,
    close: () =>
      new Promise<void>((ok) => {
        for (const s of sockets) s.destroy();
        server.close(() => ok());
      }),
  };
}

/** The project's own embedded server (`temporal server start-dev` on a SQLite file), on free ports. */
export async function startFileServer(dbFile: string, ports?: { port: number; uiPort: number }): Promise<EmbeddedServer & { port: number; uiPort: number }> {
  const port = ports?.port ?? (await freePort());
  const uiPort = ports?.uiPort ?? (await freePort());
  const server = await startEmbeddedServer({
    binary: TEMPORAL_BIN,
    ip: '127.0.0.1',
    port,
    uiPort,
    dbFile,
    logFile: `${dbFile}.log`,
    namespace: 'default',
    startTimeoutMs: 60_000,
    logger: testLogger(),
  });
  return Object.assign(server, { port, uiPort });
}

/**
 * A job that logs each run to $HEA_DATA_DIR/runs.jsonl (so a test can count how often each job really
 * ran, whatever the history says), reports progress (also as its current step in $HEA_DATA_DIR/<job>.step,
 * readable while Temporal is down), then a result. Args: steps, seconds per step.
 */
export const RUNLOG_JOB = `
import json, os, sys, time
steps = int(sys.argv[1]) if len(sys.argv) > 1 else 1
pause = float(sys.argv[2]) if len(sys.argv) > 2 else 0.0
data = os.environ["HEA_DATA_DIR"]
os.makedirs(data, exist_ok=True)
with open(os.path.join(data, "runs.jsonl"), "a") as f:
    f.write(json.dumps({"job": os.environ["HEA_JOB_NAME"], "attempt": int(os.environ["HEA_ATTEMPT"]),
                        "pid": os.getpid(), "t": time.time(), "args": sys.argv[1:]}) + "\\n")
for i in range(1, steps + 1):
    print(json.dumps({"progress": 100 * i / steps, "stage": f"step-{i}"}), flush=True)
    with open(os.path.join(data, os.environ["HEA_JOB_NAME"] + ".step"), "w") as f:
        f.write(str(i))
    time.sleep(pause)
print(json.dumps({"result": {"job": os.environ["HEA_JOB_NAME"], "attempt": int(os.environ["HEA_ATTEMPT"]), "pid": os.getpid()}}))
`;

/** Writes a Python script for a job into `dir` and returns its path. */
export function writeScript(dir: string, name: string, source: string): string {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, name);
  writeFileSync(file, source.trimStart());
  return file;
}

export interface RunLogEntry {
  job: string;
  attempt: number;
  pid: number;
  t: number;
  args: string[];
}

export function readRuns(dataDir: string): RunLogEntry[] {
  const file = join(dataDir, 'runs.jsonl');
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as RunLogEntry);
}

/** The step a RUNLOG_JOB job has reached (0 before its first). */
export function readStep(dataDir: string, job: string): number {
  const file = join(dataDir, `${job}.step`);
  return existsSync(file) ? Number(readFileSync(file, 'utf8')) || 0 : 0;
}

export interface JobDef {
  /** Default: the project's Python. */
  command?: string;
  args?: string[];
  env?: Record<string, string>;
  timeout?: string;
  heartbeatTimeout?: string;
  killGrace?: string;
  retry?: Record<string, unknown>;
}

/** A config file (in a fresh temporary directory) for the given jobs; returns the parsed config. */
export function writeConfig(jobs: Record<string, JobDef>, extra: Record<string, unknown> = {}, dir = tmpDir('hea-fault-')): AppConfig {
  return writeFixtureConfig(jobs, extra, dir);
}

/** `hea worker` as its own process (so it can be SIGKILLed), its output in a log file. */
export function startWorkerProcess(options: { configFile: string; address: string; taskQueue: string; logFile: string; env?: Record<string, string> }): ResultPromise {
  appendFileSync(options.logFile, '');
  return execa('node', [join(ROOT, 'bin', 'hea.js'), 'worker'], {
    env: {
      HEA_CONFIG: options.configFile,
      TEMPORAL_ADDRESS: options.address,
      HEA_TASK_QUEUE: options.taskQueue,
      LOG_LEVEL: 'info',
      ...options.env,
    },
    reject: false,
    stdin: 'ignore',
    stdout: { file: options.logFile, append: true },
    stderr: { file: options.logFile, append: true },
  });
}

type History = temporal.api.history.v1.IHistory;

export interface ActivityAttempt {
  job: string;
  args: string[];
  scheduledEventId: number;
  /** Attempt number of the ActivityTaskStarted event (the server records only the last attempt's start). */
  startedAttempt?: number;
  startedAt?: number;
  closed?: 'completed' | 'failed' | 'timedOut' | 'canceled';
}

function eventMs(e: temporal.api.history.v1.IHistoryEvent): number {
  const t = e.eventTime;
  return t ? Number(t.seconds ?? 0) * 1000 + Math.floor((t.nanos ?? 0) / 1e6) : 0;
}

/** Every runJob activity of a history: its job, its started attempt and how it closed. */
export function runJobActivities(client: Client, history: History): ActivityAttempt[] {
  const conv = client.options.loadedDataConverter.payloadConverter;
  const byScheduled = new Map<number, ActivityAttempt>();
  for (const e of history.events ?? []) {
    const id = Number(e.eventId);
    const sched = e.activityTaskScheduledEventAttributes;
    if (sched && sched.activityType?.name === 'runJob') {
      const input = conv.fromPayload(sched.input!.payloads![0]!) as { job: string; args?: string[] };
      byScheduled.set(id, { job: input.job, args: input.args ?? [], scheduledEventId: id });
    }
    const started = e.activityTaskStartedEventAttributes;
    if (started) {
      const a = byScheduled.get(Number(started.scheduledEventId));
      if (a) Object.assign(a, { startedAttempt: started.attempt ?? 1, startedAt: eventMs(e) });
    }
    const closers: [unknown, ActivityAttempt['closed']][] = [
      [e.activityTaskCompletedEventAttributes, 'completed'],
      [e.activityTaskFailedEventAttributes, 'failed'],
      [e.activityTaskTimedOutEventAttributes, 'timedOut'],
      [e.activityTaskCanceledEventAttributes, 'canceled'],
    ];
    for (const [attrs, how] of closers) {
      const scheduledEventId = (attrs as { scheduledEventId?: unknown } | null | undefined)?.scheduledEventId;
      if (scheduledEventId !== undefined && scheduledEventId !== null) {
        const a = byScheduled.get(Number(scheduledEventId));
        if (a) a.closed = how;
      }
    }
  }
  return [...byScheduled.values()];
}

/** The latest heartbeat of the pending runJob activity for `job`, if any. */
export async function pendingHeartbeat(client: Client, handle: WorkflowHandle, job: string): Promise<JobHeartbeat | undefined> {
  const desc = await handle.describe();
  for (const act of desc.raw.pendingActivities ?? []) {
    const payload = act.heartbeatDetails?.payloads?.[0];
    if (!payload) continue;
    const beat = client.options.loadedDataConverter.payloadConverter.fromPayload(payload) as JobHeartbeat;
    if (beat.job === job) return beat;
  }
  return undefined;
}

/** Kilobytes of resident memory of a process (Linux /proc). */
export function rssKb(pid: number): number | undefined {
  try {
    const m = /VmRSS:\s+(\d+)\s+kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

/** A pino logger whose JSON lines are kept in memory, for tests that check what the runner logged. */
export function capturingLogger(): { logger: Logger; lines: () => Record<string, unknown>[] } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, cb) {
      chunks.push(String(chunk));
      cb();
    },
  });
  const logger = pino({ level: 'debug' }, stream);
  return {
    logger,
    lines: () =>
      chunks
        .join('')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}

/** Runs `fn` while an in-process worker with the real activities (and `logger`) polls a fresh task queue. */
export async function withJobWorker<T>(env: TestWorkflowEnvironment, config: AppConfig, logger: Logger, name: string, fn: (taskQueue: string) => Promise<T>): Promise<T> {
  const taskQueue = uniqueTaskQueue(name);
  const worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue,
    workflowBundle: await workflowBundle(),
    activities: createActivities(config, logger),
  });
  return worker.runUntil(fn(taskQueue));
}

/** Starts `runSingleJob` for one job of the registry. */
export function startSingleJob(env: TestWorkflowEnvironment, taskQueue: string, job: string) {
  return env.client.workflow.start('runSingleJob', { taskQueue, workflowId: `${job}-${taskQueue}`, args: [{ job, args: [] }] });
}
