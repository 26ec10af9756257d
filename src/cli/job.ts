// `hea job <name>`: one job of the registry now, through Temporal, with its configured timeouts and retries;
// with --runs or --each, a batch of its runs from one workflow (runJobBatch).
import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { z } from 'zod';
import { BATCH_MAX_CONCURRENCY } from '../contracts/jobs.js';
import { awaitResult, followRun } from '../follow.js';
import type { JobBatchSummary } from '../workflows/runJobBatch.js';
import { usageError, withApp, type ConfigFile } from './withApp.js';

/** A workflow's input is one payload: the server refuses one over 2 MB. Leave room for the rest of it. */
const EACH_MAX_BYTES = 1_500_000;

const wholeNumber = (flag: string, min: number, max: number) =>
  z
    .string()
    .regex(/^\d+$/, `${flag} must be a whole number`)
    .transform(Number)
    .pipe(z.number().int().min(min, `${flag} must be at least ${min}`).max(max, `${flag} must be at most ${max}`));

const batchFlagsSchema = z
  .object({
    runs: wholeNumber('--runs', 1, 1_000_000).optional(),
    each: z.string().min(1, '--each needs a file').optional(),
    concurrency: wholeNumber('--concurrency', 1, BATCH_MAX_CONCURRENCY).optional(),
  })
  .refine((f) => !(f.runs !== undefined && f.each !== undefined), { message: '--runs and --each exclude each other', path: ['runs'] })
  .refine((f) => f.concurrency === undefined || f.runs !== undefined || f.each !== undefined, {
    message: '--concurrency needs --runs or --each',
    path: ['concurrency'],
  });

const ARGV_LINE = 'expected a JSON array of strings, such as ["--day", "2026-01-01"]';
const argvLine = z.array(z.string());

export interface BatchRequest {
  runs?: number;
  each?: string[][];
  concurrency: number;
}

export type BatchFlags = { ok: true; batch?: BatchRequest } | { ok: false; problems: string[] };

/**
 * `--each FILE`: one run per line, each line a JSON array of strings (the run's extra arguments); blank lines
 * and lines starting with # are skipped. Problems name the file and line.
 */
export function parseEachFile(file: string, text: string): { ok: true; each: string[][] } | { ok: false; problems: string[] } {
  const each: string[][] = [];
  const problems: string[] = [];
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (!line || line.startsWith('#')) return;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      problems.push(`--each ${file}:${i + 1}: not JSON; ${ARGV_LINE}`);
      return;
    }
    const parsed = argvLine.safeParse(value);
    if (parsed.success) each.push(parsed.data);
    else problems.push(`--each ${file}:${i + 1}: ${ARGV_LINE}`);
  });
  if (!problems.length && !each.length) problems.push(`--each ${file}: no runs (one JSON array of arguments per line)`);
  if (!problems.length && Buffer.byteLength(JSON.stringify(each)) > EACH_MAX_BYTES) {
    problems.push(`--each ${file}: over ${EACH_MAX_BYTES / 1e6} MB of arguments, too large for one workflow's input; split the file`);
  }
  return problems.length ? { ok: false, problems: problems.slice(0, 20) } : { ok: true, each };
}

/** The batch flags, checked before anything starts: undefined batch means a single run. */
export function parseBatchFlags(
  opts: { runs?: string; each?: string; concurrency?: string },
  defaultConcurrency: number,
  read = (f: string) => readFileSync(f, 'utf8'),
): BatchFlags {
  const parsed = batchFlagsSchema.safeParse(opts);
  if (!parsed.success) return { ok: false, problems: parsed.error.issues.map((i) => i.message) };
  const { runs, each: file, concurrency } = parsed.data;
  if (runs === undefined && file === undefined) return { ok: true };
  let each: string[][] | undefined;
  if (file !== undefined) {
    let text: string;
    try {
      text = read(file);
    } catch (err) {
      return { ok: false, problems: [`--each ${file}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message}`] };
    }
    const lines = parseEachFile(file, text);
    if (!lines.ok) return lines;
    each = lines.each;
  }
  return { ok: true, batch: { ...(runs !== undefined ? { runs } : {}), ...(each ? { each } : {}), concurrency: concurrency ?? defaultConcurrency } };
}

