import { ActivityFailure, proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';
import type { RunRecorder } from './run.js';

const { publishPlanToHome } = proxyActivities<Activities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '5s', maximumAttempts: 3 },
});

export const PUBLISH_STEP = 'plan to the home (MQTT)';

/**
 * After a plan: its sensors over MQTT (Home Assistant discovery). A broker that is down costs the home its
 * sensors' update, not the plan: the step fails and the run goes on.
 */
export async function publishPlan(run: RunRecorder): Promise<void> {
  try {
    const res = await publishPlanToHome();
    if (res.published) run.note(PUBLISH_STEP, 'success', res.detail, { messages: res.messages, issued_at: res.issuedAt });
    else run.skip(PUBLISH_STEP, '-', res.detail);
  } catch (err) {
    const cause = err instanceof ActivityFailure && err.cause ? err.cause : err;
    run.note(PUBLISH_STEP, 'failed', cause instanceof Error ? cause.message : String(cause));
  }
}
