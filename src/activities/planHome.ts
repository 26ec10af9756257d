// After every plan: the plan's sensors over MQTT (Home Assistant discovery), when an MQTT broker is configured.
import type { AppConfig } from '../config/load.js';
import type { Logger } from '../logging.js';
import { openStoreReadOnly } from '../store/db.js';
import { readLatestPlan, readPlanNow } from '../store/plan.js';
import { discoveryMessages, stateMessages } from '../mqtt/homeAssistant.js';
import { publishRetained } from '../mqtt/publish.js';

export interface PlanPublished {
  published: boolean;
  /** No broker configured: publishing is optional, so the run records nothing for it. */
  off?: boolean;
  detail: string;
  messages?: number;
  issuedAt?: string;
}

export function createPlanHomeActivities(config: AppConfig, logger: Logger) {
  return {
    /** Publishes the latest plan's discovery configs and states (retained); a no-op while mqtt.url is unset. */
    async publishPlanToHome(): Promise<PlanPublished> {
      const cfg = config.mqtt;
      if (!cfg.url) return { published: false, off: true, detail: 'MQTT is off (mqtt.url is not set)' };
      const db = openStoreReadOnly(config.storeUrl, config.root);
      if (!db) return { published: false, detail: 'no data store yet' };
      let plan, now;
      try {
        plan = readLatestPlan(db);
        now = readPlanNow(db, new Date());
      } finally {
        db.close();
      }
      if (!plan || !now) return { published: false, detail: 'no plan in the store yet' };
      const messages = [...discoveryMessages(cfg), ...stateMessages(cfg, plan, now)];
      await publishRetained({ ...cfg, url: cfg.url }, messages);
      const broker = new URL(cfg.url).host; // never the credentials a URL may carry
      logger.info({ broker, messages: messages.length, issuedAt: plan.issued_at }, 'battery plan published over MQTT');
      return { published: true, detail: `${messages.length} retained messages to ${broker}`, messages: messages.length, issuedAt: plan.issued_at };
    },
  };
}
