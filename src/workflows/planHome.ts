import { proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';
import { summarizeFailure } from '../contracts/failures.js';
import type { RunRecorder } from './run.js';

const { publishPlanToHome } = proxyActivities<Activities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '5s', maximumAttempts: 3 },
});

export const PUBLISH_STEP = 'plan to the home (MQTT)';

/**
 * After a plan: its sensors over MQTT (Home Assistant discovery). A broker that is down costs the home its
 * sensors' update, not the plan: the step fails and the run goes on. Without a broker configured nothing is
 * recorded (MQTT is optional), so a home without one does not see every run end `partial`.
 */
export async function publishPlan(run: RunRecorder, step = PUBLISH_STEP): Promise<boolean> {
  try {
    const res = await publishPlanToHome();
    if (res.published) run.note(step, 'success', res.detail, { messages: res.messages, issued_at: res.issuedAt });
    else if (!res.off) run.skip(step, '-', res.detail);
    return res.published;
  } catch (err) {
    run.note(step, 'failed', summarizeFailure(err).fullMessage);
    return false;
  }
}
