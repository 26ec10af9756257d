// Issue 12's figures for the job runner and the whole system, on the embedded server's SQLite file:
//   1. the runner's overhead per job over a bare spawn (warm host, cold supervisor);
//   2. one meter-year training end to end (workflow start to result) at concurrency 1, warm and cold;
//   3. `meters` trainings at concurrency 4 (the meterModelTraining workflow, as the API starts them);
//   4. 1,000 jobs of `sleep 0.1` at concurrency 10 against the ideal 100/s: the bulk path (one runJobBatch
//      workflow, `hea job sleep --runs 1000 --concurrency 10`, the job `local: true`), and one runSingleJob
//      workflow each (what `hea job` and each API training start), next to Temporal's own ceilings;
//   5. the whole system's idle resident memory: `hea dev` (worker, API, schedules) and its embedded server;
//   6. a scheduled pipeline's start delay while hundreds of trainings wait on their own queue.
//
//   node --import tsx bench/host.ts [--quick] [--only overhead,single,bulk,sleep,schedule,memory]
//                                                     (also part of `npm run bench`)
import { execFileSync, spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { startBenchWorker } from './benchWorker.js';
import { Client, Connection, type WorkflowHandle } from '@temporalio/client';
import { pino } from 'pino';
import { stringify } from 'yaml';
import type { JobOutcome } from '../src/activities/index.js';
import { startEmbeddedServer } from '../src/temporal/embedded.js';
import { median, quantile, round } from './stats.js';

export interface HostBenchOptions {
  root: string;
  dir: string;
  /** A prebuilt workflow bundle (bench/workflows.ts) for bench/worker.ts. */
  bundlePath: string;
  quick: boolean;
  log: (msg: string) => void;
  /** Only these sections (default all): see HOST_SECTIONS. */
  only?: ReadonlySet<HostSection>;
}

/** The sections, by the numbers above: overhead 1, single 2, bulk 3, sleep 4, memory 5, schedule 6. */
export const HOST_SECTIONS = ['overhead', 'single', 'bulk', 'sleep', 'memory', 'schedule'] as const;
export type HostSection = (typeof HOST_SECTIONS)[number];

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const METER_NOW = '2025-11-03T10:30:00Z';
const TYPES = ['electricity', 'heat', 'water', 'gas'];

async function freePort(): Promise<number> {
  const { createServer } = await import('node:net');
  return new Promise((ok) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => ok(p));
    });
  });
}

/**
 * Resident MB of a process and all its descendants, each counted once (Linux /proc), and their proportional
 * set size (shared pages, such as the binaries' text, split between the processes that map them).
 */
export function treeRssMb(pid: number): { totalMb: number; totalPssMb: number; byCommand: Record<string, number> } {
  const parent = new Map<number, number>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      parent.set(Number(name), Number(readFileSync(`/proc/${name}/stat`, 'utf8').split(') ')[1]!.split(' ')[1]));
    } catch {
      // gone meanwhile
    }
  }
  const tree = [pid];
  for (let i = 0; i < tree.length; i++) for (const [p, pp] of parent) if (pp === tree[i]) tree.push(p);
  const byCommand: Record<string, number> = {};
  let total = 0;
  let pss = 0;
  for (const p of tree) {
    try {
      const status = readFileSync(`/proc/${p}/status`, 'utf8');
      const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
      const cmd = readFileSync(`/proc/${p}/cmdline`, 'utf8').split('\0').filter(Boolean);
      const label = cmd.some((a) => a.includes('jobhost'))
        ? 'job host'
        : cmd.some((a) => a.endsWith('temporal'))
          ? 'temporal server'
          : cmd[0]?.endsWith('node')
            ? 'node (worker, API)'
            : (cmd[0] ?? '?');
      byCommand[label] = round((byCommand[label] ?? 0) + kb / 1024);
      total += kb / 1024;
      pss += Number(/^Pss:\s+(\d+)/m.exec(readFileSync(`/proc/${p}/smaps_rollup`, 'utf8'))?.[1] ?? 0) / 1024;
    } catch {
      // gone meanwhile
    }
  }
  return { totalMb: round(total), totalPssMb: round(pss), byCommand };
}

