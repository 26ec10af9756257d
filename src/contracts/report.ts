// Run reports: the result of every workflow, rendered to Markdown by the writeReport activity, summarised
// in the Web UI and printed by the CLI. Shapes only (and the report's file name): every layer may use them.
import type { JobError } from './jobs.js';
import type { DatasetFreshness } from './freshness.js';

export type StepStatus = 'success' | 'failed' | 'skipped';
export type RunStatus = 'success' | 'partial' | 'failed';

export interface StepReport {
  step: string;
  job: string;
  status: StepStatus;
  attempts?: number;
  startedAt?: string;
  durationMs?: number;
  error?: string;
  errorType?: string;
  /** The job's own structured error line (`{"error": {...}}`), when a failed job printed one. */
  jobError?: JobError;
  /** Key figures from the job's result line. */
  result?: Record<string, unknown>;
}

export interface RunReport {
  workflow: string;
  workflowId: string;
  runId: string;
  status: RunStatus;
  startedAt: string;
  finishedAt?: string;
  durationMs?: number;
  params: Record<string, unknown>;
  /**
   * The instant the run is about, its jobs' "now" (HEA_NOW): the scheduled time a schedule or backfill
   * started it for, or params.asOf; unset, the run is about its start.
   */
  asOf?: string;
  steps: StepReport[];
  /** Further results of the run (the freshness verdicts, ...), rendered as tables. */
  tables?: ReportTable[];
  /** The freshness check's verdicts, typed (dataFreshness): what `hea freshness` counts, never its table. */
  datasets?: DatasetFreshness[];
  /** Pictures beside the report (SVG charts written by a report job), relative to the reports folder. */
  images?: ReportImage[];
  /** Further files beside the report (full figures as JSON), relative to the reports folder. */
  files?: ReportFile[];
  /** Where the Markdown report was written, when it was. */
  reportFile?: string;
}

export interface ReportImage {
  title: string;
  file: string;
}

export interface ReportFile {
  title: string;
  file: string;
}

/**
 * What a report job adds to its run's report: tables, charts and files it wrote beside the report (in
 * the folder named by reportBaseName). Returned under the `report` key of the job's result.
 */
export interface ReportSection {
  tables?: ReportTable[];
  images?: ReportImage[];
  files?: ReportFile[];
}

/** The report's file name without `.md`, known from the start: its report job's files go in a folder of that name. */
export function reportBaseName(report: Pick<RunReport, 'workflow' | 'startedAt' | 'runId'>): string {
  return `${report.workflow}-${report.startedAt.replace(/[:.]/g, '-')}-${report.runId.slice(0, 8)}`;
}

export interface ReportTable {
  title: string;
  columns: string[];
  rows: (string | number | boolean | null)[][];
}
