// The run's report as workflows build it: its status from its steps, and its one-line-per-step summary.
// The shapes live in src/contracts/report.ts (activities, the API and the CLI read them too).
import type { RunReport, RunStatus, StepReport, StepStatus } from '../contracts/report.js';

export type { ReportFile, ReportImage, ReportSection, ReportTable, RunReport, RunStatus, StepReport, StepStatus } from '../contracts/report.js';
export { reportBaseName } from '../contracts/report.js';

export function runStatus(steps: StepReport[]): RunStatus {
  if (steps.length === 0 || steps.every((s) => s.status === 'success')) return 'success';
  if (steps.some((s) => s.status === 'success')) return 'partial';
  return 'failed';
}

/** One line per step, for the Web UI's "current details" and the CLI's progress. */
export function summarize(report: RunReport): string {
  const icon: Record<StepStatus | 'running', string> = { success: '✅', failed: '❌', skipped: '⏭️', running: '⏳' };
  const lines = report.steps.map((s) => {
    const secs = s.durationMs !== undefined ? ` (${(s.durationMs / 1000).toFixed(1)} s)` : '';
    const err = s.error ? `: ${s.error.split('\n')[0]}` : '';
    return `${icon[s.status]} **${s.step}** ${s.status}${secs}${err}`;
  });
  return [`**${report.workflow}**: ${report.status}`, ...lines].join('\n');
}