export function buildJobCommand(configFile: ConfigFile): Command {
  return new Command('job')
    .description('run one job of the registry now, through Temporal, with its configured timeouts and retries; --runs or --each: a batch of runs')
    .argument('<name>', 'a job name from config (jobs:)')
    .argument('[args...]', "extra arguments for the job (for a batch: for every run, before the run's own from --each)")
    .option('--runs <n>', 'run the job n times, from one workflow (runJobBatch)')
    .option('--each <file>', 'one run per line of the file, each line a JSON array of extra arguments, e.g. ["--day", "2026-01-01"]')
    .option('--concurrency <n>', 'runs at once in a batch (default: worker.maxConcurrentActivities, the job slots)')
    .option('--json', 'print the outcome (a batch: its summary) as JSON')
    .action(async (name: string, args: string[], opts: { json?: boolean; runs?: string; each?: string; concurrency?: string }) => {
      const config = (await import('../config/load.js')).loadConfigOrExit(configFile());
      const jobs = config.jobs;
      if (!jobs[name]) usageError(`unknown job "${name}"; jobs: ${Object.keys(jobs).join(', ')}`);
      const flags = parseBatchFlags(opts, config.worker.maxConcurrentActivities);
      if (!flags.ok) usageError(flags.problems.join('\n'));
      if (flags.batch) return runBatch(configFile, name, args, flags.batch, opts.json ?? false);
      await withApp(configFile, { worker: 'if-none' }, async (app) => {
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
          return true;
        } catch (err) {
          const { summarizeFailure } = await import('../contracts/failures.js'); // the SDK: loaded when needed
          process.stderr.write(`hea: job ${name} failed: ${summarizeFailure(err).fullMessage}\n`);
          return false;
        }
      });
    });
}

/** A batch: one runJobBatch workflow; exit 0 when every run succeeded, 1 otherwise. */
async function runBatch(configFile: ConfigFile, name: string, args: string[], batch: BatchRequest, json: boolean): Promise<never> {
  return withApp(configFile, { worker: 'if-none' }, async (app) => {
    const { summarizeFailure } = await import('../contracts/failures.js');
    const workflowId = `job-batch-${name}-${new Date().toISOString().replace(/[:.]/g, '-')}`;
    try {
      const total = batch.each?.length ?? batch.runs ?? 0;
      const handle = await app.client.workflow.start('runJobBatch', {
        taskQueue: app.target.taskQueue,
        workflowId,
        args: [{ job: name, ...(args.length ? { args } : {}), ...batch }],
        staticSummary: `${total} runs of ${name}, ${batch.concurrency} at a time`,
      });
      if (!json) process.stderr.write(`batch ${workflowId}: ${total} runs of ${name}, ${batch.concurrency} at a time\n`);
      const summary = (await awaitResult(handle)) as JobBatchSummary;
      if (json) process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
      else {
        for (const f of summary.failures) process.stdout.write(`run ${f.index} ${JSON.stringify(f.args)}: ${f.errorType}: ${f.message}\n`);
        if (summary.failed > summary.failures.length) process.stdout.write(`... and ${summary.failed - summary.failures.length} more failed runs\n`);
        const seconds = summary.durationMs / 1000;
        process.stdout.write(
          `${summary.succeeded}/${summary.total} succeeded, ${summary.failed} failed in ${seconds.toFixed(1)} s (${(summary.total / Math.max(seconds, 1e-3)).toFixed(1)} runs/s, ${summary.local ? 'local activities' : 'activities'})\n`,
        );
      }
      return summary.failed === 0;
    } catch (err) {
      process.stderr.write(`hea: batch ${workflowId} failed: ${summarizeFailure(err).fullMessage}\n`);
      return false;
    }
  });
}
