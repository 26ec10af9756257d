// The Dramatiq peer bench (issue 12): the seed's FastAPI + Dramatiq + Redis meter-training service, rebuilt
// under bench/peers/dramatiq/ and measured on this machine doing the same job as ours.
//
//   node --import tsx bench/peers/index.ts [--quick] [--meters 24] [--concurrency 4] [--runs 3]
//        [--sleep-jobs 1000] [--sleep-concurrency 10] [--pollers 50] [--out bench/peers/results.json]
//
// Starts its own redis-server (free port, no persistence), the API under uvicorn and Dramatiq workers
// (--processes 1 --threads <concurrency>), and stops them all. Measured:
//   1. `meters` trainings at `concurrency`, POST to the last SUCCESS, with the job as a subprocess
//      (`.venv/bin/python -m jobs.meters.train`, as ours) and called in the worker's warm Python;
//   2. one training's in-job time (the actor's own clock around the job): fresh process vs warm;
//   3. POST /trainmodel/ and GET status latency with `pollers` concurrent pollers (no worker consuming, so
//      no training competes for the CPU: the API and Redis alone);
//   4. `sleepJobs` jobs of `sleep 0.1` (a subprocess each) at `sleepConcurrency` threads, against the ideal;
//   5. the whole system's idle resident memory: redis + API + workers, from /proc.
// measurePeer() is what `npm run bench` calls; run alone it prints a table and writes results.json.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { measureTrainingApi, type ApiLatency } from './apiLatency.js';
import { quantile } from '../stats.js';
import { backfillMeters, bulkMeters, meterJobEnv, type Meter } from './meterFixture.js';
import { freePort, startProcess, stopProcess, treeMemoryMb, waitUntil, type Started } from './procs.js';
import { ensurePeerVenv, redisServer } from './venv.js';

const ROOT = resolve(fileURLToPath(new URL('.', import.meta.url)), '..', '..');
const PEER_DIR = join(ROOT, 'bench', 'peers', 'dramatiq');
const PROJECT_PYTHON = join(ROOT, '.venv', 'bin', 'python');
const SINGLE: Meter = { meterType: 'electricity', meterId: 'meter_bench_1' };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const round = (x: number, digits = 2) => Math.round(x * 10 ** digits) / 10 ** digits;

type Mode = 'subprocess' | 'warm';

export interface PeerMemory {
  redisMb: number;
  apiMb: number;
  workersMb: number;
  totalMb: number;
  /** The same processes' proportional set size: shared pages split, not counted in each process. */
  totalPssMb: number;
}

export interface PeerFigures {
  peer: string;
  machine: { cores: number; cpu: string; loadAvgStart: number[]; loadAvgEnd: number[] };
  meters: number;
  concurrency: number;
  /** Wall seconds of `meters` trainings at `concurrency`, first POST to last SUCCESS, one per run. */
  trainingsWallSeconds: Record<Mode, number[]>;
  /** One training alone, the actor's time around the job: a fresh process each vs the warm worker. */
  singleTrainingSeconds: { fresh: number[]; warmFirstCall: number; warm: number[] };
  api: ApiLatency;
  sleep: {
    jobs: number;
    concurrency: number;
    jobSeconds: number;
    wallSeconds: number;
    enqueueSeconds: number;
    perSecond: number;
    idealPerSecond: number;
    ratioToIdeal: number;
  };
  idleMemory: Record<Mode, PeerMemory>;
}

export interface PeerOptions {
  meters?: number;
  concurrency?: number;
  sleepJobs?: number;
  sleepConcurrency?: number;
  pollers?: number;
  /** Repeats of the bulk trainings per mode (default 1). */
  runs?: number;
  /** Single trainings per mode (default 3). */
  singles?: number;
  /** Timed POSTs (default 100) and each poller's pause between GETs (default 200 ms). */
  posts?: number;
  pollIntervalMs?: number;
  days?: number;
  log?: (msg: string) => void;
}

