// The workflows the worker registers: one file per pipeline.
export { hourlyExogenousData } from './hourlyExogenousData.js';
export { homeData } from './homeData.js';
export { solarData } from './solarData.js';
export { dailyEnergyPipeline } from './dailyEnergyPipeline.js';
export { weeklyModelTraining } from './weeklyModelTraining.js';
export { rlTraining } from './rlTraining.js';
export { dataFreshness } from './dataFreshness.js';
export { runSingleJob } from './runSingleJob.js';
export { runJobBatch } from './runJobBatch.js';
export { meterModelTraining } from './meterModelTraining.js';
export { meterModelTrainingBulk } from './meterModelTrainingBulk.js';
export { batteryReplan } from './batteryReplan.js';