function writeConfig(dir: string, name: string, extra: Record<string, unknown>): string {
  const file = join(dir, `${name}.yaml`);
  writeFileSync(file, stringify(extra));
  return file;
}

/** Runs `n` workflows `concurrency` at a time; per second over the whole batch, and each one's latency. */
async function batch(
  n: number,
  concurrency: number,
  one: (i: number) => Promise<void>,
): Promise<{ seconds: number; perSecond: number; latencyMsP50: number; latencyMsP95: number; failed: number }> {
  let next = 0;
  let failed = 0;
  const latencies: number[] = [];
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < n) {
        const i = next++;
        const s = performance.now();
        await one(i).catch(() => (failed += 1));
        latencies.push(performance.now() - s);
      }
    }),
  );
  const seconds = (performance.now() - t0) / 1000;
  return { seconds: round(seconds, 2), perSecond: round(n / seconds), latencyMsP50: round(median(latencies)), latencyMsP95: round(quantile(latencies, 0.95)), failed };
}

/** Due time -> workflow start and -> first activity started, for `actions` runs of a schedule every 2 s. */
export async function scheduleDelay(client: Client, taskQueue: string, actions: number) {
  const id = `bench-schedule-${Date.now()}`;
  const handle = await client.schedule.create({
    scheduleId: id,
    spec: { intervals: [{ every: '2s' }] },
    action: { type: 'startWorkflow', workflowType: 'runSingleJob', taskQueue, args: [{ job: 'trivial_true' }] },
    policies: { overlap: 'ALLOW_ALL' },
  });
  const deadline = Date.now() + (actions + 3) * 2_000 + 10_000;
  let desc = await handle.describe();
  while (desc.info.recentActions.length < actions + 1 && Date.now() < deadline) {
    await sleep(500);
    desc = await handle.describe();
  }
  await handle.delete();
  const delays: { dueToStartMs: number; dueToFirstActivityMs: number }[] = [];
  // The first action may fire early relative to the worker's warm state: skip it.
  for (const action of desc.info.recentActions.slice(1, actions + 1)) {
    const wf = client.workflow.getHandle(action.action.workflow.workflowId, action.action.workflow.firstExecutionRunId) as WorkflowHandle;
    await wf.result();
    const history = await wf.fetchHistory();
    const started = history.events?.find((e) => e.activityTaskStartedEventAttributes);
    const t = started?.eventTime;
    const ms = t ? Number(t.seconds) * 1000 + Math.floor((t.nanos ?? 0) / 1e6) : NaN;
    delays.push({ dueToStartMs: action.takenAt.getTime() - action.scheduledAt.getTime(), dueToFirstActivityMs: ms - action.scheduledAt.getTime() });
  }
  const first = delays.map((d) => d.dueToFirstActivityMs);
  return {
    actions: delays.length,
    dueToWorkflowStartMsP50: round(median(delays.map((d) => d.dueToStartMs))),
    dueToFirstActivityMsP50: round(median(first)),
    dueToFirstActivityMsP95: round(quantile(first, 0.95)),
    dueToFirstActivityMsMax: round(Math.max(...first)),
  };
}

