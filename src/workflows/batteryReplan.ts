import { parseParams } from './params.js';
import { batteryReplanParams, type BatteryReplanParams } from './batteryReplanParams.js';
import { publishPlan } from './planHome.js';
import { RunRecorder } from './run.js';
import type { RunReport } from './report.js';

/**
 * The battery's control loop: a fresh plan from the next full hour to the end of tomorrow, on the latest
 * prices and the measured state of charge (receding-horizon MPC). Started after the day-ahead publication
 * (with a price fetch first), when an hourly fetch brings newly published prices, and every hour; then the
 * plan goes to the home over MQTT.
 */
export async function batteryReplan(input: BatteryReplanParams = {}): Promise<RunReport> {
  const p = parseParams(batteryReplanParams, input);
  const run = new RunRecorder(p);
  await run.prepare(p.fetchPrices ? ['prices_data', 'rl_control'] : ['rl_control']);
  // A failed fetch still leaves the prices already stored: plan on those.
  if (p.fetchPrices) await run.step('spot prices', 'prices_data');
  const plan = await run.step('battery plan', 'rl_control');
  if (plan.status === 'success') await publishPlan(run);
  return run.finish({ essential: (s) => s.job === 'rl_control' });
}