function redisPing(port: number): Promise<boolean> {
  return new Promise((answer) => {
    const socket = connect(port, '127.0.0.1');
    const done = (ok: boolean) => {
      socket.destroy();
      answer(ok);
    };
    socket.setTimeout(1000, () => done(false));
    socket.once('error', () => done(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.once('data', (d) => done(d.toString().startsWith('+PONG')));
  });
}

async function httpOk(url: string): Promise<boolean> {
  const res = await fetch(url);
  await res.arrayBuffer();
  return res.ok;
}

/** Dramatiq brokers with a fresh heartbeat, as /health/worker lists them (none: 503). */
async function workerIds(api: string): Promise<string[]> {
  const res = await fetch(`${api}/health/worker`);
  const body = (await res.json()) as { worker_ids?: string[] };
  return res.ok ? (body.worker_ids ?? []) : [];
}

interface TaskStatus {
  status: string;
  message?: string;
  updated_at: string;
  job_seconds?: number;
}

async function getStatus(api: string, taskId: string): Promise<TaskStatus> {
  const res = await fetch(`${api}/trainmodel/status/${taskId}`);
  if (!res.ok) throw new Error(`GET status of ${taskId}: ${res.status} ${await res.text()}`);
  return (await res.json()) as TaskStatus;
}

async function postTraining(api: string, m: Meter): Promise<string> {
  const res = await fetch(`${api}/trainmodel/`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ meter_id: m.meterId, meter_type: m.meterType }),
  });
  if (!res.ok) throw new Error(`POST /trainmodel/ for ${m.meterType}/${m.meterId}: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { task_id: string }).task_id;
}

/** POST every meter, then poll until all succeeded; the last SUCCESS's timestamp ends the wall time. */
async function trainAll(api: string, meters: Meter[], worker: Started, pollMs: number): Promise<{ wallSeconds: number; statuses: TaskStatus[] }> {
  const t0 = Date.now();
  const ids: string[] = [];
  for (const m of meters) ids.push(await postTraining(api, m));
  const done = new Map<string, TaskStatus>();
  let failed: string | undefined;
  await waitUntil(
    `${meters.length} trainings`,
    async () => {
      for (const id of ids.filter((i) => !done.has(i))) {
        const s = await getStatus(api, id);
        if (s.status === 'FAILED') failed ??= `training ${id} failed: ${s.message}`;
        if (s.status === 'SUCCESS') done.set(id, s);
      }
      if (done.size < ids.length && !failed) await sleep(pollMs);
      return done.size === ids.length || failed !== undefined;
    },
    30 * 60_000,
    worker,
  );
  if (failed) throw new Error(`${failed}\n${worker.logTail()}`);
  const statuses = ids.map((id) => done.get(id)!);
  const last = Math.max(...statuses.map((s) => Date.parse(s.updated_at)));
  return { wallSeconds: (last - t0) / 1000, statuses };
}

export async function measurePeer(opts: PeerOptions = {}): Promise<PeerFigures> {
  const meters = opts.meters ?? 24;
  const concurrency = opts.concurrency ?? 4;
  const sleepJobs = opts.sleepJobs ?? 1000;
  const sleepConcurrency = opts.sleepConcurrency ?? 10;
  const pollers = opts.pollers ?? 50;
  const runs = opts.runs ?? 1;
  const singles = opts.singles ?? 3;
  const posts = opts.posts ?? 100;
  const pollIntervalMs = opts.pollIntervalMs ?? 200;
  const log = opts.log ?? ((msg: string) => process.stderr.write(`[peer] ${msg}\n`));
  const loadAvgStart = loadavg().map((x) => round(x));

  const python = ensurePeerVenv(ROOT, log);
  const redisBin = redisServer();
  const dir = mkdtempSync(join(tmpdir(), 'hea-bench-peer-'));
  const jobEnv = meterJobEnv(dir, opts.days ?? 365);
  const bulk = bulkMeters(meters);
  const started: Started[] = [];
  const stop = async (p: Started) => {
    await stopProcess(p);
    started.splice(started.indexOf(p), 1);
  };
  const onSignal = () => void Promise.allSettled(started.map((p) => stopProcess(p, 2000))).then(() => process.exit(130));
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    log(`fixture: backfilling ${bulk.length + 1} simulated meters into ${dir}`);
    backfillMeters(ROOT, PROJECT_PYTHON, jobEnv, [...bulk, SINGLE]);

    const redisPort = await freePort();
    const redisUrl = `redis://127.0.0.1:${redisPort}/0`;
    const redis = startProcess('redis-server', redisBin, ['--port', String(redisPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--daemonize', 'no'], {
      cwd: dir,
      env: process.env,
      logFile: join(dir, 'redis.log'),
    });
    started.push(redis);
    await waitUntil('redis to answer PING', () => redisPing(redisPort), 30_000, redis);

    const pyEnv = {
      ...process.env,
      ...jobEnv,
      REDIS_URL: redisUrl,
      HEA_REPO_ROOT: ROOT,
      HEA_JOB_PYTHON: PROJECT_PYTHON,
      PYTHONPATH: `${PEER_DIR}:${ROOT}`,
      PYTHONUNBUFFERED: '1',
    };
    const apiPort = await freePort();
    const api = `http://127.0.0.1:${apiPort}`;
    const apiProc = startProcess(
      'peer API (uvicorn)',
      python,
      ['-m', 'uvicorn', 'peer.api:app', '--host', '127.0.0.1', '--port', String(apiPort), '--app-dir', PEER_DIR],
      {
        cwd: dir,
        env: pyEnv,
        logFile: join(dir, 'api.log'),
      },
    );
    started.push(apiProc);
    await waitUntil('the peer API /health/', () => httpOk(`${api}/health/`), 120_000, apiProc);

    const seenWorkers = new Set<string>();
    // Each phase's worker listens to its own queue only: the trainings the API-latency phase queued stay
    // queued, never run.
    const startWorker = async (mode: Mode, threads: number, queue: 'training' | 'sleep'): Promise<Started> => {
      const args = ['-m', 'dramatiq', 'peer.broker', 'peer.tasks', '--processes', '1', '--threads', String(threads), '--queues', queue, '--path', PEER_DIR];
      const w = startProcess(`Dramatiq worker (${mode}, ${queue})`, python, args, {
        cwd: dir,
        env: { ...pyEnv, PEER_TRAIN_MODE: mode },
        logFile: join(dir, `worker-${mode}-${queue}.log`),
      });
      started.push(w);
      // A stopped worker's heartbeat stays fresh for a while: wait for one from a broker not seen before.
      await waitUntil(`the ${mode} worker's heartbeat (/health/worker)`, async () => (await workerIds(api)).some((id) => !seenWorkers.has(id)), 180_000, w);
      for (const id of await workerIds(api)) seenWorkers.add(id);
      return w;
    };
    const memory = async (worker: Started): Promise<PeerMemory> => {
      await sleep(2000); // settled: no start-up work left
      const [r, a, w] = [treeMemoryMb(redis.pid), treeMemoryMb(apiProc.pid), treeMemoryMb(worker.pid)];
      return {
        redisMb: round(r.rss, 1),
        apiMb: round(a.rss, 1),
        workersMb: round(w.rss, 1),
        totalMb: round(r.rss + a.rss + w.rss, 1),
        totalPssMb: round(r.pss + a.pss + w.pss, 1),
      };
    };
    const single = async (worker: Started): Promise<number> => {
      const { statuses } = await trainAll(api, [SINGLE], worker, 100);
      return statuses[0]!.job_seconds!;
    };

    const trainingsWallSeconds: Record<Mode, number[]> = { subprocess: [], warm: [] };
    const idleMemory = {} as Record<Mode, PeerMemory>;
    const singleTrainingSeconds = { fresh: [] as number[], warmFirstCall: NaN, warm: [] as number[] };
    for (const mode of ['subprocess', 'warm'] as const) {
      const worker = await startWorker(mode, concurrency, 'training');
      idleMemory[mode] = await memory(worker);
      log(`${mode}: idle memory ${idleMemory[mode].totalMb} MB`);
      if (mode === 'warm') singleTrainingSeconds.warmFirstCall = await single(worker);
      for (let i = 0; i < singles; i++) singleTrainingSeconds[mode === 'warm' ? 'warm' : 'fresh'].push(await single(worker));
      log(`${mode}: one training ${singleTrainingSeconds[mode === 'warm' ? 'warm' : 'fresh'].join(', ')} s`);
      for (let run = 0; run < runs; run++) {
        const { wallSeconds } = await trainAll(api, bulk, worker, 500);
        trainingsWallSeconds[mode].push(round(wallSeconds));
        log(`${mode}: ${meters} trainings at concurrency ${concurrency} in ${wallSeconds.toFixed(1)} s`);
      }
      await stop(worker);
    }

    log(`API latency: ${posts} POSTs with ${pollers} pollers (no worker consuming)`);
    const apiLatency = await measureTrainingApi({ baseUrl: api, meters: bulkMeters(posts + 5, 'meter_api_'), posts, pollers, pollIntervalMs });

    const sleepWorker = await startWorker('subprocess', sleepConcurrency, 'sleep');
    const drive = async (jobs: number) => {
      const { stdout } = await promisify(execFile)(python, ['-m', 'peer.drive_sleep', '--jobs', String(jobs), '--seconds', '0.1'], { cwd: dir, env: pyEnv });
      return JSON.parse(stdout.trim().split('\n').at(-1)!) as { wall_seconds: number; per_second: number; enqueue_seconds: number };
    };
    await drive(2 * sleepConcurrency); // unmeasured: the worker's threads busy once
    const sleepRun = await drive(sleepJobs);
    const ideal = sleepConcurrency / 0.1;
    log(
      `sleep: ${sleepJobs} jobs at ${sleepConcurrency} in ${sleepRun.wall_seconds} s = ${sleepRun.per_second}/s (ideal ${ideal}/s); all enqueued after ${sleepRun.enqueue_seconds} s`,
    );
    await stop(sleepWorker);
    await stop(apiProc);
    await stop(redis);

    return {
      peer: 'FastAPI + Dramatiq + Redis (bench/peers/dramatiq)',
      machine: { cores: availableParallelism(), cpu: cpus()[0]?.model ?? '?', loadAvgStart, loadAvgEnd: loadavg().map((x) => round(x)) },
      meters,
      concurrency,
      trainingsWallSeconds,
      singleTrainingSeconds,
      api: apiLatency,
      sleep: {
        jobs: sleepJobs,
        concurrency: sleepConcurrency,
        jobSeconds: 0.1,
        wallSeconds: sleepRun.wall_seconds,
        enqueueSeconds: sleepRun.enqueue_seconds,
        perSecond: sleepRun.per_second,
        idealPerSecond: ideal,
        ratioToIdeal: round(sleepRun.per_second / ideal, 3),
      },
      idleMemory,
    };
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    const left = await Promise.allSettled([...started].reverse().map((p) => stopProcess(p)));
    rmSync(dir, { recursive: true, force: true });
    const failed = left.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
  }
}

