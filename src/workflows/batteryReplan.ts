import { sleep } from '@temporalio/workflow';
import { batteryReplanParams, parseParams, type BatteryReplanParams } from './params.js';
import { publishPlan } from './planHome.js';
import { RunRecorder } from './run.js';
import type { RunReport } from './report.js';

const HOUR_MS = 3_600_000;

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
  if (plan.status === 'success' && (await publishPlan(run))) {
    // The sensors describe the hour under way, and the new plan starts at the next full hour: when that is
    // close (the hourly re-plan at :50), publish again as it starts, so the setpoint does not lag an hour.
    const untilHour = Math.ceil(Date.now() / HOUR_MS) * HOUR_MS - Date.now();
    if (untilHour <= p.republishWithinMinutes * 60_000) {
      await sleep(untilHour + 5_000);
      await publishPlan(run, 'plan to the home at the hour (MQTT)');
    }
  }
  return run.finish({ essential: (s) => s.job === 'rl_control' });
}
