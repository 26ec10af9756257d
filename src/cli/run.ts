// `hea run <flow>`: one flow now, its progress followed, its report printed (exit 0 on success, 1 otherwise).
import { Command } from 'commander';
import type { App } from '../app.js';
import { FLOWS, FLOW_NAMES, isFlowName, type FlowName } from '../contracts/flows.js';
import type { RunReport } from '../contracts/report.js';
import { awaitResult, followRun } from '../follow.js';
import { parseFlowParams } from './flowParams.js';
import { usageError, withApp, type ConfigFile } from './withApp.js';

/** Starts a flow and waits for its report (a failed run's report too: it travels in the failure's details). */
export async function runFlow(app: App, flow: FlowName, params: Record<string, unknown>, options: { follow: boolean; idSuffix?: string }): Promise<RunReport> {
  const def = FLOWS[flow];
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const handle = await app.client.workflow.start(def.workflow, {
    taskQueue: app.target.taskQueue,
    workflowId: `${flow}-${options.idSuffix ?? 'manual'}-${stamp}`,
    args: [params],
    staticSummary: `${flow} (started by hea ${options.idSuffix === 'startup' ? 'start' : 'run'})`,
  });
  app.logger.info(
    { workflowId: handle.workflowId, ui: app.target.uiUrl ? `${app.target.uiUrl}/namespaces/${app.target.namespace}/workflows/${handle.workflowId}` : undefined },
    `started ${flow}`,
  );
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
    // A run that failed (RunFailed) carries its report as the failure's details.
    const { summarizeFailure } = await import('../contracts/failures.js'); // the SDK: loaded when needed
    const report = summarizeFailure(err).details as Partial<RunReport> | undefined;
    if (report?.steps) return report as RunReport;
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

export function buildRunCommand(configFile: ConfigFile): Command {
  return new Command('run')
    .description('run one flow now, show its progress and print its report (exit 0 on success, 1 otherwise)')
    .argument('<flow>', `one of: ${FLOW_NAMES.join(', ')}`)
    .addHelpText(
      'after',
      `\nFlows and their parameters:\n${FLOW_NAMES.map((f) => `  ${f.padEnd(16)} ${FLOWS[f].description}\n  ${''.padEnd(16)} ${FLOWS[f].paramHelp}`).join('\n')}`,
    )
    .option('-p, --param <key=value>', 'a flow parameter (repeatable)', collect, [])
    .option('--json', 'print the report as JSON')
    .action(async (flow: string, opts: { param: string[]; json?: boolean }) => {
      if (!isFlowName(flow)) usageError(`unknown flow "${flow}"; flows: ${FLOW_NAMES.join(', ')}`);
      const params = parseFlowParams(flow, opts.param);
      if (!params.ok) usageError(params.problems.join('\n'));
      await withApp(configFile, { worker: 'if-none' }, async (app) => {
        const report = await runFlow(app, flow, params.value, { follow: !opts.json });
        printReport(report, Boolean(opts.json));
        return report.status === 'success';
      });
    });
}
