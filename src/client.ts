// `hea`: the command line of home-energy-ai. The Temporal SDK and fastify are imported when a command
// needs them, so `--help` and usage errors answer at once.
import { Command, CommanderError, Option } from 'commander';
import type { App } from './app.js';
import { loadConfigOrExit } from './config/load.js';
import { FLOWS, FLOW_NAMES, isFlowName, parseFlowParams, type FlowName } from './flows.js';
import { UsageProblem, schedulesCommand } from './schedules/commands.js';
import { buildApiCommand } from './cli/api.js';
import { buildTrainMetersCommand } from './cli/trainMeters.js';
import { buildWorkerCommand } from './cli/worker.js';
import { awaitResult, followRun } from './follow.js';
import { buildAccuracyCommand } from './cli/accuracy.js';
import type { RunReport } from './workflows/report.js';
import { isDebug } from './logging.js';

const EXIT_USAGE = 2;

function usageError(message: string): never {
  process.stderr.write(`hea: ${message}\n`);
  process.exit(EXIT_USAGE);
}

const openApp: typeof import('./app.js').openApp = async (options) => (await import('./app.js')).openApp(options);
const untilSignal: typeof import('./app.js').untilSignal = async (app) => (await import('./app.js')).untilSignal(app);

/** Starts a flow and waits for its report. */
export async function runFlow(app: App, flow: FlowName, params: Record<string, unknown>, options: { follow: boolean; idSuffix?: string }) {
  const { WorkflowFailedError } = await import('@temporalio/client');
  const def = FLOWS[flow];
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const handle = await app.client.workflow.start(def.workflow, {
    taskQueue: app.target.taskQueue,
    workflowId: `${flow}-${options.idSuffix ?? 'manual'}-${stamp}`,
    args: [params],
    staticSummary: `${flow} (started by hea ${options.idSuffix === 'startup' ? 'start' : 'run'})`,
  });
  app.logger.info({ workflowId: handle.workflowId, ui: app.target.uiUrl ? `${app.target.uiUrl}/namespaces/${app.target.namespace}/workflows/${handle.workflowId}` : undefined }, `started ${flow}`);
  let warned = false;
  const result = awaitResult<RunReport>(handle, {
    onRetry: (err) => {
      if (!warned) app.logger.warn({ err: (err as Error).message }, 'Temporal does not answer; still following the run');
      warned = true;
    },
  });
  result.catch(() => undefined); // handled below, after following
  if (options.follow) await followRun(handle, process.stderr, 500, result);
  try {
    return await result;
  } catch (err) {
    if (err instanceof WorkflowFailedError) {
      const details = (err.cause as { details?: unknown[] } | undefined)?.details?.[0] as RunReport | undefined;
      if (details?.steps) return details;
    }
    throw err;
  }
}

