import { RunRecorder } from './run.js';
import type { RunReport } from './report.js';

/** Every 15 minutes: the household's consumption and the heat pump's readings, in parallel. */
export async function homeData(): Promise<RunReport> {
  const run = new RunRecorder({});
  await run.prepare(['consumption_data', 'thermia_data']);
  await Promise.all([run.step('consumption', 'consumption_data'), run.step('heat pump (Thermia)', 'thermia_data')]);
  return run.finish();
}
