// The workflows the worker registers: one file per pipeline.
export { hourlyExogenousData } from './hourlyExogenousData.js';
export { runSingleJob } from './runSingleJob.js';