export async function benchHost(opts: HostBenchOptions) {
  const { root, dir, quick, log } = opts;
  const wanted = (section: HostSection) => !opts.only || opts.only.has(section);
  const python = join(root, '.venv', 'bin', 'python');
  const meters = quick ? 8 : 24;
  const sleepJobs = quick ? 200 : 1000;
  const meterEnv = { HEA_NOW: METER_NOW, HEA_METER_HISTORY_DAYS: '365' };
  const paths = { dataDir: join(dir, 'host-data'), modelsDir: join(dir, 'host-models'), reportsDir: join(dir, 'host-reports') };
  const meterJob = { args: ['-m', 'jobs.meters.train'], timeout: '10m', retry: { maximumAttempts: 1 } };
  const jobs = {
    trivial_true: { command: '/bin/true' },
    trivial_python: { args: ['-c', 'print(\'{"result": {}}\')'] },
    sleep: { command: 'sleep', args: ['0.1'] },
    sleep_local: { command: 'sleep', args: ['0.1'], local: true },
    meter_train: meterJob,
    cold_true: { command: '/bin/true', host: 'cold' },
    cold_python: { args: ['-c', 'print(\'{"result": {}}\')'], host: 'cold' },
    cold_meter_train: { ...meterJob, host: 'cold' },
  };
  const base = {
    paths,
    jobDefaults: { command: python, timeout: '5m', heartbeatTimeout: '30s', killGrace: '2s', env: meterEnv, retry: { initialInterval: '1s', maximumAttempts: 2 } },
    jobs,
    schedules: { entries: {} },
  };
  // Backfill the meters' history once (what each meter's first training does), so trainings are measured.
  const list = Array.from({ length: meters }, (_, i) => ({ meterType: TYPES[i % 4]!, meterId: `meter_bulk_${i}` }));
  if (wanted('single') || wanted('bulk')) log(`host: backfilling ${meters} simulated meters`);
  if (wanted('single') || wanted('bulk'))
    execFileSync(
      python,
      [
        '-c',
        'import sys\nfrom jobs.common import settings, timeutil\nfrom jobs.meters.train import DAY, StoreSource\nend = timeutil.now().floor("h")\nsrc = StoreSource()\nfor m in sys.argv[1:]:\n    t, i = m.split("/", 1)\n    src.read(t, i, end - settings.env_int("HEA_METER_HISTORY_DAYS", 365) * DAY, end)\n',
        ...list.map((m) => `${m.meterType}/${m.meterId}`),
      ],
      { cwd: root, env: { ...process.env, ...meterEnv, HEA_DATA_DIR: paths.dataDir, HEA_MODELS_DIR: paths.modelsDir }, stdio: ['ignore', 'ignore', 'inherit'] },
    );

  const server = await startEmbeddedServer({
    binary: join(root, '.venv', 'bin', 'temporal'),
    ip: '127.0.0.1',
    port: await freePort(),
    uiPort: await freePort(),
    dbFile: join(dir, 'host-temporal.db'),
    logFile: join(dir, 'host-temporal.log'),
    namespace: 'default',
    startTimeoutMs: 60_000,
    logger: pino({ level: 'silent' }),
  });
  const connection = await Connection.connect({ address: server.address });
  const client = new Client({ connection });
  const results: Record<string, unknown> = { server: 'sqlite-file (journal_mode=wal, synchronous=normal)' };
  const run = (taskQueue: string, job: string, args: string[] = [], id = `${job}-${Date.now()}-${Math.random()}`) =>
    client.workflow.execute('runSingleJob', { taskQueue, workflowId: id, args: [{ job, args }] }) as Promise<JobOutcome>;
  try {
    // --- 1 and 2: one at a time ------------------------------------------------------------------------
    if (wanted('overhead') || wanted('single')) {
      const q1 = 'bench-host-1';
      const w1 = await startBenchWorker(root, {
        address: server.address,
        taskQueue: q1,
        configFile: writeConfig(dir, 'host-1', { ...base, worker: { maxConcurrentActivities: 4 } }),
        bundlePath: opts.bundlePath,
      });
      try {
        const runs = quick ? 10 : 30;
        const bare = (cmd: string, args: string[]) =>
          Array.from({ length: runs }, () => {
            const t0 = performance.now();
            spawnSync(cmd, args);
            return performance.now() - t0;
          });
        const inActivity = async (job: string) => {
          await run(q1, job); // warm-up (and the host's start)
          const xs: number[] = [];
          for (let i = 0; i < runs; i++) xs.push((await run(q1, job)).durationMs);
          return xs;
        };
        if (wanted('overhead')) {
          log('host: runner overhead');
          const bareTrue = median(bare('/bin/true', []));
          const barePython = median(bare(python, ['-c', 'print(\'{"result": {}}\')']));
          const overhead = {
            runs,
            bareTrueMs: round(bareTrue),
            barePythonMs: round(barePython),
            warmHostTrueMs: round(median(await inActivity('trivial_true'))),
            warmHostPythonMs: round(median(await inActivity('trivial_python'))),
            coldTrueMs: round(median(await inActivity('cold_true'))),
            coldPythonMs: round(median(await inActivity('cold_python'))),
          };
          results.runnerOverhead = {
            ...overhead,
            /** The goal's figure: the runner's time for a job beyond the same command spawned bare. */
            warmOverTrueMs: round(overhead.warmHostTrueMs - bareTrue),
            coldOverTrueMs: round(overhead.coldTrueMs - bareTrue),
            warmPythonOverBareMs: round(overhead.warmHostPythonMs - barePython),
            goalMs: 30,
          };
        }
        if (wanted('single')) {
          log('host: one meter-year training at concurrency 1');
          const train = async (workflow: 'warm' | 'cold', i: number) => {
            const m = list[i % list.length]!;
            const t0 = performance.now();
            const out = await run(q1, workflow === 'warm' ? 'meter_train' : 'cold_meter_train', ['--meter-id', m.meterId, '--meter-type', m.meterType]);
            const details = (out.result as { details?: { data_fetch_time_seconds?: number; training_time_seconds?: number } }).details;
            return {
              wall: (performance.now() - t0) / 1000,
              job: out.durationMs / 1000,
              fetch: details?.data_fetch_time_seconds ?? NaN,
              fit: details?.training_time_seconds ?? NaN,
            };
          };
          await train('warm', 0);
          const singles = quick ? 3 : 5;
          type Timing = Awaited<ReturnType<typeof train>>;
          const warm: Timing[] = [];
          const cold: Timing[] = [];
          for (let i = 0; i < singles; i++) {
            warm.push(await train('warm', i));
            cold.push(await train('cold', i));
          }
          results.meterTrainingSingle = {
            runs: singles,
            warmWallSecondsP50: round(median(warm.map((x) => x.wall)), 2),
            warmJobSecondsP50: round(median(warm.map((x) => x.job)), 2),
            coldWallSecondsP50: round(median(cold.map((x) => x.wall)), 2),
            coldJobSecondsP50: round(median(cold.map((x) => x.job)), 2),
            /** The job's own clocks (warm runs): reading the meter's year from the store, and fitting. */
            warmFetchSecondsP50: round(median(warm.map((x) => x.fetch)), 2),
            warmFitSecondsP50: round(median(warm.map((x) => x.fit)), 2),
            goalSeconds: 1.2,
          };
        }
      } finally {
        await w1.stop();
      }
    }

    // --- 3: trainings at concurrency 4, the meterModelTraining workflow as the API starts it --------------
    if (wanted('bulk')) {
      const q4 = 'bench-host-4';
      const w4 = await startBenchWorker(root, {
        address: server.address,
        taskQueue: q4,
        configFile: writeConfig(dir, 'host-4', { ...base, worker: { maxConcurrentActivities: 4 } }),
        bundlePath: opts.bundlePath,
      });
      try {
        log(`host: ${meters} trainings at concurrency 4`);
        await run(q4, 'meter_train', ['--meter-id', list[0]!.meterId, '--meter-type', list[0]!.meterType]); // the host's start
        const t0 = performance.now();
        const handles: WorkflowHandle[] = [];
        for (const m of list) {
          handles.push(
            await client.workflow.start('meterModelTraining', {
              taskQueue: q4,
              workflowId: `meter-training:${m.meterType}:${m.meterId}:${Date.now()}`,
              args: [{ meterType: m.meterType, meterId: m.meterId }],
            }),
          );
        }
        const settled = await Promise.allSettled(handles.map((h) => h.result()));
        results.meterTrainingsBulk = {
          meters,
          concurrency: 4,
          wallSeconds: round((performance.now() - t0) / 1000, 2),
          failed: settled.filter((s) => s.status === 'rejected').length,
        };
      } finally {
        await w4.stop();
      }
    }

    // --- 4: sleep jobs at concurrency 10 --------------------------------------------------------------
    if (wanted('sleep')) {
      const q10 = 'bench-host-10';
      const w10 = await startBenchWorker(root, {
        address: server.address,
        taskQueue: q10,
        configFile: writeConfig(dir, 'host-10', { ...base, worker: { maxConcurrentActivities: 10, maxConcurrentWorkflowTasks: 20 } }),
        bundlePath: opts.bundlePath,
      });
      try {
        log(`host: ${sleepJobs} jobs of sleep 0.1 at concurrency 10, one runJobBatch workflow (local activities)`);
        results.sleepJobsBatch = await jobBatch(client, q10, 'sleep_local', sleepJobs, 10, { worker: w10.pid, server: server.pid });
        log(`host: ${sleepJobs} jobs of sleep 0.1 at concurrency 10, one workflow each`);
        await batch(20, 10, async (i) => void (await run(q10, 'sleep', [], `sleep-warmup-${i}-${Date.now()}`)));
        const b = await batch(sleepJobs, 10, async (i) => void (await run(q10, 'sleep', [], `sleep-${i}-${Date.now()}`)));
        // Temporal's own ceiling on this server and machine, now: the same workflows with an in-process activity.
        const noop = await batch(
          sleepJobs,
          10,
          async (i) => void (await client.workflow.execute('benchNoop', { taskQueue: q10, workflowId: `noop-${i}-${Date.now()}`, args: [i] })),
        );
        // The alternative not taken by users' paths (each API training and `hea job` is a workflow of its own):
        // the same jobs from one workflow, fanned out 10 at a time.
        const t0 = performance.now();
        await client.workflow.execute('benchFanOut', { taskQueue: q10, workflowId: `fanout-${Date.now()}`, args: ['sleep', sleepJobs, 10] });
        const fanOutPerSecond = round(sleepJobs / ((performance.now() - t0) / 1000));
        results.sleepJobs = {
          jobs: sleepJobs,
          concurrency: 10,
          ...b,
          idealPerSecond: 100,
          ratioToIdeal: round(b.perSecond / 100, 2),
          path: 'one runSingleJob workflow per job (as `hea job` and each API training start one)',
          temporalCeilingPerSecond: noop.perSecond,
          fanOutOneWorkflowPerSecond: fanOutPerSecond,
        };
      } finally {
        await w10.stop();
      }
    }

    // --- 6: a scheduled pipeline's start delay while hundreds of trainings wait on their own queue --------
    if (wanted('schedule')) {
      const waiting = quick ? 100 : 300;
      const qp = 'bench-host-pipelines';
      const qm = 'bench-host-meters';
      // The trainings are a stand-in (each `sleep 2`): what is measured is queueing, not the CPU they would take.
      const fairConfig = writeConfig(dir, 'host-fair', {
        ...base,
        jobs: { ...jobs, meter_train: { command: 'sleep', args: ['2'], timeout: '10m' } },
        worker: { maxConcurrentActivities: 4, maxConcurrentMeterActivities: 2 },
      });
      const wf = await startBenchWorker(root, { address: server.address, taskQueue: qp, configFile: fairConfig, bundlePath: opts.bundlePath, meterTaskQueue: qm });
      try {
        log(`host: schedule delay with ${waiting} trainings waiting`);
        const handles: WorkflowHandle[] = [];
        for (let i = 0; i < waiting; i++) {
          handles.push(
            await client.workflow.start('meterModelTraining', {
              taskQueue: qm,
              workflowId: `fair-${i}-${Date.now()}`,
              args: [{ meterType: 'electricity', meterId: `meter_fair_${i}` }],
            }),
          );
        }
        const delay = await scheduleDelay(client, qp, quick ? 5 : 10);
        const stillWaiting = (await Promise.all(handles.map((h) => h.describe()))).filter((d) => d.status.name === 'RUNNING').length;
        results.scheduleDelayWhileTrainingsWait = {
          trainingsStarted: waiting,
          trainingsStillRunningAfter: stillWaiting,
          ...delay,
          goalP95Ms: 1_000,
          trainings: 'stand-ins: `sleep 2` each, 2 meter slots',
        };
        await Promise.allSettled(handles.map((h) => h.terminate()));
      } finally {
        await wf.stop();
      }
    }
  } finally {
    await connection.close();
    await server.stop();
  }

  // --- 5: the whole system idle: `hea dev` and its embedded server -----------------------------------
  if (wanted('memory')) log('host: idle memory of `hea dev` (server, worker, API)');
  if (wanted('memory')) results.idleMemory = await idleMemory(root, dir, { ...base, jobs: { trivial_true: jobs.trivial_true } });
  return results;
}

