// The cluster section of `npm run bench` (also alone: node --import tsx bench/cluster.ts [--quick]): the
// process roles of `npm run cluster` (separate `hea worker --role ...` processes) against a throwaway
// embedded dev server (SQLite file, as `npm start` runs it). Measured:
//   1. workflow throughput: runSingleJob workflows running /bin/true, on one `--role pipelines` worker;
//   2. meter-training throughput: a bulk training on one, then two `--role meters` workers (4 job slots
//      each). The training is the cluster test's stand-in job (it sleeps 1 s), so the figure is how work
//      spreads over workers, not how fast models train (`npm run bench:meters` measures that).
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import { pino } from 'pino';
import { stringify } from 'yaml';
import { freePorts, until } from '../scripts/cluster/processes.js';
import { bulkWorkflowId, type BulkTrainingInput, type BulkTrainingState } from '../src/contracts/trainings.js';
import { startEmbeddedServer } from '../src/temporal/embedded.js';

const ROOT = resolve(fileURLToPath(new URL('.', import.meta.url)), '..');
const PYTHON = join(ROOT, '.venv', 'bin', 'python');
const STANDIN = join(ROOT, 'test', 'cluster', 'fixtures', 'standin_job.py');
const TASK_QUEUE = 'bench-cluster';
const METER_QUEUE = 'bench-cluster-meters';
const SLOTS = 4;
const round = (x: number, digits = 1) => Math.round(x * 10 ** digits) / 10 ** digits;

export interface ClusterBench {
  workflowThroughput: { workflows: number; concurrency: number; seconds: number; perSecond: number; failed: number };
  meterTraining: Array<{ meterWorkers: number; slotsPerWorker: number; meters: number; seconds: number; metersPerMinute: number; failed: number }>;
  standinSeconds: number;
}

function writeConfig(dir: string): string {
  const file = join(dir, 'hea.yaml');
  writeFileSync(
    file,
    stringify({
      paths: { dataDir: join(dir, 'data'), modelsDir: join(dir, 'models'), reportsDir: join(dir, 'reports') },
      temporal: { taskQueue: TASK_QUEUE, meterTaskQueue: METER_QUEUE },
      worker: { maxConcurrentActivities: 16, maxConcurrentMeterActivities: SLOTS, shutdownGraceTime: '2s' },
      jobDefaults: {
        command: PYTHON,
        timeout: '2m',
        heartbeatTimeout: '30s',
        killGrace: '2s',
        retry: { initialInterval: '1s', maximumAttempts: 3 },
        env: { HEA_STANDIN_LOG: join(dir, 'standin') },
      },
      jobs: { trivial_true: { command: '/bin/true' }, meter_train: { args: [STANDIN, 'meter_train'] } },
    }),
  );
  return file;
}

/** A `hea worker` process of a role; resolves once it polls its task queue. */
async function startWorker(client: Client, env: NodeJS.ProcessEnv, role: 'pipelines' | 'meters', identity: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, [join(ROOT, 'bin', 'hea.js'), 'worker', '--role', role, '--identity', identity], { cwd: ROOT, env, stdio: 'ignore' });
  const taskQueue = role === 'meters' ? METER_QUEUE : TASK_QUEUE;
  await until(
    `${identity} to poll`,
    async () =>
      ((await client.workflowService.describeTaskQueue({ namespace: 'default', taskQueue: { name: taskQueue }, taskQueueType: 2 })).pollers ?? []).some(
        (p) => p.identity === identity,
      ),
    180_000,
    () => (child.exitCode === null ? undefined : `it exited with ${child.exitCode}`),
  );
  return child;
}

async function stopWorker(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await exited;
}

