// After the actuals are in: score yesterday's forecasts, and when a serving model has fallen behind the
// naive forecasts, raise an alert and start its next retraining early, once per episode.
import { WorkflowExecutionAlreadyStartedError, WorkflowIdReusePolicy } from '@temporalio/common';
import { ParentClosePolicy, isCancellation, proxyActivities, startChild } from '@temporalio/workflow';
import type { Activities, RollingAccuracy } from '../activities/index.js';
import type { WeeklyTrainingParams } from './params.js';
import type { RunRecorder } from './run.js';

const { judgeAccuracy } = proxyActivities<Activities>({ startToCloseTimeout: '1 minute', retry: { maximumAttempts: 3 } });

/** The weekly-training parameters that retrain each kind's model (solar has no trained model to redo). */
const RETRAINING: Record<string, WeeklyTrainingParams | undefined> = {
  price: { trainPriceModels: true, trainDemandModel: false },
  demand: { trainPriceModels: false, trainDemandModel: true },
};

const fmt = (x: number) => Number(x.toPrecision(4));

export async function scoreForecasts(run: RunRecorder): Promise<void> {
  const scored = await run.step('forecast accuracy', 'accuracy_score');
  if (scored.status !== 'success') return;
  const degraded = await judgeAccuracy((scored.result?.rolling ?? []) as RollingAccuracy[]);
  for (const d of degraded) {
    const message =
      `${d.serving}${d.version ? ` ${d.version}` : ''}: ${d.window_days}-day MAE ${fmt(d.serving_mae)} against ${fmt(d.best_naive_mae)} for ${d.best_naive} ` +
      `(${d.days} day(s) scored; threshold +${Math.round(d.threshold * 100)}%)`;
    const delivery = await run.alert({ kind: 'degradation', subject: `degradation: ${d.kind} model ${d.serving}`, message, data: { ...d } });
    const params = RETRAINING[d.kind];
    if (!params) {
      run.note(`degradation: ${d.kind}`, 'success', `${message}; alert ${delivery}; no retraining for ${d.kind} models`);
      continue;
    }
    let outcome: string;
    try {
      await startChild('weeklyModelTraining', {
        workflowId: d.episode,
        args: [params],
        parentClosePolicy: ParentClosePolicy.ABANDON,
        workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
        staticSummary: `early retraining: ${d.kind} model ${d.serving} behind ${d.best_naive}`,
      });
      outcome = `retraining started early (${d.episode})`;
    } catch (err) {
      if (isCancellation(err) || !(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
      outcome = `retraining already started for this episode (${d.episode})`;
    }
    run.note(`degradation: ${d.kind}`, 'success', `${message}; alert ${delivery}; ${outcome}`, { episode: d.episode });
  }
}
