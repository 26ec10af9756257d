import { RunRecorder } from './run.js';
import type { RunReport } from './report.js';

/**
 * Every hour: spot prices, commodity prices (CO2, gas, coal) and weather, fetched in parallel.
 * A failed fetch does not stop the others; the report says which ones failed and why.
 */
export async function hourlyExogenousData(): Promise<RunReport> {
  const run = new RunRecorder({});
  await run.prepare(['prices_data', 'co2_gas_coal', 'weather_data']);
  await Promise.all([
    run.step('spot prices', 'prices_data'),
    run.step('CO2, gas and coal', 'co2_gas_coal'),
    run.step('weather', 'weather_data'),
  ]);
  return run.finish();
}
