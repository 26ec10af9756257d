import { patched } from '@temporalio/workflow';
import { runDag, type DagStep } from './dag.js';
import { dailyPipelineParams, parseParams, type DailyPipelineParams } from './params.js';
import { RunRecorder } from './run.js';
import type { RunReport } from './report.js';
import { DATA_UPDATES } from './updates.js';
import { scoreForecasts } from './accuracy.js';
import { publishPlan } from './planHome.js';

/**
 * Daily at 06:00: the data updates in parallel, then the forecasts (solar, prices with the chosen model
 * and horizon, demand), then tomorrow's battery plan, which goes to the home over MQTT as the re-plans do
 * (a no-op without a broker). Each step starts as soon as its own inputs are in; a failed step skips what
 * depends on it and the rest carries on: the run ends `partial`, not failed.
 * With yesterday's actuals in, the forecasts are scored (a degraded model raises an alert and retrains
 * early); last, the daily report: the hourly plan table and the charts, beside the run's report.
 */
export async function dailyEnergyPipeline(input: DailyPipelineParams = {}): Promise<RunReport> {
  const p = parseParams(dailyPipelineParams, input);
  const run = new RunRecorder(p);
  const horizon = ['--horizon-days', String(p.horizonDays)];
  const steps: DagStep[] = [];
  if (p.updateData) {
    steps.push(...Object.entries(DATA_UPDATES).map(([job, step]) => ({ step, job })));
  }
  if (p.runSolarPredictions) {
    steps.push({ step: 'solar forecast', job: 'solar_predictions', args: horizon, needs: ['weather', 'solar production (actual)'] });
  }
  if (p.runPricePredictions) {
    steps.push({
      step: `price forecast (${p.priceModel})`,
      job: 'price_predictions',
      args: ['--model', p.priceModel, ...horizon],
      needs: ['spot prices', 'CO2, gas and coal', 'weather'],
    });
  }
  if (p.runDemandPredictions) {
    steps.push({ step: 'demand forecast', job: 'demand_predictions', args: horizon, needs: ['consumption', 'heat pump (Thermia)', 'weather'] });
  }
  if (p.runBatteryPlan) {
    steps.push({
      step: 'battery plan',
      job: 'rl_control',
      needs: ['solar forecast', `price forecast (${p.priceModel})`, 'demand forecast'],
    });
  }
  await run.prepare([...steps.map((s) => s.job), 'accuracy_score', 'daily_report']);
  const outcomes = await runDag(run, steps);
  // Histories recorded before the daily plan was published have no marker: they replay without the step.
  if (outcomes.some((s) => s.job === 'rl_control' && s.status === 'success') && patched('daily-plan-publish')) {
    await publishPlan(run);
  }
  if (patched('daily-accuracy-and-report')) {
    await scoreForecasts(run);
    await run.step('daily report', 'daily_report', ['--report-name', run.reportName]);
  }
  return run.finish();
}
