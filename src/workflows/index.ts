// The workflows the worker registers: one file per pipeline.
export { hourlyExogenousData } from './hourlyExogenousData.js';
export { runSingleJob } from './runSingleJob.js';
export { meterModelTraining } from './meterModelTraining.js';
export { meterModelTrainingBulk } from './meterModelTrainingBulk.js';
