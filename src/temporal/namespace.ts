// The namespace as the Web UI needs it: the HeaStatus search attribute (so the Workflows list can show and
// filter partial runs) and, on the embedded server, a retention long enough to look back a month.
import type { Connection } from '@temporalio/client';
import proto from '@temporalio/proto';
import { msToTs } from '@temporalio/common/lib/time.js';
import type { Logger } from '../logging.js';

/** Set by every pipeline run at its end (src/workflows/run.ts): success, partial or failed. */
export const HEA_STATUS_ATTRIBUTE = 'HeaStatus';

type ServiceConnection = Pick<Connection, 'operatorService' | 'workflowService'>;

/** Whether the namespace knows the HeaStatus attribute (a run must not set an unknown one). */
export async function hasStatusAttribute(connection: Pick<Connection, 'operatorService'>, namespace: string): Promise<boolean> {
  const res = await connection.operatorService.listSearchAttributes({ namespace });
  return HEA_STATUS_ATTRIBUTE in (res.customAttributes ?? {});
}

/**
 * Registers HeaStatus (Keyword) unless it exists. A cluster that refuses (no operator permission) gets a
 * warning naming the command an operator runs; runs then skip the attribute rather than fail.
 */
export async function ensureStatusAttribute(connection: ServiceConnection, namespace: string, logger: Logger): Promise<boolean> {
  try {
    if (await hasStatusAttribute(connection, namespace)) return true;
    await connection.operatorService.addSearchAttributes({
      namespace,
      searchAttributes: { [HEA_STATUS_ATTRIBUTE]: proto.temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD },
    });
    logger.info({ namespace, attribute: HEA_STATUS_ATTRIBUTE }, 'search attribute registered');
    return true;
  } catch (err) {
    logger.warn(
      { err, namespace },
      `could not register the ${HEA_STATUS_ATTRIBUTE} search attribute; runs will not set it until an operator runs: ` +
        `temporal operator search-attribute create --namespace ${namespace} --name ${HEA_STATUS_ATTRIBUTE} --type Keyword`,
    );
    return false;
  }
}

/** Sets the namespace's retention of closed runs (the dev server's default is one day). */
export async function applyRetention(connection: ServiceConnection, namespace: string, retentionMs: number, logger: Logger): Promise<void> {
  const seconds = Math.round(retentionMs / 1000);
  const current = await connection.workflowService.describeNamespace({ namespace });
  const ttl = current.config?.workflowExecutionRetentionTtl;
  if (Number(ttl?.seconds ?? 0) === seconds) return;
  await connection.workflowService.updateNamespace({
    namespace,
    config: { workflowExecutionRetentionTtl: msToTs(seconds * 1000) },
  });
  logger.info({ namespace, retentionDays: Math.round((seconds / 86_400) * 100) / 100 }, 'namespace retention set');
}

/**
 * Start-up (src/app.ts): the attribute everywhere it can be registered; the retention only on the embedded
 * server (a cluster's retention is its operator's choice, see docs/observability.md).
 */
export async function prepareNamespace(
  connection: ServiceConnection,
  options: { namespace: string; embedded: boolean; retentionMs: number; logger: Logger },
): Promise<void> {
  await ensureStatusAttribute(connection, options.namespace, options.logger);
  if (options.embedded) {
    await applyRetention(connection, options.namespace, options.retentionMs, options.logger).catch((err: unknown) =>
      options.logger.warn({ err, namespace: options.namespace }, 'could not set the namespace retention'),
    );
  }
}
