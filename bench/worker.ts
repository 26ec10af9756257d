// The benchmark's worker, as its own process so its resident memory can be read from /proc.
//
//   node --import tsx bench/worker.ts <json: {address, taskQueue, configFile, bundlePath}>
//
// Registers the project's activities (the real job runner) and `noop`; prints "ready" once polling.
import { readFileSync } from 'node:fs';
import { DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { pino } from 'pino';
import { createActivities } from '../src/activities/index.js';
import { loadConfig } from '../src/config/load.js';
import { warmHostOf } from '../src/activities/jobProcess.js';

// meterTaskQueue: a second queue with the meter trainings' own slots (worker.maxConcurrentMeterActivities), as `hea start`.
const opts = JSON.parse(process.argv[2]!) as { address: string; taskQueue: string; configFile: string; bundlePath: string; meterTaskQueue?: string };
Runtime.install({ logger: new DefaultLogger('ERROR') });
const config = loadConfig(opts.configFile, { env: {} });
const connection = await NativeConnection.connect({ address: opts.address });
const activities = {
  ...createActivities(config, pino({ level: 'silent' })),
  noop: async (i: number) => i,
  sleepMs: (ms: number) => new Promise<number>((r) => setTimeout(() => r(ms), ms)),
};
const workflowBundle = { code: readFileSync(opts.bundlePath, 'utf8') };
const queues = [{ taskQueue: opts.taskQueue, slots: config.worker.maxConcurrentActivities }];
if (opts.meterTaskQueue) queues.push({ taskQueue: opts.meterTaskQueue, slots: config.worker.maxConcurrentMeterActivities });
const workers = await Promise.all(
  queues.map((q) =>
    Worker.create({
      connection,
      taskQueue: q.taskQueue,
      workflowBundle,
      activities,
      maxConcurrentActivityTaskExecutions: q.slots,
      maxConcurrentLocalActivityExecutions: q.slots, // as src/worker.ts
      maxConcurrentWorkflowTaskExecutions: config.worker.maxConcurrentWorkflowTasks,
      shutdownGraceTime: 1_000,
    }),
  ),
);
process.once('SIGTERM', () => workers.forEach((w) => w.shutdown()));
// A worker that has been up a while: its job host is warm (the first jobs of a fresh worker run cold while it starts).
await warmHostOf(config, pino({ level: 'silent' }))?.warmUp();
const running = Promise.all(workers.map((w) => w.run()));
process.stdout.write('ready\n');
await running;
await connection.close();
process.exit(0);
