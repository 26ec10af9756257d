// `hea start` and `hea dev`: the services. An embedded server (unless TEMPORAL_ADDRESS), a worker, the
// schedules applied and the meter API: the organizer's --serve; `start` also runs one hourly-exogenic.
import { Command } from 'commander';
import type { App } from '../app.js';
import { StopSignals, StoppedDuringStart } from '../process/signals.js';
import { runFlow } from './run.js';
import { openApp, type ConfigFile } from './withApp.js';

/**
 * The services up, or undefined when a stop signal came during start-up (what had started is closed then).
 */
async function serve(configFile: ConfigFile, signals: StopSignals): Promise<App | undefined> {
  let app: App;
  try {
    app = await openApp(configFile, { worker: 'always', stop: signals.aborted });
  } catch (err) {
    if (err instanceof StoppedDuringStart) return undefined;
    throw err;
  }
  try {
    const { startApiForApp } = await import('../api/server.js');
    const api = await startApiForApp(app).catch((err: unknown) => {
      if ((err as { code?: string }).code !== 'EADDRINUSE') throw err;
      throw new Error(
        `the meter API's port ${app.config.api.port} is taken (is \`npm start\` or another \`hea dev\` running?): set HEA_API_PORT to a free port (or api.port in config)`,
      );
    });
    if (api) {
      // Stop taking requests before the worker and the server go.
      const close = app.close.bind(app);
      app.close = async () => {
        try {
          await api.close();
        } finally {
          await close();
        }
      };
    }
    signals.aborted.throwIfAborted();
    const { keepReportsPruned } = await import('../reportsRetention.js');
    keepReportsPruned(app);
    const { applySchedules } = await import('../schedules/apply.js');
    const plan = await applySchedules(app.client, app.config);
    app.logger.info({ created: plan.create, updated: plan.update, deleted: plan.delete, unchanged: plan.unchanged.length }, 'schedules applied');
    if (app.target.uiUrl) {
      app.logger.info(`Temporal Web UI: ${app.target.uiUrl}  (schedules: ${app.target.uiUrl}/namespaces/${app.target.namespace}/schedules)`);
    }
    if (api) app.logger.info(`Dashboard: ${api.url}/  (API docs: ${api.url}/docs)`);
    signals.aborted.throwIfAborted();
    return app;
  } catch (err) {
    // The embedded server outlives a crash on purpose; a start that failed (or was stopped) must not leave it behind.
    await app.close();
    if (err instanceof StoppedDuringStart) return undefined;
    throw err;
  }
}

/** Runs until SIGINT/SIGTERM (heard since `signals` was made), then closes the app. */
async function untilSignal(app: App, signals: StopSignals): Promise<void> {
  const { untilSignal: wait } = await import('../app.js');
  await wait(app, signals);
}

export function buildStartCommand(configFile: ConfigFile): Command {
  return new Command('start')
    .description('the main job: Temporal (embedded unless TEMPORAL_ADDRESS is set), a worker, the schedules, the meter API, one hourly-exogenic run; then keeps running')
    .action(async () => {
      const signals = new StopSignals();
      const app = await serve(configFile, signals);
      if (!app) return;
      const stopped = untilSignal(app, signals);
      const { startFirstTraining } = await import('../firstRun.js');
      await startFirstTraining(app).catch((err: unknown) => app.logger.error({ err }, 'the first training could not start'));
      try {
        const report = await runFlow(app, 'hourly-exogenic', {}, { follow: false, idSuffix: 'startup' });
        app.logger.info({ status: report.status, report: report.reportFile }, 'hourly-exogenic finished');
      } catch (err) {
        app.logger.error({ err }, 'hourly-exogenic could not run');
      }
      app.logger.info('running; press Ctrl-C to stop');
      await stopped;
    });
}

export function buildDevCommand(configFile: ConfigFile): Command {
  return new Command('dev').description("embedded server, worker, schedules and the meter API, Web UI address printed (the organizer's --serve)").action(async () => {
    const signals = new StopSignals();
    const app = await serve(configFile, signals);
    if (!app) return;
    app.logger.info('running; press Ctrl-C to stop');
    await untilSignal(app, signals);
  });
}
