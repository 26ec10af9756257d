import { Context } from '@temporalio/activity';
import { hasStatusAttribute } from '../temporal/namespace.js';

const known = new Set<string>();

export function createRunStatusActivities() {
  return {
    /**
     * Whether the run's namespace has the HeaStatus search attribute (registered at start-up). A run sets
     * it only then: setting an unregistered attribute would fail the workflow task over and over.
     */
    async statusAttributeReady(): Promise<boolean> {
      const ctx = Context.current();
      const namespace = ctx.info.activityNamespace;
      if (known.has(namespace)) return true;
      const ready = await hasStatusAttribute(ctx.client.connection, namespace);
      if (ready) known.add(namespace);
      return ready;
    },
  };
}
