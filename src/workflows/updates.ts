// The data fetches that other flows start with: one table, so every flow names a fetch the same way.
import type { RunRecorder } from './run.js';

export const DATA_UPDATES = {
  prices_data: 'spot prices',
  co2_gas_coal: 'CO2, gas and coal',
  weather_data: 'weather',
  consumption_data: 'consumption',
  thermia_data: 'heat pump (Thermia)',
  solar_actual: 'solar production (actual)',
} as const;

export type DataJob = keyof typeof DATA_UPDATES;

/**
 * Runs the given fetches in parallel before a training. A failed fetch is reported but does not stop
 * the training: the models then learn from the data already stored, which is what a retraining wants.
 */
const UPDATE_PREFIX = 'update: ';

/** The steps of a run that are not its data updates. */
export function isTraining(step: { step: string }): boolean {
  return !step.step.startsWith(UPDATE_PREFIX);
}

export async function refreshData(run: RunRecorder, jobs: DataJob[]): Promise<void> {
  await Promise.all(jobs.map((job) => run.step(`${UPDATE_PREFIX}${DATA_UPDATES[job]}`, job)));
}
