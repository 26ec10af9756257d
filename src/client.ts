// `hea`: the command line of home-energy-ai.
import { Command, CommanderError, Option } from 'commander';
import { WorkflowFailedError } from '@temporalio/client';
import { hasWorkers, openApp, untilSignal, type App } from './app.js';
import { FLOWS, isFlowName, parseFlowParams, type FlowName } from './flows.js';
import { followRun } from './follow.js';
import type { RunReport } from './workflows/report.js';
import { isDebug } from './logging.js';

const EXIT_USAGE = 2;

function usageError(message: string): never {
  process.stderr.write(`hea: ${message}\n`);
  process.exit(EXIT_USAGE);
}

/** Starts a flow and waits for its report. */
export async function runFlow(app: App, flow: FlowName, params: Record<string, unknown>, options: { follow: boolean; idSuffix?: string }) {
  const def = FLOWS[flow];
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const handle = await app.client.workflow.start(def.workflow, {
    taskQueue: app.target.taskQueue,
    workflowId: `${flow}-${options.idSuffix ?? 'manual'}-${stamp}`,
    args: Object.keys(def.params.shape).length ? [params] : [],
    staticSummary: `${flow} (started by hea run)`,
  });
  app.logger.info({ workflowId: handle.workflowId, ui: app.target.uiUrl ? `${app.target.uiUrl}/namespaces/${app.target.namespace}/workflows/${handle.workflowId}` : undefined }, `started ${flow}`);
  if (options.follow) await followRun(handle, process.stderr);
  try {
    return (await handle.result()) as RunReport;
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

  program
    .command('start')
    .description('the main job: Temporal (embedded unless TEMPORAL_ADDRESS is set), a worker, one hourly-exogenic run; then keeps running')
    .action(async () => {
      const app = await openApp({ configFile: program.opts().config, worker: 'always' });
      if (app.target.uiUrl) app.logger.info(`Temporal Web UI: ${app.target.uiUrl}`);
      const stopped = untilSignal(app);
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
    .command('worker')
    .description('a worker alone (for a real cluster; set TEMPORAL_ADDRESS)')
    .action(async () => {
      const app = await openApp({ configFile: program.opts().config, worker: 'always' });
      app.logger.info({ taskQueue: app.target.taskQueue }, 'worker running; press Ctrl-C to stop');
      await untilSignal(app);
    });

  program
    .command('run')
    .description('run one flow now, show its progress and print its report (exit 0 on success, 1 otherwise)')
    .argument('<flow>', `one of: ${Object.keys(FLOWS).join(', ')}`)
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
    .command('health')
    .description('exit 0 when Temporal answers and a worker polls the task queue, 1 otherwise (for container health checks)')
    .action(async () => {
      const app = await openApp({ configFile: program.opts().config, worker: 'never', embedded: false });
      let healthy = false;
      try {
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
  } catch (err) {
    if (err instanceof CommanderError) {
      // Help and version are not errors; every other parse problem is a usage error.
      process.exit(err.exitCode === 0 ? 0 : EXIT_USAGE);
    }
    process.stderr.write(`hea: ${err instanceof Error ? err.message : String(err)}\n`);
    if (isDebug() && err instanceof Error) process.stderr.write(`${err.stack}\n`);
    process.exit(1);
  }
}
