// `hea api`: the meter training API alone (for a container next to the workers).
import { Command } from 'commander';

/** `hea api`: the API without a worker (workers run elsewhere: `hea worker`, or `hea start`). */
export function buildApiCommand(configFile: () => string | undefined): Command {
  return (
    new Command('api')
      .description('the meter training HTTP API alone (no worker); set TEMPORAL_ADDRESS for a real cluster')
      // Added with addCommand, so the program's settings are not inherited: a bad option is a usage error (exit 2).
      .exitOverride()
      .action(async () => {
        const [{ openApp }, { startApi }, { onMeterTaskQueue }] = await Promise.all([import('../app.js'), import('../api/server.js'), import('../api/tasks.js')]);
        const app = await openApp({ configFile: configFile(), worker: 'never' });
        const api = await startApi(onMeterTaskQueue(app));
        // Stop taking requests first, then close the Temporal connection.
        await new Promise<void>((resolve) => {
          const stop = (signal: string) => {
            app.logger.info({ signal }, 'shutting down');
            void api.close().finally(() => void app.close().then(resolve));
          };
          process.once('SIGINT', stop);
          process.once('SIGTERM', stop);
        });
        // The Temporal runtime's native threads can keep the loop alive after everything is closed.
        process.exit(0);
      })
  );
}
