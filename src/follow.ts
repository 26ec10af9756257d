// Live progress of a run for `hea run`: the workflow's report query plus its running jobs' heartbeats.
import type { WorkflowHandle } from '@temporalio/client';
import type { RunReport } from './workflows/report.js';
import type { JobHeartbeat } from './activities/index.js';
import { reportQueryName } from './workflows/names.js';

export interface RunningJob {
  step: string;
  heartbeat?: JobHeartbeat;
  attempt: number;
}

export interface Snapshot {
  report?: RunReport;
  running: RunningJob[];
}

export async function snapshot(handle: WorkflowHandle): Promise<Snapshot> {
  const [report, description] = await Promise.all([handle.query<RunReport>(reportQueryName).catch(() => undefined), handle.describe()]);
  const pending = description.raw.pendingActivities ?? [];
  const dataConverter = handle.client.options.loadedDataConverter;
  const running: RunningJob[] = [];
  for (const act of pending) {
    let heartbeat: JobHeartbeat | undefined;
    const payload = act.heartbeatDetails?.payloads?.[0];
    if (payload) {
      heartbeat = (await dataConverter.payloadConverter.fromPayload(payload)) as JobHeartbeat;
    }
    running.push({ step: heartbeat?.job ?? act.activityType?.name ?? '?', heartbeat, attempt: act.attempt ?? 1 });
  }
  return { report, running };
}

/** How long `hea run` keeps asking for its run's result while Temporal does not answer (a restart). */
export const RECONNECT_FOR_MS = 10 * 60_000;

/**
 * The run's result. A failure to reach Temporal (the server or the `hea start` next to it restarting) is
 * not the run's failure: ask again, every second, until `retryForMs` has passed without an answer.
 */
export async function awaitResult<T = unknown>(handle: WorkflowHandle, options: { retryForMs?: number; onRetry?: (err: unknown) => void } = {}): Promise<T> {
  // Imported here: the CLI loads the SDK only for commands that connect.
  const { WorkflowFailedError, WorkflowNotFoundError } = await import('@temporalio/client');
  const retryForMs = options.retryForMs ?? RECONNECT_FOR_MS;
  let failingSince: number | undefined;
  for (;;) {
    try {
      return (await handle.result()) as T;
    } catch (err) {
      if (err instanceof WorkflowFailedError || err instanceof WorkflowNotFoundError) throw err;
      failingSince ??= Date.now();
      if (Date.now() - failingSince > retryForMs) throw err;
      options.onRetry?.(err);
      await new Promise((r) => setTimeout(r, 1_000));
    }
  }
}

function bar(pct: number, width = 20): string {
  const full = Math.round((pct / 100) * width);
  return `[${'#'.repeat(full)}${'-'.repeat(width - full)}]`;
}

/** Prints progress until the run ends: redrawn lines on a TTY, plain lines (on change only) otherwise. */
export async function followRun(handle: WorkflowHandle, out: NodeJS.WriteStream, intervalMs = 500, result: Promise<unknown> = awaitResult(handle)): Promise<void> {
  const tty = Boolean(out.isTTY);
  let lastPlain = '';
  let drawn = 0;
  let done = false;
  void result.then(
    () => (done = true),
    () => (done = true),
  );
  while (!done) {
    const snap = await snapshot(handle).catch(() => undefined);
    if (snap) {
      const lines = [
        ...(snap.report?.steps ?? []).map((s) => `  ${s.status === 'success' ? '✔' : s.status === 'failed' ? '✘' : '-'} ${s.step}: ${s.status}`),
        ...snap.running.map((r) => {
          const h = r.heartbeat;
          const pct = h?.progress ?? 0;
          const what = [h?.stage, h?.message].filter(Boolean).join(': ');
          const attempt = r.attempt > 1 ? ` (attempt ${r.attempt})` : '';
          return tty ? `  ${bar(pct)} ${pct.toFixed(0).padStart(3)}% ${r.step}${attempt} ${what}` : `  ${r.step}${attempt}: ${pct.toFixed(0)}% ${what}`;
        }),
      ];
      if (tty) {
        if (drawn) out.write(`\x1b[${drawn}A\x1b[J`);
        out.write(lines.join('\n') + (lines.length ? '\n' : ''));
        drawn = lines.length;
      } else {
        const text = snap.running.map((r) => `${r.step} ${r.heartbeat?.progress ?? 0}% ${r.heartbeat?.stage ?? ''}`).join(' | ');
        if (text && text !== lastPlain) out.write(`progress: ${text}\n`);
        lastPlain = text;
      }
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  if (tty && drawn) out.write(`\x1b[${drawn}A\x1b[J`);
}
