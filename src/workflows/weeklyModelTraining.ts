import { parseParams, weeklyTrainingParams, type WeeklyTrainingParams } from './params.js';
import { RunRecorder } from './run.js';
import type { RunReport } from './report.js';

/**
 * Weekly retraining: the price models (trend, peak, valley) in production mode, and the demand model
 * with its hyperparameter trials. One at a time: each uses every core, and a failure stops none of the
 * others. Each job promotes its model only if it beats the current one (the report says which did).
 */
export async function weeklyModelTraining(input: WeeklyTrainingParams = {}): Promise<RunReport> {
  const p = parseParams(weeklyTrainingParams, input);
  const run = new RunRecorder(p);
  await run.prepare(['prices_train', 'demand_train']);
  if (p.trainPriceModels) {
    for (const model of ['trend', 'peak', 'valley'] as const) {
      await run.step(`price model: ${model}`, 'prices_train', ['--model', model, '--production']);
    }
  }
  if (p.trainDemandModel) {
    await run.step('demand model', 'demand_train', ['--production', '--trials', String(p.demandTrials)]);
  }
  return run.finish();
}
