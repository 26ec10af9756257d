// The production topology of `npm run cluster`, started for real and hurt on purpose: PostgreSQL, the
// Temporal server built from its Go module, one pipeline worker, two meter workers and the API, each a
// separate `hea` process. The config is the project's own (schedules, task queues, retry policies) with every
// job replaced by a stand-in that sleeps instead of working (test/cluster/fixtures/standin_job.py): this
// suite is about processes, queues and failures; the real jobs have their own tests.
import { chmodSync, existsSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client, Connection, type WorkflowHandle } from '@temporalio/client';
import { parse, stringify } from 'yaml';
import { startCluster, type Cluster } from '../../scripts/cluster/index.js';
import { bulkWorkflowId, meterWorkflowId, type BulkTrainingInput, type BulkTrainingState } from '../../src/contracts/trainings.js';
import type { RunReport } from '../../src/workflows/report.js';
import { PYTHON, ROOT, pidAlive, tmpDir, waitFor } from '../helpers/env.js';

const STANDIN = join(ROOT, 'test', 'cluster', 'fixtures', 'standin_job.py');
const METERS = 200;
const dir = tmpDir('hea-cluster-');
const standinLog = join(dir, 'standin');

/** config/hea.yaml with data under `dir`, stand-in jobs, quick retries, and one schedule every 15 s. */
function writeTestConfig(): string {
  const raw = parse(readFileSync(join(ROOT, 'config', 'hea.yaml'), 'utf8')) as Record<string, any>;
  raw.paths = { dataDir: join(dir, 'data'), modelsDir: join(dir, 'models'), reportsDir: join(dir, 'reports') };
  // Four job slots per meter worker; a short grace time so stopping the cluster is quick.
  raw.worker = { ...raw.worker, maxConcurrentMeterActivities: 4, shutdownGraceTime: '5s' };
  raw.jobDefaults.env = { ...raw.jobDefaults.env, HEA_STANDIN_LOG: standinLog };
  for (const [name, job] of Object.entries(raw.jobs as Record<string, { args?: string[] }>)) {
    raw.jobs[name] = {
      ...job,
      command: PYTHON,
      args: [STANDIN, name, ...(job.args ?? [])],
      // A job on a killed worker is retried elsewhere once its heartbeats stop: after 10 s, not minutes.
      heartbeatTimeout: '10s',
      retry: { initialInterval: '1s', maximumAttempts: 5 },
    };
  }
  raw.schedules.entries['cluster-check'] = { flow: 'home-data', every: '15s', description: 'fires during the cluster test' };
  const file = join(dir, 'hea.yaml');
  writeFileSync(file, stringify(raw));
  return file;
}

interface StandinRun {
  event: 'start' | 'end' | 'overlap';
  job: string;
  pid: number;
  t: number;
  meter?: string;
}
const standinRuns = (): StandinRun[] =>
  existsSync(join(standinLog, 'runs.jsonl'))
    ? readFileSync(join(standinLog, 'runs.jsonl'), 'utf8')
        .trim()
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as StandinRun)
    : [];

/** Every process below `pid` (children, grandchildren, ...), from /proc. */
function descendants(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc').filter((e) => /^\d+$/.test(e))) {
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(entry)]);
    } catch {
      // gone meanwhile
    }
  }
  const out: number[] = [];
  const walk = (p: number) => {
    for (const c of children.get(p) ?? []) {
      out.push(c);
      walk(c);
    }
  };
  walk(pid);
  return out;
}

/** Processes running the stand-in job for this test's directory (none may outlive the cluster). */
/**
 * Stand-in jobs still alive: the pids the stand-ins recorded at their start, still running as a stand-in.
 * A cold job's command line names the stand-in; a warm one is a fork of the job host (jobs/common/jobhost.py)
 * and keeps the host's command line, so the recorded pid is what identifies it.
 */
function standinProcesses(): number[] {
  const started = new Set(standinRuns().flatMap((r) => (r.event === 'start' ? [r.pid] : [])));
  return [...started].filter((pid) => {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      if (stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z')) return false; // dead, not yet reaped
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      return cmd.includes(STANDIN) || cmd.includes('jobs.common.jobhost');
    } catch {
      return false; // gone
    }
  });
}

/** The identity of the worker that ran the last attempt of each activity in a workflow's history. */
async function activityIdentities(handle: WorkflowHandle): Promise<string[]> {
  const history = await handle.fetchHistory();
  return (history.events ?? []).flatMap((e) => (e.activityTaskStartedEventAttributes?.identity ? [e.activityTaskStartedEventAttributes.identity] : []));
}