const range = (xs: number[]) => (xs.length === 0 ? '-' : xs.length === 1 ? `${xs[0]}` : `${Math.min(...xs)}-${Math.max(...xs)} (median ${round(quantile(xs, 0.5))})`);

export function formatPeer(f: PeerFigures): string {
  const rows: Array<[string, string]> = [
    [`${f.meters} trainings at concurrency ${f.concurrency}, job as subprocess (s)`, range(f.trainingsWallSeconds.subprocess)],
    [`${f.meters} trainings at concurrency ${f.concurrency}, warm worker (s)`, range(f.trainingsWallSeconds.warm)],
    ['one training in-job, fresh process (s)', range(f.singleTrainingSeconds.fresh)],
    ['one training in-job, warm worker (s)', `${range(f.singleTrainingSeconds.warm)}; first call ${f.singleTrainingSeconds.warmFirstCall}`],
    [`POST /trainmodel/ p50 / p95 (ms), ${f.api.pollers} pollers`, `${f.api.postP50Ms} / ${f.api.postP95Ms} (${f.api.posts} POSTs)`],
    [`GET status p50 / p95 (ms), poll pause ${f.api.pollIntervalMs} ms`, `${f.api.getP50Ms} / ${f.api.getP95Ms} (${f.api.gets} GETs, ${f.api.getsPerSecond}/s)`],
    [
      `${f.sleep.jobs} jobs of sleep 0.1 at concurrency ${f.sleep.concurrency} (/s)`,
      `${f.sleep.perSecond} = ${Math.round(f.sleep.ratioToIdeal * 100)}% of the ideal ${f.sleep.idealPerSecond}`,
    ],
    [
      'idle memory, warm worker: RSS sum (PSS) MB',
      `${f.idleMemory.warm.totalMb} (${f.idleMemory.warm.totalPssMb}): redis ${f.idleMemory.warm.redisMb}, API ${f.idleMemory.warm.apiMb}, workers ${f.idleMemory.warm.workersMb}`,
    ],
    [
      'idle memory, subprocess worker: RSS sum (PSS) MB',
      `${f.idleMemory.subprocess.totalMb} (${f.idleMemory.subprocess.totalPssMb}): redis ${f.idleMemory.subprocess.redisMb}, API ${f.idleMemory.subprocess.apiMb}, workers ${f.idleMemory.subprocess.workersMb}`,
    ],
  ];
  const w = Math.max(...rows.map(([k]) => k.length));
  return [
    `${f.peer} on ${f.machine.cores} cores (${f.machine.cpu}); load average ${f.machine.loadAvgStart.join(' ')} at start, ${f.machine.loadAvgEnd.join(' ')} at end`,
    ...rows.map(([k, v]) => `  ${k.padEnd(w)}  ${v}`),
  ].join('\n');
}

