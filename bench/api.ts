// The meter training API's latency on this machine (issue 12 item 3): POST /trainmodel/ and
// GET /trainmodel/status/<id> with 50 concurrent pollers, against a real Temporal dev server on a SQLite
// file (the embedded server of `npm start`), real worker processes running the meter trainings and a
// pipeline schedule, and the API as `hea api` in its own process.
//
//   node --import tsx bench/api.ts [--posts 200] [--pollers 50] [--seconds 10] [--no-pragmas]
//                                  [--status-cache-ms 0] [--burst 300] [--peer-posts 100] [--no-workers]
//                                  [--in-process] [--out FILE]
//
// Two shapes of status load: back to back (each poller GETs again as soon as it has its answer: a stress
// test) and peer-shaped: the peer's own harness (bench/peers/apiLatency.ts: 50 pollers over 5 tasks, each
// pausing 200 ms between GETs, while 100 POSTs go one at a time), run first, with no worker consuming the
// trainings, as the peer's API phase runs, so the two figures compare like for like.
//
// The trainings are a fixture job that reports every stage and sleeps (a real training would only load the
// machine: the figures are the API's). `benchApi()` is exported for `npm run bench`.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { execa, type ResultPromise } from 'execa';
import { startBenchWorker } from './benchWorker.js';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { pino } from 'pino';
import { stringify } from 'yaml';
import { loadConfig } from '../src/config/load.js';
import { bundleWorkflows } from '../src/worker.js';
import { startApi } from '../src/api/server.js';
import { bulkTrainingStateQueryName, bulkWorkflowId, meterWorkflowId, type BulkTrainingState } from '../src/contracts/trainings.js';
import { measureTrainingApi, type ApiLatency } from './peers/apiLatency.js';
import { bulkMeters } from './peers/meterFixture.js';
import { quantile, round } from './stats.js';

const ROOT = resolve(fileURLToPath(new URL('.', import.meta.url)), '..');
const PYTHON = join(ROOT, '.venv', 'bin', 'python');
const TEMPORAL = join(ROOT, '.venv', 'bin', 'temporal');

export interface BenchApiOptions {
  /** POSTs, one at a time (each a new meter). */
  posts?: number;
  /** Concurrent status pollers. */
  pollers?: number;
  /** How long the pollers poll. */
  seconds?: number;
  /** The embedded server's SQLite pragmas (journal_mode=wal, synchronous=normal). */
  pragmas?: boolean;
  /** Worker job slots for the trainings. */
  slots?: number;
  /** Trainings queued (one bulk request) while a schedule's runs are timed; 0 skips that part. */
  burst?: number;
  /** Scheduled runs timed during the burst. */
  scheduledRuns?: number;
  /** Without worker processes: tasks stay PENDING and the server does nothing else (isolates the API's own cost). */
  noWorkers?: boolean;
  /** The API inside the bench process (its clients then share its CPU time) instead of `hea api`. */
  inProcess?: boolean;
  /** api.statusCacheMs: how long a running training's status is reused for other pollers. */
  statusCacheMs?: number;
  /** POSTs of the peer-shaped phase (the peer's harness against this API); 0 skips it. */
  peerPosts?: number;
  log?: (msg: string) => void;
}

export interface BenchApiResult {
  postP50Ms: number;
  postP95Ms: number;
  posts: number;
  statusP50Ms: number;
  statusP95Ms: number;
  statusRequests: number;
  /** Status latency with one client polling (no queueing behind other pollers). */
  statusOneClientP50Ms: number;
  pollers: number;
  /** Status answers that were not 200. */
  statusErrors: number;
  /** A task's status read again by a freshly started API (same answer class: 200 and a known status). */
  statusSurvivesRestart: boolean;
  pragmas: boolean;
  statusCacheMs: number;
  /** Due time to the first job of a scheduled pipeline run while `burst` trainings wait on their own queue. */
  /** The peer's own harness against this API (50 pollers, 200 ms pause, no worker consuming). */
  peerShaped?: ApiLatency;
  schedule?: { burst: number; runs: number; dueToFirstJobP50Ms: number; dueToFirstJobP95Ms: number; dueToFirstJobMaxMs: number; trainingsStillQueued: number };
  loadAverage1m: { before: number; after: number };
}

function freePort(): Promise<number> {
  return new Promise((ok) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => ok(p));
    });
  });
}

