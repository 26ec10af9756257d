import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { AppConfig } from '../config/load.js';
import type { RunReport, StepReport } from '../workflows/report.js';
import { formatDuration } from '../config/duration.js';

function cell(value: unknown): string {
  return String(value ?? '').replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

function figures(result: Record<string, unknown> | undefined): string {
  if (!result) return '';
  return Object.entries(result)
    .filter(([, v]) => v === null || ['string', 'number', 'boolean'].includes(typeof v))
    .slice(0, 8)
    .map(([k, v]) => `${k}=${typeof v === 'number' && !Number.isInteger(v) ? Number(v.toPrecision(4)) : v}`)
    .join(', ');
}

function nested(result: Record<string, unknown> | undefined): string[] {
  if (!result) return [];
  return Object.entries(result)
    .filter(([, v]) => v !== null && typeof v === 'object')
    .map(([k, v]) => `- \`${k}\`: \`${JSON.stringify(v).slice(0, 400)}\``);
}

export function renderMarkdown(report: RunReport): string {
  const counts = (status: StepReport['status']) => report.steps.filter((s) => s.status === status).length;
  const lines = [
    `# ${report.workflow}: ${report.status}`,
    '',
    `- Workflow id: \`${report.workflowId}\` (run \`${report.runId}\`)`,
    `- Started: ${report.startedAt}; finished: ${report.finishedAt ?? '-'}; took ${formatDuration(report.durationMs ?? 0)}`,
    `- Steps: ${counts('success')} succeeded, ${counts('failed')} failed, ${counts('skipped')} skipped`,
    `- Parameters: \`${JSON.stringify(report.params)}\``,
    '',
    '| step | job | status | attempts | duration | key figures / error |',
    '| --- | --- | --- | --- | --- | --- |',
    ...report.steps.map(
      (s) =>
        `| ${cell(s.step)} | \`${cell(s.job)}\` | ${s.status} | ${s.attempts ?? '-'} | ${
          s.durationMs !== undefined ? formatDuration(s.durationMs) : '-'
        } | ${cell(s.status === 'success' ? figures(s.result) : `${s.errorType ? `${s.errorType}: ` : ''}${s.error ?? ''}`)} |`,
    ),
  ];
  const details = report.steps.flatMap((s) => {
    const extra = nested(s.result);
    const err = s.status === 'failed' && s.error?.includes('\n') ? ['```', s.error, '```'] : [];
    return extra.length || err.length ? ['', `## ${s.step}`, '', ...extra, ...err] : [];
  });
  const tables = (report.tables ?? []).flatMap((t) => [
    '',
    `## ${t.title}`,
    '',
    `| ${t.columns.map(cell).join(' | ')} |`,
    `| ${t.columns.map(() => '---').join(' | ')} |`,
    ...t.rows.map((r) => `| ${r.map((v) => cell(v ?? '-')).join(' | ')} |`),
  ]);
  return [...lines, ...tables, ...details, ''].join('\n');
}

/** Writes the run's Markdown report under reports/, one file per run, named by workflow and time. */
export function createWriteReport(config: AppConfig) {
  return async function writeReport(report: RunReport): Promise<string> {
    await mkdir(config.dirs.reports, { recursive: true });
    const stamp = (report.finishedAt ?? report.startedAt).replace(/[:.]/g, '-');
    const file = join(config.dirs.reports, `${report.workflow}-${stamp}-${report.runId.slice(0, 8)}.md`);
    const tmp = `${file}.tmp`;
    await writeFile(tmp, renderMarkdown(report));
    await rename(tmp, file);
    return file;
  };
}