/**
 * `n` runs of `job` from one runJobBatch workflow, `concurrency` at a time (after a short warm-up batch):
 * per second from the client's start to its result, against the ideal of `concurrency` runs per 100 ms,
 * and the size of the history it left.
 */
/** CPU seconds (user + system, all threads) a process has used so far; 0 when it is gone or unknown. */
function cpuSeconds(pid: number | undefined): number {
  if (pid === undefined) return 0;
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (USER_HZ 100)
  } catch {
    return 0;
  }
}

async function jobBatch(client: Client, taskQueue: string, job: string, n: number, concurrency: number, pids: { worker: number; server?: number }) {
  await client.workflow.execute('runJobBatch', { taskQueue, workflowId: `batch-warmup-${Date.now()}`, args: [{ job, runs: 20, concurrency }] });
  const workflowId = `batch-${job}-${Date.now()}`;
  const load1 = Number(readFileSync('/proc/loadavg', 'utf8').split(' ')[0]);
  const cpu0 = { worker: cpuSeconds(pids.worker), server: cpuSeconds(pids.server) };
  const t0 = performance.now();
  const summary = (await client.workflow.execute('runJobBatch', { taskQueue, workflowId, args: [{ job, runs: n, concurrency }] })) as {
    succeeded: number;
    failed: number;
    durationMs: number;
    workflowRuns: number;
  };
  const seconds = (performance.now() - t0) / 1000;
  const cpuMs = (pid: number | undefined, before: number) => round(((cpuSeconds(pid) - before) * 1000) / n, 2);
  /** CPU per run: the worker's Node process (runner, SDK, workflow) and the Temporal server. */
  const cpuPerRunMs = { worker: cpuMs(pids.worker, cpu0.worker), server: cpuMs(pids.server, cpu0.server) };
  const history = await client.workflow.getHandle(workflowId).fetchHistory();
  // The same path without the job runner: in-process local activities of 100 ms, as many, as many at once.
  const t1 = performance.now();
  await client.workflow.execute('benchLocalFanOut', { taskQueue, workflowId: `local-fanout-${Date.now()}`, args: [n, concurrency, 100] });
  const localCeiling = round(n / ((performance.now() - t1) / 1000));
  const perSecond = round(n / seconds);
  return {
    jobs: n,
    concurrency,
    seconds: round(seconds, 2),
    perSecond,
    idealPerSecond: concurrency * 10,
    ratioToIdeal: round(perSecond / (concurrency * 10), 2),
    /** Each run's time beyond its 100 ms, at this concurrency: the slot's whole cycle minus the sleep. */
    overheadPerRunMs: round((seconds * 1000 * concurrency) / n - 100, 1),
    succeeded: summary.succeeded,
    failed: summary.failed,
    workflowRuns: summary.workflowRuns,
    historyEvents: history.events?.length ?? 0,
    historyKb: round(Buffer.byteLength(JSON.stringify(history)) / 1024),
    /** In-process local activities of 100 ms in one workflow: Temporal's share of the batch's cost. */
    localActivityCeilingPerSecond: localCeiling,
    cpuPerRunMs,
    load1AtStart: load1,
    path: 'one runJobBatch workflow, the job `local: true` (`hea job <name> --runs N --concurrency 10`)',
  };
}