/** The dev server on a SQLite file, as `npm start` runs it (with or without the pragmas). */
async function startServer(dir: string, pragmas: boolean): Promise<{ address: string; stop(): Promise<void> }> {
  const port = await freePort();
  const args = ['server', 'start-dev', '--ip', '127.0.0.1', '--port', String(port), '--headless', '--db-filename', join(dir, 'temporal.db'), '--log-level', 'error'];
  if (pragmas) args.push('--sqlite-pragma', 'journal_mode=wal', '--sqlite-pragma', 'synchronous=normal');
  const proc = execa(TEMPORAL, args, { reject: false, stdin: 'ignore', stdout: 'ignore', stderr: 'ignore' });
  const address = `127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      const c = await Connection.connect({ address, connectTimeout: 1_000 });
      await c.workflowService.describeNamespace({ namespace: 'default' });
      await c.close();
      break;
    } catch (err) {
      if (Date.now() > deadline) throw new Error(`the dev server did not answer: ${String(err)}`);
      await new Promise((r) => setTimeout(r, 250));
    }
  }
  return {
    address,
    stop: async () => {
      proc.kill('SIGTERM');
      await proc;
    },
  };
}

/** `hea api` as its own process (as in a container next to the workers): the pollers do not share its CPU time. */
async function startApiProcess(address: string, configFile: string, url: string): Promise<{ stop(): Promise<void> }> {
  const proc: ResultPromise = execa(join(ROOT, 'bin', 'hea.js'), ['api'], {
    cwd: ROOT,
    reject: false,
    stdin: 'ignore',
    stdout: 'ignore',
    stderr: 'inherit',
    env: { HEA_CONFIG: configFile, TEMPORAL_ADDRESS: address, LOG_LEVEL: 'warn' },
  });
  const deadline = Date.now() + 60_000;
  for (;;) {
    const ok = await fetch(`${url}/health/`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) break;
    if (Date.now() > deadline || proc.exitCode !== null) throw new Error('hea api did not start');
    await new Promise((r) => setTimeout(r, 250));
  }
  return {
    stop: async () => {
      proc.kill('SIGTERM');
      await proc;
    },
  };
}

/** A training that reports each stage and sleeps, so statuses move through every stage cheaply. */
const TRAIN_JOB = `import json, sys, time
for i, stage in enumerate(["connecting", "fetching_data", "validating_data", "training_model", "saving_model"]):
    print(json.dumps({"progress": i * 20, "stage": stage, "message": stage}), flush=True)
    time.sleep(0.4)
print(json.dumps({"result": {"status": "success", "message": "trained", "details": {}}}), flush=True)
`;

const msOf = (t: { seconds?: unknown; nanos?: number | null } | null | undefined) => (t ? Number(t.seconds) * 1000 + Math.floor((t.nanos ?? 0) / 1e6) : NaN);

/**
 * A schedule on the pipelines' queue fires every 2 s while `burst` trainings wait on theirs: how long from
 * each run's due time to its first job starting (the issue's goal: within 1 s at p95).
 */
async function scheduleUnderBurst(
  client: Client,
  url: string,
  headers: Record<string, string>,
  taskQueue: string,
  burst: number,
  runs: number,
  log: (msg: string) => void,
) {
  log(`a burst of ${burst} trainings, then ${runs} scheduled runs`);
  const meters = Array.from({ length: burst }, (_, i) => ({ meter_id: `burst_${i}`, meter_type: 'gas' }));
  const res = await fetch(`${url}/trainmodel/bulk`, { method: 'POST', headers, body: JSON.stringify({ meters: meters.slice(0, 1000), concurrency: 64 }) });
  const bulk = (await res.json()) as { bulk_id: string };
  const handle = await client.schedule.create({
    scheduleId: `bench-api-schedule-${Date.now()}`,
    spec: { intervals: [{ every: '2s' }] },
    action: { type: 'startWorkflow', workflowType: 'runSingleJob', taskQueue, args: [{ job: 'trivial' }] },
    policies: { overlap: 'ALLOW_ALL' },
  });
  const deadline = Date.now() + (runs + 3) * 2_000 + 30_000;
  let desc = await handle.describe();
  while (desc.info.recentActions.length < runs + 1 && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 500));
    desc = await handle.describe();
  }
  await handle.delete();
  const delays: number[] = [];
  // The first run may come before the workers are warm: skipped.
  for (const action of desc.info.recentActions.slice(1, runs + 1)) {
    const wf = client.workflow.getHandle(action.action.workflow.workflowId, action.action.workflow.firstExecutionRunId);
    await wf.result();
    const started = (await wf.fetchHistory()).events?.find((e) => e.activityTaskStartedEventAttributes);
    delays.push(msOf(started?.eventTime) - action.scheduledAt.getTime());
  }
  const bulkHandle = client.workflow.getHandle(bulkWorkflowId(bulk.bulk_id));
  const state = await bulkHandle.query<BulkTrainingState>(bulkTrainingStateQueryName);
  await bulkHandle.terminate('bench over');
  return {
    burst,
    runs: delays.length,
    dueToFirstJobP50Ms: round(quantile(delays, 0.5)),
    dueToFirstJobP95Ms: round(quantile(delays, 0.95)),
    dueToFirstJobMaxMs: round(Math.max(...delays)),
    trainingsStillQueued: state.counts.QUEUED,
  };
}

export async function benchApi(opts: BenchApiOptions = {}): Promise<BenchApiResult> {
  const posts = opts.posts ?? 200;
  const pollers = opts.pollers ?? 50;
  const seconds = opts.seconds ?? 10;
  const pragmas = opts.pragmas ?? true;
  const log = opts.log ?? ((msg: string) => process.stderr.write(`[bench:api] ${msg}\n`));
  const dir = mkdtempSync(join(tmpdir(), 'hea-bench-api-'));
  const jobFile = join(dir, 'train.py');
  writeFileSync(jobFile, TRAIN_JOB);
  const configFile = join(dir, 'hea.yaml');
  const apiPort = await freePort();
  writeFileSync(
    configFile,
    stringify({
      paths: { dataDir: join(dir, 'data'), modelsDir: join(dir, 'models'), reportsDir: join(dir, 'reports') },
      worker: { maxConcurrentActivities: opts.slots ?? 4, maxConcurrentMeterActivities: opts.slots ?? 4 },
      jobDefaults: { command: PYTHON, timeout: '5m', heartbeatTimeout: '30s', killGrace: '2s', retry: { initialInterval: '1s', maximumAttempts: 2 } },
      jobs: { meter_train: { args: [jobFile] }, trivial: { args: ['-c', 'print(\'{"result": {}}\')'] } },
      api: { host: '127.0.0.1', port: apiPort, token: 'bench-token-of-some-length', rateLimit: { max: 0 }, statusCacheMs: opts.statusCacheMs ?? 0 },
    }),
  );
  const config = loadConfig(configFile, { env: {} });
  const loadBefore = loadavg()[0]!;
  log(`dev server on SQLite (${pragmas ? 'with' : 'without'} pragmas), temp dir ${dir}`);
  const server = await startServer(dir, pragmas);
  const stops: Array<() => Promise<void>> = [server.stop];
  let api: { url: string; close(): Promise<void> } | undefined;
  try {
    const bundle = await bundleWorkflows();
    const bundlePath = join(dir, 'bundle.js');
    writeFileSync(bundlePath, bundle.code);
    const connection = await Connection.connect({ address: server.address });
    stops.push(() => connection.close());
    const client = new Client({ connection, namespace: 'default' });
    const logger = pino({ level: 'silent' });
    const deps = { config, client, target: { taskQueue: config.temporal.meterTaskQueue, namespace: 'default' }, logger };
    const url = `http://127.0.0.1:${apiPort}`;
    const startTheApi = async () => {
      if (opts.inProcess) return startApi(deps, { host: '127.0.0.1', port: apiPort });
      const proc = await startApiProcess(server.address, configFile, url);
      return { url, close: proc.stop };
    };
    api = await startTheApi();
    const headers = { 'content-type': 'application/json', authorization: `Bearer ${config.api.token}` };

    let peerShaped: ApiLatency | undefined;
    const peerPosts = opts.peerPosts ?? 100;
    if (peerPosts > 0) {
      // Before any worker runs, as the peer's phase: the tasks stay queued (PENDING), none closes.
      log(`peer-shaped: the peer's harness, ${peerPosts} POSTs with 50 pollers pausing 200 ms (no worker consuming)`);
      const meters = bulkMeters(peerPosts + 5, 'meter_api_');
      peerShaped = await measureTrainingApi({
        baseUrl: api.url,
        meters,
        posts: peerPosts,
        pollers: 50,
        pollIntervalMs: 200,
        headers: { authorization: headers.authorization },
      });
      // Out of the way of what follows: the workers would run them all.
      await Promise.all(meters.map((m) => client.workflow.getHandle(meterWorkflowId(m.meterType, m.meterId)).terminate('bench phase over')));
    }

    // Two worker processes, as `hea worker --role meters` and `--role pipelines` would run.
    for (const queue of opts.noWorkers ? [] : [config.temporal.meterTaskQueue, config.temporal.taskQueue]) {
      const worker = await startBenchWorker(ROOT, { address: server.address, taskQueue: queue, configFile, bundlePath });
      stops.unshift(worker.stop);
    }

    // Warm-up: connections, JIT, the server's caches.
    for (let i = 0; i < 5; i++) {
      await fetch(`${api.url}/trainmodel/`, { method: 'POST', headers, body: JSON.stringify({ meter_id: `warm_${i}`, meter_type: 'electricity' }) }).then((r) =>
        r.text(),
      );
    }
    log(`${posts} POSTs, one at a time`);
    const postMs: number[] = [];
    const taskIds: string[] = [];
    for (let i = 0; i < posts; i++) {
      const t0 = performance.now();
      const res = await fetch(`${api.url}/trainmodel/`, { method: 'POST', headers, body: JSON.stringify({ meter_id: `bench_${i}`, meter_type: 'electricity' }) });
      const body = (await res.json()) as { task_id?: string };
      postMs.push(performance.now() - t0);
      if (res.status !== 202 || !body.task_id) throw new Error(`POST answered ${res.status}: ${JSON.stringify(body)}`);
      taskIds.push(body.task_id);
    }

    // One client at a time first: the API's own latency, before 50 pollers queue for the CPU.
    const singleMs: number[] = [];
    for (let i = 0; i < Math.min(100, taskIds.length); i++) {
      const t0 = performance.now();
      await (await fetch(`${api.url}/trainmodel/status/${taskIds[taskIds.length - 1 - i]}`)).text();
      singleMs.push(performance.now() - t0);
    }

    log(`${pollers} pollers for ${seconds} s`);
    const statusMs: number[] = [];
    let statusErrors = 0;
    const until = Date.now() + seconds * 1_000;
    await Promise.all(
      Array.from({ length: pollers }, async (_, p) => {
        // Each poller follows its own task, as each client polling its own training would, with no pause
        // between polls (a stress test: a browser polls every second or two).
        // The latest tasks: still running (a closed task's status is read once and kept).
        const id = taskIds[(taskIds.length - 1 - p + taskIds.length) % taskIds.length]!;
        while (Date.now() < until) {
          const t0 = performance.now();
          const res = await fetch(`${url}/trainmodel/status/${id}`);
          await res.text();
          statusMs.push(performance.now() - t0);
          if (res.status !== 200) statusErrors += 1;
        }
      }),
    );

    log('restarting the API');
    const probe = taskIds[0]!;
    await api.close();
    api = await startTheApi();
    const again = await fetch(`${api.url}/trainmodel/status/${probe}`);
    const againBody = (await again.json()) as { status?: string; task_id?: string };
    const statusSurvivesRestart = again.status === 200 && againBody.task_id === probe && typeof againBody.status === 'string';

    const schedule =
      (opts.burst ?? 300) > 0
        ? await scheduleUnderBurst(client, api.url, headers, config.temporal.taskQueue, opts.burst ?? 300, opts.scheduledRuns ?? 10, log)
        : undefined;

    return {
      ...(schedule ? { schedule } : {}),
      ...(peerShaped ? { peerShaped } : {}),
      postP50Ms: round(quantile(postMs, 0.5)),
      postP95Ms: round(quantile(postMs, 0.95)),
      posts,
      statusP50Ms: round(quantile(statusMs, 0.5)),
      statusP95Ms: round(quantile(statusMs, 0.95)),
      statusRequests: statusMs.length,
      statusOneClientP50Ms: round(quantile(singleMs, 0.5)),
      pollers,
      statusErrors,
      statusSurvivesRestart,
      pragmas,
      statusCacheMs: opts.statusCacheMs ?? 0,
      loadAverage1m: { before: round(loadBefore, 2), after: round(loadavg()[0]!, 2) },
    };
  } finally {
    await api?.close().catch(() => undefined);
    for (const stop of stops) await stop().catch(() => undefined);
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({
    options: {
      posts: { type: 'string', default: '200' },
      pollers: { type: 'string', default: '50' },
      seconds: { type: 'string', default: '10' },
      'no-pragmas': { type: 'boolean', default: false },
      'status-cache-ms': { type: 'string', default: '0' },
      burst: { type: 'string', default: '300' },
      'peer-posts': { type: 'string', default: '100' },
      'no-workers': { type: 'boolean', default: false },
      'in-process': { type: 'boolean', default: false },
      out: { type: 'string' },
    },
  });
  Runtime.install({ logger: new DefaultLogger('ERROR') });
  const result = await benchApi({
    posts: Number(values.posts),
    pollers: Number(values.pollers),
    seconds: Number(values.seconds),
    pragmas: !values['no-pragmas'],
    statusCacheMs: Number(values['status-cache-ms']),
    burst: values['no-workers'] ? 0 : Number(values.burst),
    peerPosts: Number(values['peer-posts']),
    noWorkers: values['no-workers'],
    inProcess: values['in-process'],
  });
  const text = JSON.stringify({ ...result, commit: execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).trim() }, null, 2);
  process.stdout.write(`${text}\n`);
  if (values.out) writeFileSync(values.out, `${text}\n`);
  process.exit(0);
}
