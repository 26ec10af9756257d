// The life of a run: its steps, the live report (a query and the Web UI's current details), and the
// written report at the end. Every pipeline workflow records its work through a RunRecorder.
import {
  ApplicationFailure,
  defineQuery,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';
import { runStatus, summarize, type ReportTable, type RunReport, type StepReport } from './report.js';
import { loadJobOptions, runStep, scheduledNow, type JobOptionsTable } from './steps.js';
import { reportQueryName } from './names.js';

export const reportQuery = defineQuery<RunReport>(reportQueryName);

const { writeReport } = proxyActivities<Activities>({
  startToCloseTimeout: '1 minute',
  retry: { maximumAttempts: 5 },
});

export class RunRecorder {
  private readonly report: RunReport;
  private options: JobOptionsTable = {};
  private readonly running = new Set<string>();

  constructor(params: Record<string, unknown>) {
    const info = workflowInfo();
    this.report = {
      workflow: info.workflowType,
      workflowId: info.workflowId,
      runId: info.runId,
      status: 'success',
      startedAt: new Date().toISOString(),
      params,
      ...(scheduledNow() ? { asOf: scheduledNow() } : {}),
      steps: [],
    };
    setHandler(reportQuery, () => ({ ...this.report, steps: [...this.report.steps], running: [...this.running] }) as RunReport);
    this.publish();
  }

  /** Fetch the timeouts and retry policies of the jobs this run may use. */
  async prepare(jobs: string[]): Promise<void> {
    this.options = await loadJobOptions(jobs);
  }

  /** Run a job as a step; resolves with its report line (never throws for a job failure). */
  async step(step: string, job: string, args: string[] = []): Promise<StepReport> {
    this.running.add(step);
    this.publish();
    const { outcome: _outcome, ...line } = await runStep(step, job, args, this.options);
    this.running.delete(step);
    this.report.steps.push(line);
    this.publish();
    return line;
  }

  table(table: ReportTable): void {
    (this.report.tables ??= []).push(table);
  }

  /** A step done by the workflow itself rather than a job (an alert, a remediation). */
  note(step: string, status: StepReport['status'], detail: string, result?: Record<string, unknown>): void {
    this.report.steps.push({ step, job: '-', status, ...(status === 'success' ? { result: { ...result, detail } } : { error: detail }) });
    this.publish();
  }

  skip(step: string, job: string, because: string): StepReport {
    const line: StepReport = { step, job, status: 'skipped', error: because };
    this.report.steps.push(line);
    this.publish();
    return line;
  }

  /**
   * Finish: write the Markdown report. A run where nothing succeeded fails (so schedules can pause), and
   * so does one where every `essential` step failed (a training whose data updates alone succeeded).
   */
  async finish(options: { essential?: (step: StepReport) => boolean } = {}): Promise<RunReport> {
    const finished = new Date();
    this.report.status = runStatus(this.report.steps);
    const essential = options.essential ? this.report.steps.filter(options.essential) : [];
    if (essential.length > 0 && !essential.some((s) => s.status === 'success')) this.report.status = 'failed';
    this.report.finishedAt = finished.toISOString();
    this.report.durationMs = finished.getTime() - Date.parse(this.report.startedAt);
    this.report.reportFile = await writeReport(this.report);
    this.publish();
    if (this.report.status === 'failed') {
      throw ApplicationFailure.create({
        type: 'RunFailed',
        message: `${this.report.workflow}: ${essential.length ? 'every essential step' : 'every step'} failed (report: ${this.report.reportFile})`,
        nonRetryable: true,
        details: [this.report],
      });
    }
    return this.report;
  }

  private publish(): void {
    const status = this.report.finishedAt ? this.report.status : 'running';
    const running = [...this.running].map((s) => `⏳ **${s}** running`);
    setCurrentDetails([summarize({ ...this.report, status: status as RunReport['status'] }), ...running].join('\n\n'));
  }
}
