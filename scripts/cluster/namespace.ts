// A new Temporal cluster has no `default` namespace: registered once the frontend answers (by
// `npm run cluster`, and by docker-compose.yml's temporal-namespace one-shot through scripts/cluster-namespace.ts).
import { Connection } from '@temporalio/client';
import { msToTs } from '@temporalio/common/lib/time.js';
import { until } from './processes.js';

/** How long closed runs stay visible (a fresh namespace; h11b's namespace set-up may change it). */
const RETENTION = '3 days';

/** Waits for the frontend, registers the namespace unless it exists, and waits until it can be used. */
export async function ensureNamespace(address: string, namespace: string, timeoutMs: number, failed?: () => string | undefined): Promise<void> {
  const connection = await until(
    `the Temporal server at ${address}`,
    async () => {
      const c = await Connection.connect({ address, connectTimeout: 2_000 });
      try {
        await c.workflowService.getSystemInfo({});
        return c;
      } catch (err) {
        await c.close();
        throw err;
      }
    },
    timeoutMs,
    failed,
  );
  try {
    await until(
      `namespace ${namespace}`,
      async () => {
        try {
          await connection.workflowService.describeNamespace({ namespace });
        } catch {
          await connection.workflowService.registerNamespace({ namespace, workflowExecutionRetentionPeriod: msToTs(RETENTION) }).catch((err: { code?: number }) => {
            if (err.code !== 6) throw err; // ALREADY_EXISTS: registered, not yet in the frontend's cache
          });
          return false;
        }
        // Every service knows it once a task queue can be asked about.
        await connection.workflowService.describeTaskQueue({ namespace, taskQueue: { name: 'hea-namespace-ready' } });
        return true;
      },
      timeoutMs,
      failed,
    );
  } finally {
    await connection.close();
  }
}
