// Speed figures of the whole system on this machine: `npm run bench` (about 2-3 minutes).
//
//   node --import tsx bench/run.ts [--quick] [--out bench/results.json]
//
// Everything runs against throwaway Temporal dev servers (the .venv binary): one in memory, one on a
// SQLite file like the embedded server of `npm start`. The worker is a separate process (bench/worker.ts)
// so its memory can be read. Measured:
//   1. throughput of short tasks at steady state, workflow start to result: (a) `benchNoop`, one in-process
//      activity (Temporal's own cost), (b) `runSingleJob` running `/bin/true` through the job runner;
//   2. the job runner's overhead: a trivial Python job through the system minus the same command run bare;
//   3. the daily pipeline's wall time against its critical path, with sleeping fixture jobs;
//   4. the delay from a schedule's due time to its workflow's first activity starting;
//   5. the worker's resident memory idle and under load.
// Prints a table and writes bench/results.json.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, tmpdir, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { ResultPromise } from 'execa';
import { startBenchWorker } from './benchWorker.js';
import { Client, Connection } from '@temporalio/client';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, Runtime, bundleWorkflowCode } from '@temporalio/worker';
import { pino } from 'pino';
import { stringify } from 'yaml';
import type { JobOutcome } from '../src/activities/index.js';
import { startEmbeddedServer, type EmbeddedServer } from '../src/temporal/embedded.js';
import type { RunReport } from '../src/workflows/report.js';
import { benchCluster, formatClusterBench } from './cluster.js';
import { benchHost, formatHostBench, scheduleDelay } from './host.js';
import { formatPeer, measurePeer } from './peers/index.js';
import { benchApi } from './api.js';
import { median, quantile, round } from './stats.js';

const ROOT = resolve(fileURLToPath(new URL('.', import.meta.url)), '..');
const PYTHON = join(ROOT, '.venv', 'bin', 'python');
const TEMPORAL = join(ROOT, '.venv', 'bin', 'temporal');

const { values } = parseArgs({ options: { quick: { type: 'boolean', default: false }, out: { type: 'string', default: join(ROOT, 'bench', 'results.json') } } });
const QUICK = values.quick;
const N_NOOP = QUICK ? 100 : 300;
const N_JOBS = QUICK ? 40 : 100;
const CONCURRENCY = 16;

