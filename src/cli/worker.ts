// `hea worker`: a worker process alone, for a real cluster. Its role says which task queues it polls, so
// pipelines and meter trainings can run (and be scaled, and crash) in separate processes.
import { hostname } from 'node:os';
import { Command, Option } from 'commander';
import { StopSignals, StoppedDuringStart } from '../process/signals.js';
import { WORKER_ROLES, roleQueues, type WorkerRole } from '../workerRoles.js';

export function buildWorkerCommand(configFile: () => string | undefined): Command {
  return (
    new Command('worker')
      .description('a worker alone (for a real cluster; set TEMPORAL_ADDRESS): --role pipelines, meters or all task queues')
      .addOption(new Option('--role <role>', 'pipelines: schedules and flows; meters: meter trainings; all: both').choices(WORKER_ROLES).default('all'))
      // Added with addCommand, so the program's settings are not inherited: a bad option is a usage error (exit 2).
      .exitOverride()
      .option('--identity <name>', 'the worker identity Temporal records with each task it runs (default: <role>:<pid>@<host>)')
      .action(async (opts: { role: WorkerRole; identity?: string }) => {
        const signals = new StopSignals();
        const { openApp, untilSignal } = await import('../app.js');
        const identity = opts.identity ?? `${opts.role}:${process.pid}@${hostname()}`;
        let app: Awaited<ReturnType<typeof openApp>>;
        try {
          app = await openApp({ configFile: configFile(), worker: 'always', role: opts.role, identity, stop: signals.aborted });
        } catch (err) {
          if (err instanceof StoppedDuringStart) return; // what had started is closed
          throw err;
        }
        const taskQueues = roleQueues(app.config, app.target, opts.role).map((q) => q.taskQueue);
        app.logger.info({ role: opts.role, identity, taskQueues }, 'worker running; press Ctrl-C to stop');
        await untilSignal(app, signals);
      })
  );
}
