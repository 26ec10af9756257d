import { loadClientConnectConfig } from '@temporalio/envconfig';
import type { NativeConnectionOptions } from '@temporalio/worker';
import type { AppConfig } from '../config/load.js';
import type { Logger } from '../logging.js';
import { startEmbeddedServer, type EmbeddedServer } from './embedded.js';

/** Where the app's Temporal is, and how to reach it: the same options serve Client and Worker. */
export interface TemporalTarget {
  connectionOptions: NativeConnectionOptions;
  namespace: string;
  taskQueue: string;
  /** Set when the app runs its own dev server. */
  embedded?: EmbeddedServer;
  uiUrl?: string;
}

/**
 * Follows @temporalio/envconfig: a TOML profile (TEMPORAL_CONFIG_FILE or ~/.config/temporalio/temporal.toml,
 * TEMPORAL_PROFILE) and TEMPORAL_ADDRESS / TEMPORAL_NAMESPACE / TEMPORAL_API_KEY / TEMPORAL_TLS_*. With no
 * address anywhere (env, profile, config file), the app starts the embedded dev server.
 */
export function remoteTarget(config: AppConfig, env: NodeJS.ProcessEnv = process.env): TemporalTarget | undefined {
  const profile = loadClientConnectConfig({ profile: env.TEMPORAL_PROFILE });
  const address = config.temporal.address ?? profile.connectionOptions.address;
  if (!address) return undefined;
  return {
    connectionOptions: { ...profile.connectionOptions, address },
    namespace: env.TEMPORAL_NAMESPACE ?? profile.namespace ?? config.temporal.namespace,
    taskQueue: config.temporal.taskQueue,
  };
}

export async function resolveTemporal(config: AppConfig, logger: Logger, options: { embedded?: boolean; adopt?: boolean } = {}): Promise<TemporalTarget> {
  const remote = remoteTarget(config);
  if (remote) {
    logger.info({ address: remote.connectionOptions.address, namespace: remote.namespace }, 'using the configured Temporal cluster');
    return remote;
  }
  const e = config.temporal.embedded;
  if (options.embedded === false) {
    return {
      connectionOptions: { address: `${e.ip}:${e.port}` },
      namespace: config.temporal.namespace,
      taskQueue: config.temporal.taskQueue,
    };
  }
  const embedded = await startEmbeddedServer({
    binary: e.binary,
    ip: e.ip,
    port: e.port,
    uiPort: e.uiPort,
    dbFile: e.dbFile,
    logFile: e.logFile,
    namespace: config.temporal.namespace,
    startTimeoutMs: e.startTimeout,
    sqlitePragmas: e.sqlitePragmas,
    logger,
    adopt: options.adopt,
  });
  return {
    connectionOptions: { address: embedded.address },
    namespace: config.temporal.namespace,
    taskQueue: config.temporal.taskQueue,
    embedded,
    uiUrl: embedded.uiUrl,
  };
}
