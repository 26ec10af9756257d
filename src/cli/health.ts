// `hea health`: for container health checks. Exit 0 when Temporal answers and a worker polls the task queue.
import { Command } from 'commander';
import { withApp, type ConfigFile } from './withApp.js';

export function buildHealthCommand(configFile: ConfigFile): Command {
  return new Command('health')
    .description('exit 0 when Temporal answers and a worker polls the task queue, 1 otherwise (for container health checks)')
    .action(async () => {
      await withApp(configFile, { worker: 'never', embedded: false }, async (app) => {
        const { hasWorkers } = await import('../app.js');
        const healthy = await hasWorkers(app.client, app.target);
        process.stdout.write(healthy ? 'healthy: workers poll the task queue\n' : `unhealthy: no worker polls ${app.target.taskQueue}\n`);
        return healthy;
      });
    });
}