async function main() {
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      meters: { type: 'string' },
      concurrency: { type: 'string' },
      runs: { type: 'string' },
      'sleep-jobs': { type: 'string' },
      'sleep-concurrency': { type: 'string' },
      pollers: { type: 'string' },
      out: { type: 'string', default: join(ROOT, 'bench', 'peers', 'results.json') },
    },
  });
  const num = (name: string, raw: string | undefined, fallback: number) => {
    if (raw === undefined) return fallback;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < 1) {
      console.error(`--${name} must be a positive integer, got ${JSON.stringify(raw)}`);
      process.exit(2);
    }
    return n;
  };
  const quick = values.quick;
  const figures = await measurePeer({
    meters: num('meters', values.meters, quick ? 8 : 24),
    concurrency: num('concurrency', values.concurrency, 4),
    runs: num('runs', values.runs, quick ? 1 : 3),
    singles: quick ? 1 : 3,
    posts: quick ? 30 : 100,
    sleepJobs: num('sleep-jobs', values['sleep-jobs'], quick ? 200 : 1000),
    sleepConcurrency: num('sleep-concurrency', values['sleep-concurrency'], 10),
    pollers: num('pollers', values.pollers, 50),
  });
  console.log(formatPeer(figures));
  writeFileSync(values.out!, `${JSON.stringify(figures, null, 2)}\n`);
  console.error(`[peer] wrote ${values.out}`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  main().catch((err) => {
    console.error(err instanceof Error ? err.message : err);
    process.exitCode = 1;
  });
}