export async function benchCluster(options: { quick?: boolean; log?: (msg: string) => void } = {}): Promise<ClusterBench> {
  const log = options.log ?? ((msg: string) => process.stderr.write(`[bench cluster] ${msg}\n`));
  const nWorkflows = options.quick ? 60 : 200;
  const nMeters = options.quick ? 24 : 64;
  const dir = mkdtempSync(join(tmpdir(), 'hea-bench-cluster-'));
  const [port, uiPort, metrics1, metrics2, metrics3] = await freePorts(5);
  const server = await startEmbeddedServer({
    binary: join(ROOT, '.venv', 'bin', 'temporal'),
    ip: '127.0.0.1',
    port: port!,
    uiPort: uiPort!,
    dbFile: join(dir, 'temporal.db'),
    logFile: join(dir, 'temporal.log'),
    namespace: 'default',
    startTimeoutMs: 60_000,
    logger: pino({ level: 'silent' }),
  });
  const connection = await Connection.connect({ address: server.address });
  const client = new Client({ connection });
  const env = (metrics: number): NodeJS.ProcessEnv => ({
    ...process.env,
    HEA_CONFIG: writeConfig(dir),
    TEMPORAL_ADDRESS: server.address,
    HEA_METRICS_ADDRESS: `127.0.0.1:${metrics}`,
    LOG_LEVEL: 'warn',
  });
  const workers: ChildProcess[] = [];
  try {
    log(`workers start (each bundles the workflow code); server ${server.address}`);
    workers.push(await startWorker(client, env(metrics1!), 'pipelines', 'bench-pipelines-1'));
    workers.push(await startWorker(client, env(metrics2!), 'meters', 'bench-meters-1'));

    log(`workflow throughput: ${nWorkflows} runSingleJob (/bin/true), 16 at a time`);
    let failed = 0;
    let next = 0;
    const run = (i: number) =>
      client.workflow.execute('runSingleJob', { taskQueue: TASK_QUEUE, workflowId: `bench-wf-${i}-${Date.now()}`, args: [{ job: 'trivial_true' }] }).catch(() => {
        failed += 1;
      });
    await Promise.all(Array.from({ length: 16 }, (_, i) => run(-1 - i))); // warm-up
    failed = 0;
    const t0 = performance.now();
    await Promise.all(
      Array.from({ length: 16 }, async () => {
        while (next < nWorkflows) await run(next++);
      }),
    );
    const wfSeconds = (performance.now() - t0) / 1000;
    const workflowThroughput = { workflows: nWorkflows, concurrency: 16, seconds: round(wfSeconds, 2), perSecond: round(nWorkflows / wfSeconds), failed };

    const meterTraining: ClusterBench['meterTraining'] = [];
    for (const meterWorkers of [1, 2]) {
      if (meterWorkers === 2) workers.push(await startWorker(client, env(metrics3!), 'meters', 'bench-meters-2'));
      const bulkId = `00000000-0000-4000-8000-00000000000${meterWorkers}`;
      const meters = Array.from({ length: nMeters }, (_, i) => ({ meterType: 'electricity', meterId: `meter_bench_${meterWorkers}_${i}` }));
      // Concurrency matches the slots of all meter workers, so the workers, not the request, are the limit.
      const input: BulkTrainingInput = { bulkId, meters, concurrency: SLOTS * meterWorkers };
      log(`meter training: ${nMeters} meters on ${meterWorkers} meter worker(s), ${SLOTS} slots each`);
      const t1 = performance.now();
      const state = (await client.workflow.execute('meterModelTrainingBulk', {
        taskQueue: METER_QUEUE,
        workflowId: bulkWorkflowId(bulkId),
        args: [input],
      })) as BulkTrainingState;
      const seconds = (performance.now() - t1) / 1000;
      meterTraining.push({
        meterWorkers,
        slotsPerWorker: SLOTS,
        meters: nMeters,
        seconds: round(seconds, 2),
        metersPerMinute: round((state.counts.SUCCESS * 60) / seconds),
        failed: state.counts.FAILED,
      });
    }
    return { workflowThroughput, meterTraining, standinSeconds: 1 };
  } finally {
    await Promise.all(workers.map(stopWorker));
    await connection.close();
    await server.stop();
  }
}

export function formatClusterBench(r: ClusterBench): string {
  const w = r.workflowThroughput;
  const lines = [
    `cluster roles on the embedded dev server (separate hea worker processes):`,
    `  workflow throughput, /bin/true via 1 pipeline worker   ${w.perSecond} workflows/s (${w.workflows} in ${w.seconds} s, ${w.concurrency} at a time${w.failed ? `, ${w.failed} failed` : ''})`,
    ...r.meterTraining.map(
      (m) =>
        `  meter trainings (${r.standinSeconds} s stand-in), ${m.meterWorkers} meter worker(s) x ${m.slotsPerWorker} slots   ${m.metersPerMinute} meters/min (${m.meters} in ${m.seconds} s${m.failed ? `, ${m.failed} failed` : ''})`,
    ),
  ];
  return lines.join('\n');
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({ options: { quick: { type: 'boolean', default: false } } });
  const result = await benchCluster({ quick: values.quick });
  process.stdout.write(`${formatClusterBench(result)}\n${JSON.stringify(result, null, 2)}\n`);
  process.exit(0);
}