let cluster: Cluster;
let client: Client;

beforeAll(async () => {
  chmodSync(dir, 0o755); // PostgreSQL runs as its own user and must reach its data directory
  cluster = await startCluster({ root: ROOT, dir: join(dir, 'cluster'), configFile: writeTestConfig(), log: () => undefined });
  client = new Client({ connection: await Connection.connect({ address: cluster.temporalAddress }), namespace: cluster.namespace });
}, 600_000);

afterAll(async () => {
  await client?.connection.close();
  await cluster?.stop();
  // Everything the cluster started is gone, and no job outlived its worker.
  for (const p of cluster?.processes() ?? []) expect([p.name, p.pid]).toEqual([p.name, undefined]);
  await waitFor('no stand-in job left running', () => standinProcesses().length === 0, 20_000);
  rmSync(dir, { recursive: true, force: true });
}, 180_000);

async function scheduleRun(scheduleId: string, after = 0): Promise<WorkflowHandle> {
  const action = await waitFor(
    `${scheduleId} to fire${after ? ' again' : ''}`,
    async () => (await client.schedule.getHandle(scheduleId).describe()).info.recentActions.find((a) => a.takenAt.getTime() > after),
    60_000,
  );
  return client.workflow.getHandle(action.action.workflow.workflowId, action.action.workflow.firstExecutionRunId);
}

test('the schedules are applied and fire; a daily pipeline completes on the pipeline worker', async () => {
  const ids: string[] = [];
  for await (const s of client.schedule.list()) ids.push(s.scheduleId);
  expect(ids).toEqual(expect.arrayContaining(['hea-daily-pipeline', 'hea-hourly-exogenic', 'hea-demand-training', 'hea-cluster-check']));

  const triggered = await cluster.hea(['schedules', 'trigger', 'hea-daily-pipeline']);
  expect(triggered.code).toBe(0);
  const daily = (await (await scheduleRun('hea-daily-pipeline')).result()) as RunReport;
  expect(daily.status).toBe('success');
  expect(daily.steps.length).toBeGreaterThanOrEqual(10);

  const check = await scheduleRun('hea-cluster-check');
  expect(((await check.result()) as RunReport).status).toBe('success');
  expect(new Set(await activityIdentities(check))).toEqual(new Set(['pipelines-1']));
});

test('a training requested through the API runs on a meter worker, on the meter task queue', async () => {
  const res = await fetch(`${cluster.apiUrl}/trainmodel/`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ meter_id: 'meter_api_1', meter_type: 'electricity' }),
  });
  expect(res.status).toBe(202);
  const { task_id: taskId } = (await res.json()) as { task_id: string };
  const status = await waitFor(
    'the training to succeed',
    async () => {
      const s = (await (await fetch(`${cluster.apiUrl}/trainmodel/status/${taskId}`)).json()) as { status: string };
      return s.status === 'SUCCESS' || s.status === 'FAILED' ? s : undefined;
    },
    60_000,
  );
  expect(status.status).toBe('SUCCESS');
  const handle = client.workflow.getHandle(meterWorkflowId('electricity', 'meter_api_1'));
  expect((await handle.describe()).taskQueue).toBe(cluster.config.temporal.meterTaskQueue);
  expect((await activityIdentities(handle)).every((id) => /^meters-\d$/.test(id))).toBe(true);
});

