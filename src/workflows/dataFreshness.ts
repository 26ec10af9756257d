import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import { ParentClosePolicy, isCancellation, proxyActivities, startChild } from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';
import { isStale, type DatasetFreshness, type SeriesStatus } from '../contracts/freshness.js';
import { freshnessParams, parseParams, type FreshnessParams } from './params.js';
import { RunRecorder } from './run.js';
import type { RunReport } from './report.js';

const { checkFreshness, sendFreshnessAlert } = proxyActivities<Activities>({
  startToCloseTimeout: '1 minute',
  retry: { maximumAttempts: 3 },
});

/** The workflow id of a remediation run: one per flow, so overlapping checks cannot start a storm. */
export function remediationWorkflowId(flow: string): string {
  return `remediate-${flow}`;
}

/**
 * Every 15 minutes: is each dataset younger than its maximum age? Stale ones are logged and sent to the
 * webhook, and their fetch flow is started, once per flow: while a remediation of that flow runs, another
 * check finds its workflow id taken and leaves it alone.
 */
export async function dataFreshness(input: FreshnessParams = {}): Promise<RunReport> {
  const p = parseParams(freshnessParams, input);
  const run = new RunRecorder(p);
  await run.prepare(['store_status']);
  const status = await run.step('data store status', 'store_status');
  // A failed status read says nothing about the data: those datasets are unknown, not stale (no false
  // alarm, no refetch of everything).
  const series = status.status === 'success' ? ((status.result?.series ?? {}) as Record<string, SeriesStatus>) : undefined;
  const verdicts: DatasetFreshness[] = await checkFreshness(series);
  run.table({
    title: 'Datasets',
    columns: ['dataset', 'source', 'fresh', 'latest', 'age (h)', 'max age (h)', 'reason'],
    rows: verdicts.map((v) => [v.dataset, v.target, v.unknown ? '?' : v.is_fresh ? 'yes' : 'NO', v.latest ?? null, v.age_hours ?? null, v.max_age_hours, v.reason]),
  });
  run.datasets(verdicts);
  const stale = verdicts.filter(isStale);
  if (stale.length > 0 && p.alert) {
    try {
      const sent = await sendFreshnessAlert(stale);
      run.note('alert', 'success', `${stale.length} stale dataset(s) reported`, sent);
    } catch (err) {
      if (isCancellation(err)) throw err;
      run.note('alert', 'failed', `could not send the alert: ${(err as Error).message}`);
    }
  }
  if (p.remediate) {
    const flows = new Map<string, string>();
    for (const v of stale) if (v.remediate) flows.set(v.remediate.flow, v.remediate.workflow);
    for (const [flow, workflow] of flows) {
      try {
        await startChild(workflow, {
          workflowId: remediationWorkflowId(flow),
          args: [{}],
          parentClosePolicy: ParentClosePolicy.ABANDON,
          staticSummary: `remediation: stale data (${stale
            .filter((s) => s.remediate?.flow === flow)
            .map((s) => s.dataset)
            .join(', ')})`,
        });
        run.note(`remediate ${flow}`, 'success', `started ${remediationWorkflowId(flow)}`);
      } catch (err) {
        if (err instanceof WorkflowExecutionAlreadyStartedError) {
          // What was wanted (a fetch of this flow under way) holds: record it as done, not started twice.
          run.note(`remediate ${flow}`, 'success', 'already running: not started again');
        } else {
          throw err;
        }
      }
    }
  }
  return run.finish();
}
