import { z } from 'zod';
import type { JobError, JobProgress } from '../contracts/jobs.js';

// The job protocol (docs/job-protocol.md): JSON lines on stdout, sysexits exit codes.

export const progressSchema = z.object({
  progress: z.number().min(0).max(100),
  stage: z.string().max(200).optional(),
  message: z.string().max(2_000).optional(),
});
export type { JobProgress } from '../contracts/jobs.js';

export const resultSchema = z.object({ result: z.record(z.string(), z.unknown()) });

/** `{"error": {"type": "DataError", "message": "...", "field": "meter_id"}}`: the job's own account of its failure. */
export const errorSchema = z.object({
  error: z.object({
    type: z.string().min(1).max(200),
    message: z.string().max(4_000),
    field: z.string().max(200).optional(),
  }),
});

export type ProtocolLine =
  | { kind: 'progress'; progress: JobProgress }
  | { kind: 'result'; result: Record<string, unknown> }
  | { kind: 'error'; error: JobError }
  | { kind: 'log'; text: string }
  /** Looked like a protocol message but broke the schema: logged as a warning, never fatal. */
  | { kind: 'invalid'; text: string; problem: string };

export function parseLine(text: string): ProtocolLine {
  const trimmed = text.trim();
  if (!trimmed.startsWith('{')) return { kind: 'log', text };
  let value: unknown;
  try {
    value = JSON.parse(trimmed);
  } catch {
    return { kind: 'log', text };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return { kind: 'log', text };
  if ('result' in value) {
    const parsed = resultSchema.safeParse(value);
    return parsed.success ? { kind: 'result', result: parsed.data.result } : { kind: 'invalid', text, problem: describe(parsed.error) };
  }
  if ('error' in value) {
    const parsed = errorSchema.safeParse(value);
    return parsed.success ? { kind: 'error', error: parsed.data.error } : { kind: 'invalid', text, problem: describe(parsed.error) };
  }
  if ('progress' in value) {
    const parsed = progressSchema.safeParse(value);
    return parsed.success ? { kind: 'progress', progress: parsed.data } : { kind: 'invalid', text, problem: describe(parsed.error) };
  }
  return { kind: 'log', text };
}

function describe(error: z.ZodError): string {
  return error.issues.map((i) => `${i.path.join('.') || '(line)'}: ${i.message}`).join('; ');
}

/** sysexits.h: 64-78 say that running the job again will not help. */
export const SYSEXITS: Readonly<Record<number, string>> = {
  64: 'UsageError',
  65: 'DataError',
  66: 'NoInputError',
  67: 'NoUserError',
  68: 'NoHostError',
  69: 'UnavailableError',
  70: 'SoftwareError',
  71: 'OSError',
  72: 'OSFileError',
  73: 'CantCreateError',
  74: 'IOError',
  75: 'TempFailError',
  76: 'ProtocolError',
  77: 'NoPermissionError',
  78: 'ConfigError',
};

export interface ExitClass {
  type: string;
  retryable: boolean;
}

/** How an ended job is classified: the failure type and whether the retry policy applies. */
export function classifyExit(exitCode: number | undefined, signal: string | undefined): ExitClass | undefined {
  if (signal) return { type: 'JobKilled', retryable: true };
  if (exitCode === undefined || exitCode === 0) return undefined;
  const sysexit = SYSEXITS[exitCode];
  if (sysexit) return { type: sysexit, retryable: false };
  // Set by the supervisor when the command cannot be started: no retry will make it exist.
  if (exitCode === 127 || exitCode === 126) return { type: 'JobNotFound', retryable: false };
  return { type: 'JobFailed', retryable: true };
}