export async function idleMemory(root: string, dir: string, config: Record<string, unknown>) {
  const file = writeConfig(dir, 'idle', { ...config, temporal: { embedded: { dbFile: join(dir, 'idle', 'temporal.db'), logFile: join(dir, 'idle', 'temporal.log') } } });
  const apiPort = await freePort();
  // As users start it: bin/hea.js itself, whose #! line carries the node flags.
  const proc = execa(join(root, 'bin', 'hea.js'), ['dev'], {
    cwd: root,
    env: {
      HEA_CONFIG: file,
      TEMPORAL_ADDRESS: '',
      HEA_TEMPORAL_PORT: String(await freePort()),
      HEA_TEMPORAL_UI_PORT: String(await freePort()),
      HEA_API_PORT: String(apiPort),
      HEA_METRICS_ADDRESS: `127.0.0.1:${await freePort()}`,
      LOG_LEVEL: 'warn',
    },
    reject: false,
    stdin: 'ignore',
    stdout: 'ignore',
    stderr: 'inherit',
  });
  try {
    const deadline = Date.now() + 120_000;
    while (Date.now() < deadline) {
      const ok = await fetch(`http://127.0.0.1:${apiPort}/health/`).then(
        (r) => r.status < 500,
        () => false,
      );
      if (ok) break;
      await sleep(500);
    }
    // Idle: started, nothing to do for a while (the job host is not running: it starts with the first job).
    await sleep(15_000);
    const samples = [treeRssMb(proc.pid!)];
    await sleep(2_000);
    samples.push(treeRssMb(proc.pid!));
    return { ...samples.at(-1)!, goalMb: 400 };
  } finally {
    proc.kill('SIGTERM');
    await proc;
  }
}