function printReport(report: RunReport, json: boolean): void {
  if (json) {
    process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    return;
  }
  process.stdout.write(`\n${report.workflow}: ${report.status.toUpperCase()}\n`);
  if (report.asOf) process.stdout.write(`as of ${report.asOf} (its scheduled time)\n`);
  for (const s of report.steps) {
    const secs = s.durationMs !== undefined ? `${(s.durationMs / 1000).toFixed(1)} s` : '';
    process.stdout.write(`  ${s.status.padEnd(8)} ${s.step.padEnd(28)} ${secs.padStart(8)}  ${s.status === 'success' ? '' : (s.error ?? '').split('\n')[0]}\n`);
  }
  if (report.reportFile) process.stdout.write(`report: ${report.reportFile}\n`);
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

export function buildProgram(): Command {
  const program = new Command('hea')
    .description('home-energy-ai: a home energy data-and-ML pipeline on Temporal')
    .option('-c, --config <file>', 'config file (default: config/hea.yaml, or HEA_CONFIG)')
    .showHelpAfterError()
    .exitOverride();

  /** Embedded server (unless TEMPORAL_ADDRESS), a worker, the schedules applied: the organizer's --serve. */
  async function serve(): Promise<App> {
    const app = await openApp({ configFile: program.opts().config, worker: 'always' });
    const { startApiForApp } = await import('./api/server.js');
    const api = await startApiForApp(app).catch(async (err: unknown) => {
      await app.close();
      if ((err as { code?: string }).code !== 'EADDRINUSE') throw err;
      throw new Error(
        `the meter API's port ${app.config.api.port} is taken (is \`npm start\` or another \`hea dev\` running?): set HEA_API_PORT to a free port (or api.port in config)`,
      );
    });
    if (api) {
      // Stop taking requests before the worker and the server go.
      const close = app.close.bind(app);
      app.close = async () => {
        await api.close();
        await close();
      };
    }
    const { keepReportsPruned } = await import('./reportsRetention.js');
    keepReportsPruned(app);
    const { applySchedules } = await import('./schedules/apply.js');
    const plan = await applySchedules(app.client, app.config);
    app.logger.info({ created: plan.create, updated: plan.update, deleted: plan.delete, unchanged: plan.unchanged.length }, 'schedules applied');
    if (app.target.uiUrl) {
      app.logger.info(`Temporal Web UI: ${app.target.uiUrl}  (schedules: ${app.target.uiUrl}/namespaces/${app.target.namespace}/schedules)`);
    }
    if (api) app.logger.info(`Dashboard: ${api.url}/  (API docs: ${api.url}/docs)`);
    return app;
  }

  program
    .command('start')
    .description('the main job: Temporal (embedded unless TEMPORAL_ADDRESS is set), a worker, the schedules, the meter API, one hourly-exogenic run; then keeps running')
    .action(async () => {
      const app = await serve();
      const stopped = untilSignal(app);
      const { startFirstTraining } = await import('./firstRun.js');
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

  program
    .command('dev')
    .description('embedded server, worker, schedules and the meter API, Web UI address printed (the organizer\'s --serve)')
    .action(async () => {
      const app = await serve();
      app.logger.info('running; press Ctrl-C to stop');
      await untilSignal(app);
    });

  program.addCommand(buildWorkerCommand(() => program.opts().config));

  program
    .command('run')
    .description('run one flow now, show its progress and print its report (exit 0 on success, 1 otherwise)')
    .argument('<flow>', `one of: ${FLOW_NAMES.join(', ')}`)
    .addHelpText('after', `\nFlows and their parameters:\n${FLOW_NAMES.map((f) => `  ${f.padEnd(16)} ${FLOWS[f].description}\n  ${''.padEnd(16)} ${FLOWS[f].paramHelp}`).join('\n')}`)
    .option('-p, --param <key=value>', 'a flow parameter (repeatable)', collect, [])
    .option('--json', 'print the report as JSON')
    .action(async (flow: string, opts: { param: string[]; json?: boolean }) => {
      if (!isFlowName(flow)) usageError(`unknown flow "${flow}"; flows: ${Object.keys(FLOWS).join(', ')}`);
      const params = parseFlowParams(flow, opts.param);
      if (!params.ok) usageError(params.problems.join('\n'));
      const app = await openApp({ configFile: program.opts().config, worker: 'if-none' });
      let code = 1;
      try {
        const report = await runFlow(app, flow, params.value, { follow: !opts.json });
        printReport(report, Boolean(opts.json));
        code = report.status === 'success' ? 0 : 1;
      } finally {
        await app.close();
      }
      process.exit(code);
    });

  program
    .command('job')
    .description('run one job of the registry now, through Temporal, with its configured timeouts and retries')
    .argument('<name>', 'a job name from config (jobs:)')
    .argument('[args...]', 'extra arguments for the job')
    .option('--json', 'print the outcome as JSON')
    .action(async (name: string, args: string[], opts: { json?: boolean }) => {
      const jobs = loadConfigOrExit(program.opts().config).jobs;
      if (!jobs[name]) usageError(`unknown job "${name}"; jobs: ${Object.keys(jobs).join(', ')}`);
      const app = await openApp({ configFile: program.opts().config, worker: 'if-none' });
      let code = 1;
      try {
        const handle = await app.client.workflow.start('runSingleJob', {
          taskQueue: app.target.taskQueue,
          workflowId: `job-${name}-${new Date().toISOString().replace(/[:.]/g, '-')}`,
          args: [{ job: name, args }],
        });
        const result = awaitResult<Awaited<ReturnType<typeof handle.result>>>(handle);
        result.catch(() => undefined); // handled below
        if (!opts.json) await followRun(handle, process.stderr, 500, result);
        const outcome = await result;
        process.stdout.write(`${JSON.stringify(opts.json ? outcome : outcome.result, null, 2)}\n`);
        code = 0;
      } catch (err) {
        const cause = (err as { cause?: { cause?: { message?: string } } }).cause?.cause;
        process.stderr.write(`hea: job ${name} failed: ${cause?.message ?? (err as Error).message}\n`);
      } finally {
        await app.close();
      }
      process.exit(code);
    });

  program
    .command('freshness')
    .description('check every dataset against its maximum age now, and print a table (no remediation unless --remediate)')
    .option('--remediate', 'start the fetch flow of stale datasets')
    .option('--json', 'as JSON')
    .action(async (opts: { remediate?: boolean; json?: boolean }) => {
      const app = await openApp({ configFile: program.opts().config, worker: 'if-none' });
      let code = 1;
      try {
        const report = await runFlow(app, 'freshness', { remediate: Boolean(opts.remediate), alert: false }, { follow: false, idSuffix: 'cli' });
        const table = report.tables?.find((t) => t.title === 'Datasets');
        if (opts.json) {
          process.stdout.write(`${JSON.stringify(table?.rows.map((r) => Object.fromEntries(table.columns.map((c, i) => [c, r[i]]))) ?? [], null, 2)}\n`);
        } else if (table) {
          const widths = table.columns.map((c, i) => Math.max(c.length, ...table.rows.map((r) => String(r[i] ?? '-').length)));
          const line = (cells: unknown[]) => cells.map((v, i) => String(v ?? '-').padEnd(widths[i]!)).join('  ').trimEnd();
          process.stdout.write(`${line(table.columns.map((c) => c.toUpperCase()))}\n${table.rows.map(line).join('\n')}\n`);
        }
        const stale = (table?.rows ?? []).filter((r) => r[2] !== 'yes').length;
        code = report.status === 'success' && stale === 0 ? 0 : 1;
      } finally {
        await app.close();
      }
      process.exit(code);
    });

  program.addCommand(buildAccuracyCommand(() => program.opts().config));
  program.addCommand(buildTrainMetersCommand(() => program.opts().config));
  program.addCommand(buildApiCommand(() => program.opts().config));
  program.addCommand(schedulesCommand(() => openApp({ configFile: program.opts().config, worker: 'never' })));

  program
    .command('health')
    .description('exit 0 when Temporal answers and a worker polls the task queue, 1 otherwise (for container health checks)')
    .action(async () => {
      const app = await openApp({ configFile: program.opts().config, worker: 'never', embedded: false });
      let healthy = false;
      try {
        const { hasWorkers } = await import('./app.js');
        healthy = await hasWorkers(app.client, app.target);
        process.stdout.write(healthy ? 'healthy: workers poll the task queue\n' : `unhealthy: no worker polls ${app.target.taskQueue}\n`);
      } finally {
        await app.close();
      }
      process.exit(healthy ? 0 : 1);
    });

  program.addOption(new Option('--version').hideHelp());
  return program;
}

export async function main(argv = process.argv): Promise<void> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
    // The Temporal runtime keeps the event loop alive; a finished command is finished (with the exit
    // code it set, if any).
    process.exit(process.exitCode ?? 0);
  } catch (err) {
    if (err instanceof UsageProblem) usageError(err.message);
    if (err instanceof CommanderError) {
      // Help and version are not errors; every other parse problem is a usage error.
      process.exit(err.exitCode === 0 ? 0 : EXIT_USAGE);
    }
    process.stderr.write(`hea: ${err instanceof Error ? err.message : String(err)}\n`);
    if (isDebug() && err instanceof Error) process.stderr.write(`${err.stack}\n`);
    process.exit(1);
  }
}
