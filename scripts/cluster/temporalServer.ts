// The Temporal server on PostgreSQL: its two databases set up with Temporal's own SQL tool, a generated
// server config (the postgres12 plugin, every service's ports free ones on 127.0.0.1), the server process,
// and the `default` namespace registered once it answers.
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Connection } from '@temporalio/client';
import { msToTs } from '@temporalio/common/lib/time.js';
import { stringify } from 'yaml';
import type { TemporalBinaries } from './build.js';
import type { Postgres } from './postgres.js';
import { ManagedProcess, freePorts, until } from './processes.js';

export const DATABASES = { default: 'temporal', visibility: 'temporal_visibility' } as const;
/** The SQL tool's embedded schemas for PostgreSQL 12+ (the same as the module's schema/postgresql/v12/). */
const SCHEMAS = { temporal: 'postgresql/v12/temporal', temporal_visibility: 'postgresql/v12/visibility' } as const;

/**
 * The SQL tool's documented set-up, for each database: create it, set up the versioning tables at 0.0,
 * then update to the newest schema version. Credentials go in its environment, not its argv.
 */
export function setupSchema(binaries: TemporalBinaries, pg: Postgres, log: (msg: string) => void): void {
  for (const db of [DATABASES.default, DATABASES.visibility]) {
    const env = {
      PATH: process.env.PATH,
      SQL_PLUGIN: 'postgres12',
      SQL_HOST: pg.host,
      SQL_PORT: String(pg.port),
      SQL_USER: pg.user,
      SQL_PASSWORD: pg.password,
      SQL_DATABASE: db,
    };
    for (const args of [['create-database'], ['setup-schema', '-v', '0.0'], ['update-schema', '--schema-name', SCHEMAS[db]]]) {
      log(`temporal-sql-tool --db ${db} ${args.join(' ')}`);
      const res = spawnSync(binaries.sqlTool, args, { env, encoding: 'utf8' });
      if (res.status !== 0) throw new Error(`the SQL tool failed: ${args.join(' ')} on ${db}:\n${res.stderr || res.stdout}`);
    }
  }
}

export interface TemporalServerPorts {
  frontend: number;
  frontendHttp: number;
  frontendMembership: number;
  history: number;
  historyMembership: number;
  matching: number;
  matchingMembership: number;
  worker: number;
  workerMembership: number;
}

export async function pickServerPorts(): Promise<TemporalServerPorts> {
  const p = await freePorts(9, '127.0.0.1', [20_000, 32_000]);
  return {
    frontend: p[0]!,
    frontendHttp: p[1]!,
    frontendMembership: p[2]!,
    history: p[3]!,
    historyMembership: p[4]!,
    matching: p[5]!,
    matchingMembership: p[6]!,
    worker: p[7]!,
    workerMembership: p[8]!,
  };
}

/** The server's config file (development-postgres12.yaml of the module, with our ports and credentials). */
export function writeServerConfig(dir: string, pg: Postgres, ports: TemporalServerPorts): string {
  const sql = (databaseName: string, maxConns: number) => ({
    sql: {
      pluginName: 'postgres12',
      databaseName,
      connectAddr: `${pg.host}:${pg.port}`,
      connectProtocol: 'tcp',
      user: pg.user,
      password: pg.password,
      maxConns,
      maxIdleConns: maxConns,
      maxConnLifetime: '1h',
    },
  });
  const rpc = (grpcPort: number, membershipPort: number, extra: Record<string, unknown> = {}) => ({
    rpc: { grpcPort, membershipPort, bindOnLocalHost: true, ...extra },
  });
  const dynamicConfig = join(dir, 'dynamicconfig.yaml');
  writeFileSync(
    dynamicConfig,
    stringify({
      // New custom search attributes are usable at once (as on the dev server).
      'system.forceSearchAttributesCacheRefreshOnRead': [{ value: true, constraints: {} }],
      'limit.maxIDLength': [{ value: 255, constraints: {} }],
    }),
  );
  const config = {
    log: { stdout: true, level: 'warn' },
    persistence: {
      defaultStore: 'postgres-default',
      visibilityStore: 'postgres-visibility',
      numHistoryShards: 4,
      datastores: { 'postgres-default': sql(DATABASES.default, 20), 'postgres-visibility': sql(DATABASES.visibility, 4) },
    },
    global: { membership: { maxJoinDuration: '30s', broadcastAddress: '127.0.0.1' } },
    services: {
      frontend: rpc(ports.frontend, ports.frontendMembership, { httpPort: ports.frontendHttp }),
      history: rpc(ports.history, ports.historyMembership),
      matching: rpc(ports.matching, ports.matchingMembership),
      worker: rpc(ports.worker, ports.workerMembership),
    },
    clusterMetadata: {
      enableGlobalNamespace: false,
      failoverVersionIncrement: 10,
      masterClusterName: 'active',
      currentClusterName: 'active',
      clusterInformation: { active: { enabled: true, initialFailoverVersion: 1, rpcName: 'frontend', rpcAddress: `127.0.0.1:${ports.frontend}` } },
    },
    dcRedirectionPolicy: { policy: 'noop' },
    dynamicConfigClient: { filepath: dynamicConfig, pollInterval: '10s' },
  };
  const file = join(dir, 'temporal-server.yaml');
  writeFileSync(file, stringify(config), { mode: 0o600 });
  return file;
}

export function temporalServerProcess(binaries: TemporalBinaries, dir: string, configFile: string): ManagedProcess {
  return new ManagedProcess({
    name: 'temporal-server',
    command: binaries.server,
    args: ['--config-file', configFile, '--allow-no-auth', 'start'],
    cwd: dir,
    env: { PATH: process.env.PATH },
    logFile: join(dir, 'temporal-server.log'),
    stopGraceMs: 20_000,
  });
}

/** Waits until the frontend answers, registers the namespace (once), and waits until it is usable. */
export async function waitForTemporal(address: string, namespace: string, server: ManagedProcess, timeoutMs = 120_000): Promise<void> {
  const failed = () => (server.pid ? undefined : 'the server exited: see temporal-server.log');
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
          await connection.workflowService
            .registerNamespace({ namespace, workflowExecutionRetentionPeriod: msToTs('3 days') })
            .catch((err: { code?: number }) => {
              if (err.code !== 6) throw err; // ALREADY_EXISTS: registered, not yet in the frontend's cache
            });
          return false;
        }
        // The namespace is in the cache of every service once a task queue can be asked about.
        await connection.workflowService.describeTaskQueue({ namespace, taskQueue: { name: 'hea-cluster-ready' } });
        return true;
      },
      timeoutMs,
      failed,
    );
  } finally {
    await connection.close();
  }
}
