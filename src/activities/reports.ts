import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { AppConfig } from '../config/load.js';
import { reportBaseName, type RunReport, type StepReport } from '../contracts/report.js';
import { formatDuration } from '../config/duration.js';

function cell(value: unknown): string {
  return String(value ?? '')
    .replace(/\|/g, '\\|')
    .replace(/\n/g, ' ');
}

/** What a reader looks for first: accuracy against the baselines, then decisions, then volumes. */
const TIERS = [/mae|rmse|baseline|share|precision|rank_corr/i, /promot|best|champion|status/i, /rows_written|points|rows$/i];
const tier = (key: string) => {
  const i = TIERS.findIndex((re) => re.test(key));
  return i === -1 ? TIERS.length : i;
};

function format(v: unknown): string {
  return typeof v === 'number' && !Number.isInteger(v) ? String(Number(v.toPrecision(4))) : String(v);
}

/** The job result's scalar figures, nested ones flattened one level (`holdout.mae`), key figures first. */
export function figures(result: Record<string, unknown> | undefined, max = 10): string {
  if (!result) return '';
  const flat: [string, unknown][] = [];
  for (const [k, v] of Object.entries(result)) {
    if (v === null || ['string', 'number', 'boolean'].includes(typeof v)) flat.push([k, v]);
    else if (typeof v === 'object' && !Array.isArray(v)) {
      for (const [k2, v2] of Object.entries(v as Record<string, unknown>)) {
        if (v2 === null || ['number', 'boolean'].includes(typeof v2)) flat.push([`${k}.${k2}`, v2]);
      }
    }
  }
  const ranked = flat
    .map((f, i) => ({ f, i }))
    .sort((a, b) => tier(a.f[0]) - tier(b.f[0]) || a.i - b.i)
    .map(({ f }) => f);
  return ranked
    .filter(([, v]) => typeof v !== 'string' || (v as string).length <= 60)
    .slice(0, max)
    .map(([k, v]) => `${k}=${format(v)}`)
    .join(', ');
}

/** A result's nested figures, whole (never cut): JSON in a collapsed block. */
function nested(result: Record<string, unknown> | undefined): string[] {
  if (!result) return [];
  return Object.entries(result)
    .filter(([, v]) => v !== null && typeof v === 'object')
    .flatMap(([k, v]) => ['<details>', `<summary><code>${k}</code></summary>`, '', '```json', JSON.stringify(v, null, 2), '```', '', '</details>']);
}

export function renderMarkdown(report: RunReport): string {
  const counts = (status: StepReport['status']) => report.steps.filter((s) => s.status === status).length;
  const lines = [
    `# ${report.workflow}: ${report.status}`,
    '',
    `- Workflow id: \`${report.workflowId}\` (run \`${report.runId}\`)`,
    `- Started: ${report.startedAt}; finished: ${report.finishedAt ?? '-'}; took ${formatDuration(report.durationMs ?? 0)}`,
    `- Steps: ${counts('success')} succeeded, ${counts('failed')} failed, ${counts('skipped')} skipped`,
    ...(report.asOf ? [`- As of: ${report.asOf} (the time its schedule or backfill started it for; its jobs took this as now)`] : []),
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
  const images = (report.images ?? []).flatMap((i) => ['', `## ${i.title}`, '', `![${i.title}](${encodeURI(i.file)})`]);
  const files = report.files?.length ? ['', '## Files', '', ...report.files.map((f) => `- [${f.title}](${encodeURI(f.file)})`)] : [];
  return [...lines, ...tables, ...images, ...files, ...details, ''].join('\n');
}

/** Writes the run's Markdown report under reports/, one file per run, named by workflow and time. */
export function createWriteReport(config: AppConfig) {
  return async function writeReport(report: RunReport): Promise<string> {
    await mkdir(config.dirs.reports, { recursive: true });
    const file = join(config.dirs.reports, `${reportBaseName(report)}.md`);
    const tmp = `${file}.tmp`;
    await writeFile(tmp, renderMarkdown(report));
    await rename(tmp, file);
    return file;
  };
}
