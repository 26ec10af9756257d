// The life of a run: its steps, the live report (a query and the Web UI's current details), and the
// written report at the end. Every pipeline workflow records its work through a RunRecorder.
import { SearchAttributeType, defineSearchAttributeKey } from '@temporalio/common';
import {
  ApplicationFailure,
  defineQuery,
  isCancellation,
  patched,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities, AlertInput } from '../activities/index.js';
import type { DatasetFreshness } from '../contracts/freshness.js';
import { reportBaseName, runStatus, summarize, type ReportSection, type ReportTable, type RunReport, type StepReport } from './report.js';
import { loadJobOptions, runStep, scheduledNow, type JobOptionsTable } from './steps.js';
import { reportQueryName } from './names.js';

export const reportQuery = defineQuery<RunReport>(reportQueryName);

const { writeReport, statusAttributeReady, notify } = proxyActivities<Activities>({
  startToCloseTimeout: '1 minute',
  retry: { maximumAttempts: 5 },
});

/** The Web UI's Workflows list shows and filters it: `HeaStatus="partial"` (src/temporal/namespace.ts). */
export const HEA_STATUS = defineSearchAttributeKey('HeaStatus', SearchAttributeType.KEYWORD);

export class RunRecorder {
  private readonly report: RunReport;
  private options: JobOptionsTable = {};
  private readonly running = new Set<string>();

  constructor(params: Record<string, unknown>) {
    const info = workflowInfo();
    // A scheduled or backfilled run is about its scheduled time (the TemporalScheduledStartTime search
    // attribute), which its jobs take as HEA_NOW (steps.ts).
    const asOf = scheduledNow();
    this.report = {
      workflow: info.workflowType,
      workflowId: info.workflowId,
      runId: info.runId,
      status: 'success',
      startedAt: new Date().toISOString(),
      ...(asOf ? { asOf } : {}),
      params,
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
    this.addSection(line);
    this.report.steps.push(line);
    this.publish();
    return line;
  }

  /** The report's file name without `.md`: a report job writes its charts into a folder of that name. */
  get reportName(): string {
    return reportBaseName(this.report);
  }

  /** The run's "now" when it is not its start (a scheduled or backfilled run), for jobs that take --as-of. */
  get asOf(): string | undefined {
    return this.report.asOf;
  }

  /** A report job's tables, charts and files join the run's report (and leave the step's key figures). */
  private addSection(line: StepReport): void {
    const section = line.result?.report as ReportSection | undefined;
    if (!section || typeof section !== 'object') return;
    const { report: _section, ...rest } = line.result!;
    line.result = rest;
    for (const t of section.tables ?? []) this.table(t);
    (this.report.images ??= []).push(...(section.images ?? []));
    (this.report.files ??= []).push(...(section.files ?? []));
  }

  table(table: ReportTable): void {
    (this.report.tables ??= []).push(table);
  }

  /** The freshness check's verdicts, typed, beside their table (`hea freshness` counts these). */
  datasets(verdicts: DatasetFreshness[]): void {
    this.report.datasets = verdicts;
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
    // Runs started before HeaStatus and notifications existed replay without them.
    if (patched('run-status-and-notify')) {
      await this.markStatus();
      await this.notifyOutcome();
    }
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

  /** HeaStatus for the Web UI's list, where the namespace has the attribute (else it would fail the task). */
  private async markStatus(): Promise<void> {
    try {
      if (await statusAttributeReady()) upsertSearchAttributes([{ key: HEA_STATUS, value: this.report.status }]);
    } catch (err) {
      if (isCancellation(err)) throw err; // otherwise the run goes on without the attribute
    }
  }

  /** A failed or partial run is an alert (log, webhook, the alerts table); a notification never fails the run. */
  private async notifyOutcome(): Promise<void> {
    if (this.report.status === 'success') return;
    const failed = this.report.steps.filter((s) => s.status === 'failed');
    const alert: AlertInput = {
      kind: this.report.status === 'failed' ? 'failed-run' : 'partial-run',
      subject: `${this.report.workflow} ${this.report.status}`,
      message: `${this.report.workflowId}: ${failed.length} step(s) failed${failed.length ? ` (${failed.map((s) => s.step).join(', ')})` : ''}`,
      reportFile: this.report.reportFile,
      data: { workflowId: this.report.workflowId, runId: this.report.runId, failedSteps: failed.map((s) => ({ step: s.step, error: s.error?.split('\n')[0] })) },
    };
    try {
      await notify(alert);
    } catch (err) {
      if (isCancellation(err)) throw err;
    }
  }

  /** An alert raised by the run itself (a degraded model); resolves with how it was delivered. */
  async alert(alert: AlertInput): Promise<string> {
    try {
      return (await notify(alert)).delivery;
    } catch (err) {
      if (isCancellation(err)) throw err;
      return 'failed';
    }
  }

  private publish(): void {
    const status = this.report.finishedAt ? this.report.status : 'running';
    const running = [...this.running].map((s) => `⏳ **${s}** running`);
    setCurrentDetails([summarize({ ...this.report, status: status as RunReport['status'] }), ...running].join('\n\n'));
  }
}