test(`${METERS} meters across both meter workers: one SIGKILLed and restarted, the server restarted; nothing lost, nothing twice`, async () => {
  const meters = Array.from({ length: METERS }, (_, i) => ({ meterType: 'electricity', meterId: `meter_cl_${String(i).padStart(3, '0')}` }));
  const bulkId = '6f1d7a52-0000-4000-8000-000000000200';
  const input: BulkTrainingInput = { bulkId, meters, concurrency: 8 };
  const bulk = await client.workflow.start('meterModelTrainingBulk', {
    taskQueue: cluster.config.temporal.meterTaskQueue,
    workflowId: bulkWorkflowId(bulkId),
    args: [input],
  });
  const succeeded = async () => (await bulk.query<BulkTrainingState>('meterBulkTrainingState')).counts.SUCCESS;

  // 1. A meter worker dies (SIGKILL: no goodbye) while it has trainings running.
  await waitFor('40 meters trained', async () => (await succeeded()) >= 40, 180_000);
  const victim = cluster.meters[0]!;
  const orphans = await waitFor(
    'meters-1 to be running jobs',
    () => {
      const tree = descendants(victim.pid!);
      return standinProcesses().some((p) => tree.includes(p)) ? tree : undefined;
    },
    30_000,
  );
  victim.signal('SIGKILL');
  await victim.waitExit();
  const killedAt = Date.now();

  // 2. With it down, the API and the pipeline worker answer, and its jobs died with it (their lifeline).
  expect((await fetch(`${cluster.apiUrl}/health/`)).status).toBe(200);
  const workers = (await (await fetch(`${cluster.apiUrl}/health/worker`)).json()) as { status: string; workers: { identity: string }[] };
  expect(workers.status).toBe('healthy');
  const bulkStatus = await fetch(`${cluster.apiUrl}/trainmodel/bulk/${bulkId}`);
  expect(bulkStatus.status).toBe(200);
  const homeData = (await client.workflow.execute('homeData', {
    taskQueue: cluster.config.temporal.taskQueue,
    workflowId: `home-data-while-meters-1-down-${Date.now()}`,
    args: [{}],
  })) as RunReport;
  expect(homeData.status).toBe('success');
  await waitFor("the killed worker's jobs and supervisors to be gone", () => orphans.every((p) => !pidAlive(p)), 30_000);

  // 3. It comes back (same identity, as a process manager would restart it) and takes its share again.
  victim.start();
  await cluster.waitForWorker('meters-1');

  // 4. The Temporal server stops mid-run (a pipeline just started) and comes back.
  await waitFor('120 meters trained', async () => (await succeeded()) >= 120, 300_000);
  const daily = await client.workflow.start('dailyEnergyPipeline', {
    taskQueue: cluster.config.temporal.taskQueue,
    workflowId: `daily-across-restart-${Date.now()}`,
    args: [{}],
  });
  await cluster.temporal.stop();
  // The server stays down until the jobs that were running have ended: their results cannot be reported
  // now, and must not be lost (or they are run again).
  await waitFor('the running jobs to end with the server down', () => standinProcesses().length === 0, 60_000);
  await cluster.startTemporal();
  const restartedAt = Date.now();

  // 5. Everything completes: every meter exactly trained, the pipeline, and the schedule keeps firing.
  const state = (await bulk.result()) as BulkTrainingState;
  expect(state.counts).toMatchObject({ SUCCESS: METERS, FAILED: 0 });
  expect(((await daily.result()) as RunReport).status).toBe('success');
  const check = await scheduleRun('hea-cluster-check', restartedAt);
  expect(((await check.result()) as RunReport).status).toBe('success');

  // Each meter worker did a share (the identity Temporal recorded for each training's last attempt).
  const byWorker: Record<string, number> = {};
  for (const m of meters) {
    const ids = await activityIdentities(client.workflow.getHandle(meterWorkflowId(m.meterType, m.meterId)));
    const last = ids.at(-1) ?? 'none';
    byWorker[last] = (byWorker[last] ?? 0) + 1;
  }
  expect(Object.keys(byWorker).sort()).toEqual(['meters-1', 'meters-2']);
  expect(Math.min(byWorker['meters-1']!, byWorker['meters-2']!)).toBeGreaterThanOrEqual(20);

  // No meter trained twice at the same time (the stand-in's per-meter lock), and every one finished.
  const runs = standinRuns().filter((r) => r.job === 'meter_train' && r.meter?.includes('meter_cl_'));
  expect(runs.filter((r) => r.event === 'overlap')).toEqual([]);
  expect(new Set(runs.filter((r) => r.event === 'end').map((r) => r.meter)).size).toBe(METERS);
  // The kill hit running trainings (started, never ended by that process); each was trained again to the end.
  const ended = new Set(runs.filter((r) => r.event === 'end').map((r) => r.pid));
  const cut = runs.filter((r) => r.event === 'start' && !ended.has(r.pid) && r.t * 1000 < killedAt);
  expect(cut.length).toBeGreaterThan(0);
  for (const c of cut) expect(runs.some((r) => r.event === 'end' && r.meter === c.meter && r.t > c.t)).toBe(true);
  process.stderr.write(
    `[cluster test] trainings by worker: ${JSON.stringify(byWorker)}; starts ${runs.filter((r) => r.event === 'start').length} for ${METERS} meters\n`,
  );
});
