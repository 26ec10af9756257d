import { patched } from '@temporalio/workflow';
import { parseParams, weeklyTrainingParams, type WeeklyTrainingParams } from './params.js';
import { RunRecorder } from './run.js';
import type { RunReport } from './report.js';
import { isTraining, refreshData, type DataJob } from './updates.js';

const REPORT_STEP = 'training report';

/**
 * Weekly retraining, on freshly fetched data: the price models (trend, peak, valley) in production mode, and the demand model
 * with its hyperparameter trials. One at a time: each uses every core, and a failure stops none of the
 * others. Each job promotes its model only if it beats the current one (the report says which did).
 */
export async function weeklyModelTraining(input: WeeklyTrainingParams = {}): Promise<RunReport> {
  const p = parseParams(weeklyTrainingParams, input);
  const run = new RunRecorder(p);
  const updates: DataJob[] = [];
  if (p.updateData && p.trainPriceModels) updates.push('prices_data', 'co2_gas_coal', 'weather_data');
  if (p.updateData && p.trainDemandModel) updates.push('consumption_data', 'thermia_data', 'weather_data');
  const fetches = [...new Set(updates)];
  await run.prepare(['prices_train', 'demand_train', 'training_report', ...fetches]);
  await refreshData(run, fetches);
  if (p.trainPriceModels) {
    for (const model of ['trend', 'peak', 'valley'] as const) {
      await run.step(`price model: ${model}`, 'prices_train', ['--model', model, '--production']);
    }
  }
  if (p.trainDemandModel) {
    await run.step('demand model', 'demand_train', ['--production', '--trials', String(p.demandTrials)]);
  }
  // Holdout forecast against actual and the serving models' metric history, beside the run's report.
  const models = [...(p.trainPriceModels ? ['price_trend', 'price_peak', 'price_valley'] : []), ...(p.trainDemandModel ? ['demand'] : [])];
  if (patched('training-report')) await run.step(REPORT_STEP, 'training_report', ['--report-name', run.reportName, ...models.flatMap((m) => ['--model', m])]);
  // Fetches (or the report) alone succeeding do not make a training run a success: it fails when no training did.
  return run.finish({ essential: (s) => isTraining(s) && s.step !== REPORT_STEP });
}
