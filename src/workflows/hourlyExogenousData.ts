import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import { ParentClosePolicy, startChild } from '@temporalio/workflow';
import { NEW_PRICES_REPLAN_ID, type BatteryReplanParams } from './params.js';
import { RunRecorder } from './run.js';
import type { RunReport, StepReport } from './report.js';

const REPLAN_STEP = 'battery re-plan (new prices)';

/**
 * Every hour: spot prices, commodity prices (CO2, gas, coal) and weather, fetched in parallel.
 * A failed fetch does not stop the others; the report says which ones failed and why. When the price fetch
 * brought newly published hours, the battery is re-planned on them.
 */
export async function hourlyExogenousData(): Promise<RunReport> {
  const run = new RunRecorder({});
  await run.prepare(['prices_data', 'co2_gas_coal', 'weather_data']);
  const [prices] = await Promise.all([run.step('spot prices', 'prices_data'), run.step('CO2, gas and coal', 'co2_gas_coal'), run.step('weather', 'weather_data')]);
  await replanOnNewPrices(run, prices);
  return run.finish();
}

/**
 * Starts the re-plan as a child that outlives this run, under a fixed id: a burst of fetches with new
 * prices starts one re-plan, not one each.
 */
async function replanOnNewPrices(run: RunRecorder, prices: StepReport): Promise<void> {
  const fresh = Number(prices.result?.new_future_hours ?? 0);
  if (prices.status !== 'success' || !(fresh > 0)) return;
  // At the top of the hour the plan's first hour is an hour away: nothing to publish again at its start.
  const params: BatteryReplanParams = { trigger: 'new-prices', republishWithinMinutes: 0 };
  try {
    await startChild('batteryReplan', {
      workflowId: NEW_PRICES_REPLAN_ID,
      args: [params],
      parentClosePolicy: ParentClosePolicy.ABANDON,
      staticSummary: `re-plan: ${fresh} newly published price hours`,
    });
    run.note(REPLAN_STEP, 'success', `${fresh} newly published hours: started ${NEW_PRICES_REPLAN_ID}`, { new_future_hours: fresh });
  } catch (err) {
    if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
    run.skip(REPLAN_STEP, '-', `${NEW_PRICES_REPLAN_ID} is already running`);
  }
}
