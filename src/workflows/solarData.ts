import { runDag } from './dag.js';
import { RunRecorder } from './run.js';
import type { RunReport } from './report.js';

/** Daily: yesterday's actual solar production, then the solar forecast. */
export async function solarData(): Promise<RunReport> {
  const run = new RunRecorder({});
  await run.prepare(['solar_actual', 'solar_predictions']);
  await runDag(run, [
    { step: 'solar production (actual)', job: 'solar_actual' },
    { step: 'solar forecast', job: 'solar_predictions', needs: ['solar production (actual)'] },
  ]);
  return run.finish();
}