const dir = mkdtempSync(join(tmpdir(), 'hea-bench-'));
const log = (msg: string) => process.stderr.write(`[bench] ${msg}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// --- fixture jobs -------------------------------------------------------------------------------------
const SLEEP_JOB = join(dir, 'sleep_job.py');
writeFileSync(SLEEP_JOB, 'import json, sys, time\ntime.sleep(float(sys.argv[1]))\nprint(json.dumps({"result": {"slept": float(sys.argv[1])}}))\n');
const TRIVIAL_PY = ['-c', 'print(\'{"result": {}}\')'];

// Seconds each job of the daily pipeline sleeps; the DAG is dailyEnergyPipeline's.
const SLEEPS: Record<string, number> = {
  prices_data: 1.0,
  co2_gas_coal: 0.5,
  weather_data: 1.5,
  consumption_data: 0.5,
  thermia_data: 1.0,
  solar_actual: 0.5,
  solar_predictions: 1.0,
  price_predictions: 1.5,
  demand_predictions: 1.0,
  rl_control: 1.0,
};
const NEEDS: Record<string, string[]> = {
  solar_predictions: ['weather_data', 'solar_actual'],
  price_predictions: ['prices_data', 'co2_gas_coal', 'weather_data'],
  demand_predictions: ['consumption_data', 'thermia_data', 'weather_data'],
  rl_control: ['solar_predictions', 'price_predictions', 'demand_predictions'],
};
function criticalPath(cost: Record<string, number>): { seconds: number; path: string[] } {
  const memo = new Map<string, { seconds: number; path: string[] }>();
  const longest = (job: string): { seconds: number; path: string[] } => {
    const known = memo.get(job);
    if (known) return known;
    const before = (NEEDS[job] ?? []).map(longest).sort((a, b) => b.seconds - a.seconds)[0] ?? { seconds: 0, path: [] };
    const out = { seconds: before.seconds + cost[job]!, path: [...before.path, job] };
    memo.set(job, out);
    return out;
  };
  return Object.keys(cost)
    .map(longest)
    .sort((a, b) => b.seconds - a.seconds)[0]!;
}

function writeBenchConfig(name: string, maxConcurrentActivities: number): string {
  const file = join(dir, `${name}.yaml`);
  const jobs: Record<string, unknown> = {
    trivial_true: { command: '/bin/true' },
    trivial_python: { args: TRIVIAL_PY },
  };
  for (const [job, secs] of Object.entries(SLEEPS)) jobs[job] = { args: [SLEEP_JOB, String(secs)] };
  // The pipeline's bookkeeping steps (accuracy scores, the report's charts): quick, off the critical path.
  for (const job of ['accuracy_score', 'daily_report']) jobs[job] = { args: [SLEEP_JOB, '0.1'] };
  writeFileSync(
    file,
    stringify({
      paths: { dataDir: join(dir, 'data'), modelsDir: join(dir, 'models'), reportsDir: join(dir, 'reports') },
      worker: { maxConcurrentActivities, maxConcurrentWorkflowTasks: 20 },
      jobDefaults: { command: PYTHON, timeout: '1m', heartbeatTimeout: '30s', killGrace: '2s', retry: { initialInterval: '1s', maximumAttempts: 3 } },
      jobs,
    }),
  );
  return file;
}

// --- worker process -----------------------------------------------------------------------------------
interface BenchWorker {
  proc: ResultPromise;
  pid: number;
  rssMb(): number | undefined;
  stop(): Promise<void>;
}

function rssMb(pid: number): number | undefined {
  try {
    const m = /VmRSS:\s+(\d+)\s+kB/.exec(execFileSync('cat', [`/proc/${pid}/status`], { encoding: 'utf8' }));
    return m ? Number(m[1]) / 1024 : undefined;
  } catch {
    return undefined;
  }
}

async function startWorker(address: string, taskQueue: string, configFile: string, bundlePath: string): Promise<BenchWorker> {
  const worker = await startBenchWorker(ROOT, { address, taskQueue, configFile, bundlePath });
  return { ...worker, rssMb: () => rssMb(worker.pid) };
}

/** Samples a worker's RSS while `fn` runs; returns fn's value and the peak. */
async function sampled<T>(worker: BenchWorker, fn: () => Promise<T>): Promise<{ value: T; peakRssMb: number }> {
  let peak = worker.rssMb() ?? 0;
  const timer = setInterval(() => (peak = Math.max(peak, worker.rssMb() ?? 0)), 100);
  try {
    return { value: await fn(), peakRssMb: peak };
  } finally {
    clearInterval(timer);
  }
}

// --- measurements -------------------------------------------------------------------------------------
interface Throughput {
  tasks: number;
  concurrency: number;
  seconds: number;
  tasksPerSecond: number;
  latencyMsP50: number;
  latencyMsP95: number;
  /** Workflows that failed (counted, not retried by the bench). */
  failed: number;
}

/** Runs `n` workflows, `concurrency` at a time, after a warm-up; tasks per second over the whole batch. */
async function throughput(
  client: Client,
  taskQueue: string,
  workflow: string,
  argsOf: (i: number) => unknown[],
  n: number,
  concurrency: number,
  tag: string,
): Promise<Throughput> {
  let failed = 0;
  const one = async (i: number) => {
    const t0 = performance.now();
    await client.workflow.execute(workflow, { taskQueue, workflowId: `${tag}-${i}-${Date.now()}`, args: argsOf(i) }).catch((err: Error) => {
      failed += 1;
      log(`${tag} ${i} failed: ${err.message}: ${(err.cause as Error | undefined)?.message ?? ''}`);
    });
    return performance.now() - t0;
  };
  // Warm-up: connections, caches, the worker's first workflow tasks.
  await Promise.all(Array.from({ length: Math.min(concurrency, 20) }, (_, i) => one(-1 - i)));
  failed = 0;
  const latencies: number[] = [];
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < n) {
        const i = next++;
        latencies.push(await one(i));
      }
    }),
  );
  const seconds = (performance.now() - t0) / 1000;
  return {
    tasks: n,
    concurrency,
    seconds: round(seconds, 2),
    tasksPerSecond: round(n / seconds),
    latencyMsP50: round(median(latencies)),
    latencyMsP95: round(quantile(latencies, 0.95)),
    failed,
  };
}

async function runnerOverhead(client: Client, taskQueue: string, runs: number) {
  const bare: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    const r = spawnSync(PYTHON, TRIVIAL_PY, { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`bare run failed: ${r.stderr}`);
    bare.push(performance.now() - t0);
  }
  const through: number[] = [];
  const inActivity: number[] = [];
  for (let i = 0; i < runs + 2; i++) {
    const t0 = performance.now();
    const out = (await client.workflow.execute('runSingleJob', {
      taskQueue,
      workflowId: `overhead-${i}-${Date.now()}`,
      args: [{ job: 'trivial_python' }],
    })) as JobOutcome;
    if (i < 2) continue; // warm-up
    through.push(performance.now() - t0);
    inActivity.push(out.durationMs);
  }
  return {
    runs,
    bareMsP50: round(median(bare)),
    throughSystemMsP50: round(median(through)),
    overheadMsP50: round(median(through) - median(bare)),
    runnerMsP50: round(median(inActivity) - median(bare)),
    temporalMsP50: round(median(through) - median(inActivity)),
  };
}

async function dailyPipeline(client: Client, taskQueue: string) {
  const t0 = performance.now();
  const report = (await client.workflow.execute('dailyEnergyPipeline', { taskQueue, workflowId: `daily-${taskQueue}-${Date.now()}`, args: [{}] })) as RunReport;
  const wall = (performance.now() - t0) / 1000;
  if (report.status !== 'success') throw new Error(`daily pipeline: ${report.status}`);
  // The same critical path with each job's own measured duration (Python start-up and the runner included).
  const measured = Object.fromEntries(report.steps.map((s) => [s.job, (s.durationMs ?? 0) / 1000]));
  return { wallSeconds: round(wall, 2), stepsSeconds: measured, criticalPathWithStepDurations: round(criticalPath(measured).seconds, 2) };
}

// --- servers ------------------------------------------------------------------------------------------
interface ServerUnderTest {
  name: string;
  address: string;
  stop(): Promise<void>;
}

async function inMemoryServer(): Promise<ServerUnderTest> {
  const env = await TestWorkflowEnvironment.createLocal({
    server: { executable: { type: 'existing-path', path: TEMPORAL }, ui: false, log: { format: 'pretty', level: 'error' } },
  });
  return { name: 'in-memory', address: env.address, stop: () => env.teardown() };
}

async function sqliteServer(): Promise<ServerUnderTest> {
  const { createServer } = await import('node:net');
  const freePort = () =>
    new Promise<number>((ok) => {
      const s = createServer();
      s.listen(0, '127.0.0.1', () => {
        const p = (s.address() as { port: number }).port;
        s.close(() => ok(p));
      });
    });
  const server: EmbeddedServer = await startEmbeddedServer({
    binary: TEMPORAL,
    ip: '127.0.0.1',
    port: await freePort(),
    uiPort: await freePort(),
    dbFile: join(dir, 'temporal.db'),
    logFile: join(dir, 'temporal.log'),
    namespace: 'default',
    startTimeoutMs: 60_000,
    logger: pino({ level: 'silent' }),
  });
  return { name: 'sqlite-file', address: server.address, stop: () => server.stop() };
}

async function main() {
  Runtime.install({ logger: new DefaultLogger('ERROR') });
  const started = Date.now();
  log(`bundling workflows (temp dir ${dir})`);
  const bundle = await bundleWorkflowCode({
    workflowsPath: join(ROOT, 'bench', 'workflows.ts'),
    webpackConfigHook: (cfg) => ({ ...cfg, resolve: { ...cfg.resolve, extensionAlias: { '.js': ['.ts', '.js'] } } }),
    logger: new DefaultLogger('WARN'),
  });
  const bundlePath = join(dir, 'bundle.js');
  writeFileSync(bundlePath, bundle.code);
  const configWide = writeBenchConfig('wide', 16);
  const configDefault = writeBenchConfig('default', 4);

  const results: Record<string, unknown> = {
    machine: {
      cores: availableParallelism(),
      cpu: cpus()[0]?.model,
      memoryGb: round(totalmem() / 2 ** 30, 1),
      node: process.version,
      temporal: execFileSync(TEMPORAL, ['--version'], { encoding: 'utf8' }).trim(),
    },
    settings: { workflowsPerRun: { noop: N_NOOP, jobs: N_JOBS }, clientConcurrency: CONCURRENCY, workerMaxConcurrentActivities: 16 },
  };

  for (const makeServer of [inMemoryServer, sqliteServer]) {
    const server = await makeServer();
    log(`server ${server.name} at ${server.address}`);
    const connection = await Connection.connect({ address: server.address });
    const client = new Client({ connection });
    const taskQueue = `bench-${server.name}`;
    const worker = await startWorker(server.address, taskQueue, configWide, bundlePath);
    try {
      await sleep(2_000);
      const idleRssMb = round(worker.rssMb() ?? NaN);
      log(`${server.name}: throughput, in-process activity (${N_NOOP} workflows)`);
      const noop = await sampled(worker, () => throughput(client, taskQueue, 'benchNoop', (i) => [i], N_NOOP, CONCURRENCY, 'noop'));
      log(`${server.name}: throughput, /bin/true through the job runner (${N_JOBS} workflows)`);
      const jobs = await sampled(worker, () => throughput(client, taskQueue, 'runSingleJob', () => [{ job: 'trivial_true' }], N_JOBS, CONCURRENCY, 'job'));
      const entry: Record<string, unknown> = {
        throughputInProcessActivity: noop.value,
        throughputTrivialJob: jobs.value,
        workerRssMb: { idle: idleRssMb, peakInProcessLoad: round(noop.peakRssMb), peakJobLoad: round(jobs.peakRssMb) },
      };
      if (server.name === 'in-memory') {
        log('in-memory: runner overhead');
        entry.runnerOverhead = await runnerOverhead(client, taskQueue, QUICK ? 8 : 20);
        log('in-memory: daily pipeline (16 activity slots)');
        entry.dailyPipelineWide = await dailyPipeline(client, taskQueue);
      } else {
        log('sqlite-file: schedule delay');
        entry.scheduleDelay = await scheduleDelay(client, taskQueue, QUICK ? 3 : 5);
        log('sqlite-file: daily pipeline (16 activity slots)');
        entry.dailyPipelineWide = await dailyPipeline(client, taskQueue);
      }
      results[server.name] = entry;
    } finally {
      await worker.stop();
    }
    if (server.name === 'sqlite-file') {
      // The project's default of 4 activity slots: 6 data jobs cannot all run at once.
      const worker4 = await startWorker(server.address, `${taskQueue}-4`, configDefault, bundlePath);
      try {
        log('sqlite-file: daily pipeline (4 activity slots, the config default)');
        (results[server.name] as Record<string, unknown>).dailyPipelineDefaultSlots = await dailyPipeline(client, `${taskQueue}-4`);
      } finally {
        await worker4.stop();
      }
    }
    await connection.close();
    await server.stop();
  }
  // The cluster section: process roles, one and two meter workers (bench/cluster.ts).
  results.cluster = await benchCluster({ quick: QUICK, log });
  // Issue 12: the job host, trainings, sleep jobs, idle memory (bench/host.ts).
  results.host = await benchHost({ root: ROOT, dir, bundlePath, quick: QUICK, log });
  // The peer (FastAPI + Dramatiq + Redis, bench/peers/) and the meter API (bench/api.ts).
  const peer = await section('peer', () => measurePeer({ meters: QUICK ? 8 : 24, concurrency: 4, sleepJobs: QUICK ? 200 : 1000, sleepConcurrency: 10, log }));
  results.peer = peer;
  results.api = await section('api', () => benchApi({ log }));
  const peerWarm = peer && 'trainingsWallSeconds' in peer ? peer.trainingsWallSeconds.warm : undefined;
  const ours = (results.host as { meterTrainingsBulk?: { wallSeconds: number } }).meterTrainingsBulk?.wallSeconds;
  if (peerWarm?.length && ours) (results.host as Record<string, unknown>).peerRatio = round(ours / median(peerWarm), 2);
  const cp = criticalPath(SLEEPS);
  results.dailyPipelineCriticalPath = { sleepSeconds: cp.seconds, path: cp.path, sleeps: SLEEPS };
  results.totalSeconds = round((Date.now() - started) / 1000);
  writeFileSync(values.out!, `${JSON.stringify(results, null, 2)}\n`);
  printTable(results);
  process.stdout.write(`\nwritten: ${values.out}\n`);
}

/** One section of the bench: a failure (no redis-server, say) is reported in its place, not fatal to the run. */
async function section<T>(name: string, run: () => Promise<T>): Promise<T | { error: string }> {
  try {
    return await run();
  } catch (err) {
    log(`${name}: ${(err as Error).message}`);
    return { error: (err as Error).message };
  }
}

function printTable(r: Record<string, any>) {
  const rows: [string, string, string][] = [];
  for (const name of ['in-memory', 'sqlite-file']) {
    const e = r[name];
    if (!e) continue;
    const t = (x: Throughput) => `${x.tasksPerSecond} /s (p50 ${x.latencyMsP50} ms, p95 ${x.latencyMsP95} ms${x.failed ? `, ${x.failed} failed` : ''})`;
    rows.push([`throughput, 1 in-process activity`, name, t(e.throughputInProcessActivity)]);
    rows.push([`throughput, /bin/true via job runner`, name, t(e.throughputTrivialJob)]);
    rows.push(['worker RSS idle / peak (activity / jobs)', name, `${e.workerRssMb.idle} / ${e.workerRssMb.peakInProcessLoad} / ${e.workerRssMb.peakJobLoad} MB`]);
    if (e.runnerOverhead) {
      const o = e.runnerOverhead;
      rows.push([
        'trivial Python job: bare vs through system',
        name,
        `${o.bareMsP50} ms vs ${o.throughSystemMsP50} ms (+${o.overheadMsP50} ms: runner ${o.runnerMsP50}, Temporal ${o.temporalMsP50})`,
      ]);
    }
    if (e.scheduleDelay) {
      const s = e.scheduleDelay;
      rows.push([
        'schedule due -> first activity started',
        name,
        `p50 ${s.dueToFirstActivityMsP50} ms, max ${s.dueToFirstActivityMsMax} ms (workflow start p50 ${s.dueToWorkflowStartMsP50} ms; ${s.actions} runs)`,
      ]);
    }
    const cp = r.dailyPipelineCriticalPath.sleepSeconds;
    if (e.dailyPipelineWide) {
      const d = e.dailyPipelineWide;
      rows.push([
        'daily pipeline wall vs critical path (16 slots)',
        name,
        `${d.wallSeconds} s vs ${cp} s of sleeps (${d.criticalPathWithStepDurations} s with step durations)`,
      ]);
    }
    if (e.dailyPipelineDefaultSlots) {
      const d = e.dailyPipelineDefaultSlots;
      rows.push(['daily pipeline wall vs critical path (4 slots)', name, `${d.wallSeconds} s vs ${cp} s of sleeps`]);
    }
  }
  const w0 = Math.max(...rows.map((x) => x[0].length));
  const w1 = Math.max(...rows.map((x) => x[1].length));
  process.stdout.write(`\n${'measure'.padEnd(w0)}  ${'server'.padEnd(w1)}  result\n${'-'.repeat(w0)}  ${'-'.repeat(w1)}  ${'-'.repeat(40)}\n`);
  for (const [a, b, c] of rows) process.stdout.write(`${a.padEnd(w0)}  ${b.padEnd(w1)}  ${c}\n`);
  if (r.cluster) process.stdout.write(`\n${formatClusterBench(r.cluster)}\n`);
  if (r.host) process.stdout.write(`\nissue 12 (sqlite-file server):\n${formatHostBench(r.host)}\n`);
  if (r.peer) process.stdout.write(r.peer.error ? `\npeer: ${r.peer.error}\n` : `\n${formatPeer(r.peer)}\n`);
  if (r.api && !r.api.error) {
    process.stdout.write(
      `meter API: POST p50 ${r.api.postP50Ms} ms (goal <= 15), GET status p50 ${r.api.statusP50Ms} ms / p95 ${r.api.statusP95Ms} ms with ${r.api.pollers} back-to-back pollers (goal <= 10)\n`,
    );
    const p = r.api.peerShaped;
    const peerGet = r.peer?.api?.getP50Ms;
    if (p)
      process.stdout.write(
        `meter API, the peer's harness (${p.pollers} pollers, ${p.pollIntervalMs} ms pause): GET status p50 ${p.getP50Ms} ms = x${round(p.getP50Ms / 10, 2)} of the 10 ms goal, p95 ${p.getP95Ms} ms (${p.getsPerSecond}/s)${peerGet ? `; the peer ${peerGet} ms: x${round(p.getP50Ms / peerGet, 2)} of it` : ''}; POST p50 ${p.postP50Ms} ms\n`,
      );
  } else if (r.api) process.stdout.write(`meter API: ${r.api.error}\n`);
  process.stdout.write(`\n${r.machine.cores} cores, ${r.machine.cpu}, node ${r.machine.node}; ${r.totalSeconds} s in all\n`);
}

await main();
process.exit(0);
