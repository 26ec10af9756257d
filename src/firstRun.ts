// First run: on a fresh clone no forecasting model is trained yet, so the first daily pipeline would end
// `partial`. `hea start` notices and starts one weekly training itself, visibly, under a fixed workflow id.
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { App } from './app.js';
import { FLOWS } from './contracts/flows.js';

/** The workflow id of the first training: fixed, so it runs once however often `hea start` starts. */
export const FIRST_TRAINING_ID = 'first-training';

/** Whether the models folder holds any trained model (meter models from the API do not count). */
export function hasTrainedModels(modelsDir: string, meterTypes: readonly string[]): boolean {
  if (!existsSync(modelsDir)) return false;
  return readdirSync(modelsDir, { withFileTypes: true })
    .filter((d) => d.isDirectory() && !meterTypes.includes(d.name))
    .some((d) => readdirSync(join(modelsDir, d.name)).some((f) => f.endsWith('.pkl')));
}

export type FirstTraining = { started: true; workflowId: string } | { started: false; why: string };

/**
 * Starts `weekly-training` once when no model is trained yet. A first training that failed is started
 * again by the next `hea start`; one that is running or has succeeded is not.
 */
export async function startFirstTraining(app: Pick<App, 'client' | 'config' | 'target' | 'logger'>): Promise<FirstTraining> {
  const { WorkflowExecutionAlreadyStartedError } = await import('@temporalio/client');
  if (!app.config.schedules.firstTraining) return { started: false, why: 'schedules.firstTraining is off' };
  if (hasTrainedModels(app.config.dirs.models, app.config.api.meterTypes)) return { started: false, why: 'models are trained' };
  try {
    const handle = await app.client.workflow.start(FLOWS['weekly-training'].workflow, {
      taskQueue: app.target.taskQueue,
      workflowId: FIRST_TRAINING_ID,
      workflowIdReusePolicy: 'ALLOW_DUPLICATE_FAILED_ONLY',
      args: [{}],
      staticSummary: 'weekly-training (first run: no trained models yet)',
    });
    app.logger.info(
      { workflowId: handle.workflowId, ui: app.target.uiUrl ? `${app.target.uiUrl}/namespaces/${app.target.namespace}/workflows/${handle.workflowId}` : undefined },
      'no trained models yet: started a first weekly-training now, so the daily pipeline has models to forecast with',
    );
    return { started: true, workflowId: handle.workflowId };
  } catch (err) {
    if (err instanceof WorkflowExecutionAlreadyStartedError) return { started: false, why: `${FIRST_TRAINING_ID} is running or has run` };
    throw err;
  }
}
