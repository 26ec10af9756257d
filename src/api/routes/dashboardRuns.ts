// The "runs" view: recent workflow runs with the outcome their report gives (success / partial / failed),
// the schedules with their next run (from Temporal), and the meter models with their holdout score
// against naive (models/<type>/<id>.json, written by jobs/meters/train.py).
import { readdir, readFile } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { WorkflowFailedError, type Client, type WorkflowExecutionInfo } from '@temporalio/client';
import type { RunReport } from '../../workflows/report.js';
import type { RunsResponse } from './dashboardSchemas.js';

const RUNS_SHOWN = 25;
const MAX_MODELS = 500;

type Run = RunsResponse['runs'][number];

export interface RunsDeps {
  client: Client;
  namespace: string;
  /** The Temporal Web UI's base address, when known (the embedded server's). */
  webUi?: string;
  reportsDir: string;
  modelsDir: string;
}

function isReport(value: unknown): value is RunReport {
  const r = value as RunReport | undefined;
  return Boolean(r && typeof r === 'object' && Array.isArray(r.steps) && ['success', 'partial', 'failed'].includes(r.status));
}

/** The run's report: its result, or for a failed run the report carried in the failure's details. */
async function reportOf(client: Client, info: WorkflowExecutionInfo): Promise<RunReport | undefined> {
  const handle = client.workflow.getHandle(info.workflowId, info.runId);
  try {
    const result = await handle.result();
    return isReport(result) ? result : undefined;
  } catch (err) {
    const details = err instanceof WorkflowFailedError ? (err.cause as { details?: unknown[] } | undefined)?.details : undefined;
    return isReport(details?.[0]) ? details[0] : undefined;
  }
}

function reportLink(reportsDir: string, file: string | undefined): string | null {
  if (!file) return null;
  const rel = relative(reportsDir, file);
  if (rel.startsWith('..') || rel.startsWith(sep) || rel === '') return null;
  return `/reports/${rel.split(sep).map(encodeURIComponent).join('/')}`;
}

async function describeRun(deps: RunsDeps, info: WorkflowExecutionInfo): Promise<Run> {
  const temporalStatus = info.status.name;
  const closed = info.closeTime ?? null;
  const report = temporalStatus === 'COMPLETED' || temporalStatus === 'FAILED' ? await reportOf(deps.client, info) : undefined;
  let status: Run['status'];
  if (temporalStatus === 'RUNNING') status = 'running';
  else if (report) status = report.status;
  else if (temporalStatus === 'COMPLETED') status = 'success';
  else if (['FAILED', 'TERMINATED', 'TIMED_OUT'].includes(temporalStatus)) status = 'failed';
  else status = 'other';
  const count = (s: string) => report?.steps.filter((step) => step.status === s).length ?? 0;
  return {
    workflow: info.type,
    workflow_id: info.workflowId,
    run_id: info.runId,
    temporal_status: temporalStatus,
    status,
    started_at: info.startTime.toISOString(),
    closed_at: closed ? closed.toISOString() : null,
    duration_ms: closed ? closed.getTime() - info.startTime.getTime() : null,
    steps: report ? { success: count('success'), failed: count('failed'), skipped: count('skipped') } : null,
    web_ui: deps.webUi ? `${deps.webUi}/namespaces/${encodeURIComponent(deps.namespace)}/workflows/${encodeURIComponent(info.workflowId)}/${info.runId}/history` : null,
    report: reportLink(deps.reportsDir, report?.reportFile),
  };
}

export async function recentRuns(deps: RunsDeps): Promise<Run[]> {
  const infos: WorkflowExecutionInfo[] = [];
  for await (const info of deps.client.workflow.list({ pageSize: RUNS_SHOWN })) {
    infos.push(info);
    if (infos.length >= RUNS_SHOWN) break;
  }
  infos.sort((a, b) => b.startTime.getTime() - a.startTime.getTime());
  return Promise.all(infos.map((info) => describeRun(deps, info)));
}

export async function schedules(deps: RunsDeps): Promise<RunsResponse['schedules']> {
  const out: RunsResponse['schedules'] = [];
  for await (const s of deps.client.schedule.list()) {
    const last = s.info.recentActions.at(-1);
    out.push({
      id: s.scheduleId,
      workflow: s.action?.workflowType ?? null,
      paused: s.state.paused,
      note: s.state.note ?? null,
      next_run: s.info.nextActionTimes[0]?.toISOString() ?? null,
      last_run: last ? last.takenAt.toISOString() : null,
      web_ui: deps.webUi ? `${deps.webUi}/namespaces/${encodeURIComponent(deps.namespace)}/schedules/${encodeURIComponent(s.scheduleId)}` : null,
    });
  }
  return out.sort((a, b) => (a.next_run ?? '~').localeCompare(b.next_run ?? '~'));
}

interface MeterMeta {
  meter_id?: string;
  meter_type?: string;
  version?: string;
  trained_at?: string;
  metrics?: Record<string, unknown>;
}

const finite = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

export async function meterModels(modelsDir: string): Promise<RunsResponse['meter_models']> {
  const types = await readdir(modelsDir, { withFileTypes: true }).catch(() => []);
  const out: RunsResponse['meter_models'] = [];
  for (const type of types.filter((t) => t.isDirectory()).sort((a, b) => a.name.localeCompare(b.name))) {
    const files = (await readdir(join(modelsDir, type.name)).catch(() => [] as string[])).filter((f) => f.endsWith('.json')).sort();
    for (const file of files) {
      if (out.length >= MAX_MODELS) return out;
      let meta: MeterMeta;
      try {
        meta = JSON.parse(await readFile(join(modelsDir, type.name, file), 'utf8')) as MeterMeta;
      } catch {
        continue; // being replaced, or not a meter model's metadata
      }
      if (!meta.meter_id || !meta.metrics) continue;
      const mae = finite(meta.metrics.mae);
      const baselines = [
        ['same time yesterday', finite(meta.metrics.baseline_yesterday_mae)],
        ['7-day same hour', finite(meta.metrics.baseline_7day_mae)],
      ].filter((b): b is [string, number] => b[1] !== null);
      const best = baselines.sort((a, b) => a[1] - b[1])[0];
      const skill = mae !== null && best && best[1] > 0 ? 1 - mae / best[1] : null;
      out.push({
        meter_type: meta.meter_type ?? type.name,
        meter_id: meta.meter_id,
        version: meta.version ?? null,
        trained_at: meta.trained_at ?? null,
        mae,
        naive_mae: best?.[1] ?? null,
        naive: best?.[0] ?? null,
        skill,
        status: skill === null ? 'unscored' : skill > 0 ? 'beats naive' : 'worse than naive',
      });
    }
  }
  return out;
}
