// The API's choice of task queue for meter trainings; their names and shapes are in src/contracts/trainings.ts.

/**
 * The API and `hea train-meters` work on the meter trainings' own task queue (temporal.meterTaskQueue):
 * trainings start there and /health/worker asks about its workers, so pipelines and trainings scale apart.
 */
export function onMeterTaskQueue<T extends { target: { namespace: string }; config: { temporal: { meterTaskQueue: string } } }>(
  app: T,
): T & { target: { namespace: string; taskQueue: string } } {
  return { ...app, target: { namespace: app.target.namespace, taskQueue: app.config.temporal.meterTaskQueue } };
}
