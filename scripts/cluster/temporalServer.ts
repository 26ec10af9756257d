// The Temporal server on PostgreSQL: its two databases set up with Temporal's own SQL tool, the server
// process with the module's own config template (postgres12 plugin, every service's ports free ones on
// 127.0.0.1), and the `default` namespace registered once it answers.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { ensureNamespace } from './namespace.js';
import type { TemporalBinaries } from './build.js';
import type { Postgres } from './postgres.js';
import { ManagedProcess, freePorts } from './processes.js';

/**
 * The SQL tool's documented set-up, for each database: create it, set up the versioning tables at 0.0, then
 * update to the newest version of the schema embedded in the tool (the module's schema/postgresql/v12/).
 * docker-compose.yml's temporal-schema service runs the same steps.
 */
export const SCHEMA_STEPS: Array<{ database: string; args: string[] }> = [
  ['temporal', 'postgresql/v12/temporal'],
  ['temporal_visibility', 'postgresql/v12/visibility'],
].flatMap(([database, schema]) => [
  // --quiet: a database or versioning table that exists already is not an error (a second `compose up`);
  // a real failure still fails the update that follows.
  { database: database!, args: ['--quiet', 'create-database'] },
  { database: database!, args: ['--quiet', 'setup-schema', '-v', '0.0'] },
  { database: database!, args: ['update-schema', '--schema-name', schema!] },
]);

export interface DatabaseAccess {
  host: string;
  port: number | string;
  user: string;
  password: string;
}

/** The SQL tool's settings for a database (its environment variables, so the password is not in argv). */
export function sqlToolEnvironment(db: DatabaseAccess, database: string): Record<string, string> {
  return { SQL_PLUGIN: 'postgres12', SQL_HOST: db.host, SQL_PORT: String(db.port), SQL_USER: db.user, SQL_PASSWORD: db.password, SQL_DATABASE: database };
}

export function setupSchema(binaries: TemporalBinaries, pg: Postgres, log: (msg: string) => void): void {
  for (const step of SCHEMA_STEPS) {
    log(`temporal-sql-tool ${step.args.join(' ')}   (SQL_DATABASE=${step.database})`);
    const res = spawnSync(binaries.sqlTool, step.args, { env: { PATH: process.env.PATH, ...sqlToolEnvironment(pg, step.database) }, encoding: 'utf8' });
    if (res.status !== 0) throw new Error(`the SQL tool failed: ${step.args.join(' ')} on ${step.database}:\n${res.stderr || res.stdout}`);
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

/** The dynamic config, shared with docker-compose.yml. */
export const DYNAMIC_CONFIG = 'docker/temporal-dynamicconfig.yaml';

/**
 * The server's settings for the module's own config template (config/docker.yaml, the one Temporal's
 * images use): PostgreSQL with the postgres12 plugin, where to bind, and (when given) every service's ports.
 * docker-compose.yml gives its temporal service the same environment.
 */
export function serverEnvironment(db: DatabaseAccess, options: { bindOnIp: string; dynamicConfig: string; ports?: TemporalServerPorts }): Record<string, string> {
  const p = options.ports;
  return {
    DB: 'postgres12',
    POSTGRES_SEEDS: db.host,
    DB_PORT: String(db.port),
    POSTGRES_PORT: String(db.port),
    POSTGRES_USER: db.user,
    POSTGRES_PWD: db.password,
    NUM_HISTORY_SHARDS: '4',
    BIND_ON_IP: options.bindOnIp,
    TEMPORAL_BROADCAST_ADDRESS: '127.0.0.1',
    LOG_LEVEL: 'warn',
    DYNAMIC_CONFIG_FILE_PATH: options.dynamicConfig,
    ...(p
      ? {
          FRONTEND_GRPC_PORT: String(p.frontend),
          FRONTEND_HTTP_PORT: String(p.frontendHttp),
          FRONTEND_MEMBERSHIP_PORT: String(p.frontendMembership),
          HISTORY_GRPC_PORT: String(p.history),
          HISTORY_MEMBERSHIP_PORT: String(p.historyMembership),
          MATCHING_GRPC_PORT: String(p.matching),
          MATCHING_MEMBERSHIP_PORT: String(p.matchingMembership),
          WORKER_GRPC_PORT: String(p.worker),
          WORKER_MEMBERSHIP_PORT: String(p.workerMembership),
        }
      : {}),
  };
}

export function temporalServerProcess(root: string, binaries: TemporalBinaries, dir: string, pg: Postgres, ports: TemporalServerPorts): ManagedProcess {
  return new ManagedProcess({
    name: 'temporal-server',
    command: binaries.server,
    args: ['--config-file', binaries.configTemplate, '--allow-no-auth', 'start'],
    cwd: dir,
    env: { PATH: process.env.PATH, ...serverEnvironment(pg, { bindOnIp: '127.0.0.1', dynamicConfig: join(root, DYNAMIC_CONFIG), ports }) },
    logFile: join(dir, 'temporal-server.log'),
    stopGraceMs: 20_000,
  });
}

/** Waits until the frontend answers and the namespace is registered and usable. */
export async function waitForTemporal(address: string, namespace: string, server: ManagedProcess, timeoutMs = 120_000): Promise<void> {
  await ensureNamespace(address, namespace, timeoutMs, () => (server.pid ? undefined : 'the server exited: see temporal-server.log'));
}