export function formatHostBench(r: Record<string, any>): string {
  const rows: [string, string][] = [];
  const o = r.runnerOverhead;
  if (o) {
    rows.push([
      'runner overhead per job over a bare spawn (/bin/true, median)',
      `warm host +${o.warmOverTrueMs} ms, cold supervisor +${o.coldOverTrueMs} ms (bare ${o.bareTrueMs} ms; goal <= ${o.goalMs} ms: x${round(o.warmOverTrueMs / o.goalMs, 2)} of it)`,
    ]);
    rows.push(['trivial Python job in the runner vs bare python -c', `warm ${o.warmHostPythonMs} ms, cold ${o.coldPythonMs} ms, bare ${o.barePythonMs} ms`]);
  }
  const s = r.meterTrainingSingle;
  if (s)
    rows.push([
      'meter-year training end to end, concurrency 1 (p50)',
      `warm ${s.warmWallSecondsP50} s (job ${s.warmJobSecondsP50} s: fetch ${s.warmFetchSecondsP50} s, fit ${s.warmFitSecondsP50} s), cold ${s.coldWallSecondsP50} s (job ${s.coldJobSecondsP50} s); goal <= ${s.goalSeconds} s: x${round(s.warmWallSecondsP50 / s.goalSeconds, 2)}`,
    ]);
  const b = r.meterTrainingsBulk;
  if (b)
    rows.push([
      `${b.meters} trainings at concurrency ${b.concurrency} (meterModelTraining)`,
      `${b.wallSeconds} s${b.failed ? `, ${b.failed} failed` : ''}${r.peerRatio ? `; x${r.peerRatio} of the warm Dramatiq figure (goal <= 1.3)` : ''}`,
    ]);
  const jb = r.sleepJobsBatch;
  if (jb)
    rows.push([
      `${jb.jobs} jobs of sleep 0.1 at concurrency ${jb.concurrency}, one runJobBatch (local)`,
      `${jb.perSecond}/s of the ideal ${jb.idealPerSecond}/s = x${jb.ratioToIdeal} (goal >= 0.9; +${jb.overheadPerRunMs} ms a run over its 100 ms${jb.failed ? `, ${jb.failed} failed` : ''}; history ${jb.historyEvents} events, ${jb.historyKb} KB; load ${jb.load1AtStart}; CPU a run: worker ${jb.cpuPerRunMs.worker} ms, server ${jb.cpuPerRunMs.server} ms); in-process local activities of 100 ms: ${jb.localActivityCeilingPerSecond}/s`,
    ]);
  const j = r.sleepJobs;
  if (j)
    rows.push([
      `${j.jobs} jobs of sleep 0.1 at concurrency ${j.concurrency}, a workflow each`,
      `${j.perSecond}/s of the ideal ${j.idealPerSecond}/s = x${j.ratioToIdeal} (goal >= 0.9; p50 ${j.latencyMsP50} ms${j.failed ? `, ${j.failed} failed` : ''}); Temporal alone (in-process activity): ${j.temporalCeilingPerSecond}/s; one workflow fanning out: ${j.fanOutOneWorkflowPerSecond}/s`,
    ]);
  const d = r.scheduleDelayWhileTrainingsWait;
  if (d)
    rows.push([
      `schedule due -> first activity, ${d.trainingsStarted} trainings waiting`,
      `p95 ${d.dueToFirstActivityMsP95} ms of the goal ${d.goalP95Ms} ms = x${round(d.dueToFirstActivityMsP95 / d.goalP95Ms, 2)} (p50 ${d.dueToFirstActivityMsP50} ms, ${d.actions} runs; ${d.trainingsStillRunningAfter} trainings still queued or running after)`,
    ]);
  const m = r.idleMemory;
  if (m)
    rows.push([
      'whole system idle RSS (hea dev + embedded server)',
      `${m.totalMb} MB of the goal ${m.goalMb} MB = x${round(m.totalMb / m.goalMb, 2)}, PSS ${m.totalPssMb} MB (${Object.entries(m.byCommand)
        .map(([k, v]) => `${k} ${v}`)
        .join(', ')})`,
    ]);
  const w = Math.max(...rows.map((x) => x[0].length));
  return rows.map(([a, c]) => `${a.padEnd(w)}  ${c}`).join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { mkdtempSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { resolve } = await import('node:path');
  const { fileURLToPath } = await import('node:url');
  const { bundleWorkflowCode, DefaultLogger, Runtime } = await import('@temporalio/worker');
  Runtime.install({ logger: new DefaultLogger('ERROR') });
  const root = resolve(fileURLToPath(new URL('.', import.meta.url)), '..');
  const dir = mkdtempSync(join(tmpdir(), 'hea-bench-host-'));
  const bundle = await bundleWorkflowCode({
    workflowsPath: join(root, 'bench', 'workflows.ts'),
    webpackConfigHook: (cfg) => ({ ...cfg, resolve: { ...cfg.resolve, extensionAlias: { '.js': ['.ts', '.js'] } } }),
    logger: new DefaultLogger('WARN'),
  });
  const bundlePath = join(dir, 'bundle.js');
  writeFileSync(bundlePath, bundle.code);
  const log = (msg: string) => process.stderr.write(`[bench] ${msg}\n`);
  const { values } = (await import('node:util')).parseArgs({ options: { quick: { type: 'boolean' }, only: { type: 'string' } } });
  const only = values.only?.split(',').map((s) => s.trim());
  const unknown = only?.filter((s) => !(HOST_SECTIONS as readonly string[]).includes(s)) ?? [];
  if (unknown.length) {
    process.stderr.write(`bench/host.ts: --only: unknown section ${unknown.join(', ')}; sections: ${HOST_SECTIONS.join(', ')}\n`);
    process.exit(2);
  }
  const results = await benchHost({ root, dir, bundlePath, quick: values.quick ?? false, log, ...(only ? { only: new Set(only as HostSection[]) } : {}) });
  writeFileSync(join(dir, 'host.json'), `${JSON.stringify(results, null, 2)}\n`);
  process.stdout.write(`${formatHostBench(results)}\n${join(dir, 'host.json')}\n`);
  process.exit(0);
}
