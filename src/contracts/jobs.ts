// The job protocol's shared shapes (docs/job-protocol.md): what a job reports and how its failures read.
// Imports nothing of ours, so every layer may use it.

/** A job's progress line: `{"progress": 42, "stage": "training", "message": "fold 3 of 5"}`. */
export interface JobProgress {
  progress: number;
  stage?: string;
  message?: string;
}

/**
 * A job's structured error line: `{"error": {"type": "DataError", "message": "...", "field": "meter_id"}}`,
 * printed on stdout just before a failing exit (the Python side's `run_main` does it). The last one wins.
 */
export interface JobError {
  /** The exception's class or a sysexits name (`DataError`, `ConfigError`, ...). */
  type: string;
  /** One line for people. */
  message: string;
  /** The input field at fault, when there is one. */
  field?: string;
}

/** Failure details attached to every job failure (ApplicationFailure.details[0]). */
export interface JobFailureDetails {
  job: string;
  exitCode?: number;
  signal?: string;
  attempt: number;
  durationMs: number;
  lastProgress?: JobProgress;
  /** The job's own error line, when it printed one: preferred over the stderr tail. */
  jobError?: JobError;
  stderrTail: string[];
}

/** The most runs at once a batch (runJobBatch, `hea job --runs/--each`) may ask for; the worker's job slots bound it further. */
export const BATCH_MAX_CONCURRENCY = 256;
