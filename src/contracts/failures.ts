import { ActivityFailure, ApplicationFailure, CancelledFailure, ChildWorkflowFailure, TerminatedFailure, TimeoutFailure } from '@temporalio/common';
import type { JobError } from './jobs.js';

// The one way a failure becomes something a person or a report can read. Workflow-safe (it imports only
// @temporalio/common), so workflows, activities, the API and the CLI all use it.

/** What went wrong, without the wrappers: the failure type, its message and what the job said. */
export interface FailureSummary {
  /** The ApplicationFailure type (`DataError`, `JobTimedOut`, ...), or `Terminated`, `Cancelled`, `TimedOut`, `Error`. */
  type: string;
  /** The first line of the message: what a status line shows. */
  message: string;
  /** The whole message (a job's failure carries the tail of its stderr after the first line). */
  fullMessage: string;
  /** Attempts made, when the failure says so. */
  attempts?: number;
  /** The job's own structured error line (`{"error": {...}}`, docs/job-protocol.md), when it printed one. */
  jobError?: JobError;
  /** The ApplicationFailure's first detail, untyped: callers that attached one know its shape. */
  details?: unknown;
  /** Which timeout fired (`START_TO_CLOSE`, `HEARTBEAT`, ...), for a TimedOut failure. */
  timeoutType?: string;
}

/** A wrapper whose cause says more: activity, child workflow, or the client's WorkflowFailedError. */
function isWrapper(err: unknown): err is { cause?: unknown } {
  if (err instanceof ActivityFailure || err instanceof ChildWorkflowFailure) return true;
  // @temporalio/client's WorkflowFailedError (not importable in workflow code): known by its name.
  return err instanceof Error && err.name === 'WorkflowFailedError';
}

/** The innermost failure: unwraps activity, child-workflow and workflow-failed wrappers. */
export function rootFailure(err: unknown): unknown {
  let current = err;
  for (let depth = 0; depth < 8 && isWrapper(current) && current.cause !== undefined; depth++) current = current.cause;
  return current;
}

function firstLine(text: string): string {
  return text.split('\n')[0] ?? '';
}

/** Summarises any error thrown by a workflow, an activity, a child workflow or a client call. */
export function summarizeFailure(err: unknown): FailureSummary {
  const cause = rootFailure(err);
  if (cause instanceof ApplicationFailure) {
    const details = cause.details?.[0] as { attempt?: number; attempts?: number; jobError?: JobError } | undefined;
    const attempts = details?.attempts ?? details?.attempt;
    const jobError = details?.jobError;
    const message = jobError ? `${jobError.type}: ${jobError.message}` : firstLine(cause.message);
    return {
      type: cause.type ?? 'ApplicationFailure',
      message,
      fullMessage: cause.message,
      ...(attempts !== undefined ? { attempts } : {}),
      ...(jobError ? { jobError } : {}),
      ...(details !== undefined ? { details } : {}),
    };
  }
  const named = (type: string, fallback: string, e: Error) => ({
    type,
    message: firstLine(e.message) || fallback,
    fullMessage: e.message || fallback,
  });
  if (cause instanceof TerminatedFailure) return named('Terminated', 'terminated', cause);
  if (cause instanceof CancelledFailure) return named('Cancelled', 'cancelled', cause);
  if (cause instanceof TimeoutFailure) return { ...named('TimedOut', `timed out (${cause.timeoutType})`, cause), timeoutType: String(cause.timeoutType) };
  if (cause instanceof Error) return named(cause.name || 'Error', String(cause), cause);
  return { type: 'Error', message: firstLine(String(cause)), fullMessage: String(cause) };
}
