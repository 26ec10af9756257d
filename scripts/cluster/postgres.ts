// A throwaway PostgreSQL cluster for Temporal: Debian's server binaries, a data directory of our own, a free
// port on 127.0.0.1 with password authentication, its socket in a directory of our own. PostgreSQL refuses
// to run as root: when we are root, it runs as the `postgres` user (which the Debian package creates).
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, chownSync, existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ManagedProcess, until } from './processes.js';

export interface PostgresOptions {
  dir: string;
  port: number;
  log: (msg: string) => void;
}

export interface Postgres {
  host: string;
  port: number;
  user: string;
  password: string;
  process: ManagedProcess;
}

/** The newest PostgreSQL server installed by Debian's packages (postgresql-NN). */
export function postgresBinDir(): string {
  const base = '/usr/lib/postgresql';
  const versions = existsSync(base) ? readdirSync(base).filter((v) => existsSync(join(base, v, 'bin', 'postgres'))) : [];
  const newest = versions.sort((a, b) => Number(b) - Number(a))[0];
  if (!newest) throw new Error('PostgreSQL is not installed: apt-get update && apt-get install -y postgresql');
  return join(base, newest, 'bin');
}

/** uid/gid to run PostgreSQL as: ours, unless we are root. */
function runAs(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const id = (flag: string) => Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8' }).trim());
  return { uid: id('-u'), gid: id('-g') };
}

/** pg_isready: 0 once the server accepts connections (not merely listens while starting up). */
function ready(bin: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const child = spawn(join(bin, 'pg_isready'), ['-q', '-h', '127.0.0.1', '-p', String(port)], { stdio: 'ignore' });
    child.once('exit', (code) => resolve(code === 0));
    child.once('error', () => resolve(false));
  });
}

/** Creates the data directory (initdb) and starts the server; resolves once it accepts connections. */
export async function startPostgres(options: PostgresOptions): Promise<Postgres> {
  const bin = postgresBinDir();
  const user = 'temporal';
  const password = randomBytes(18).toString('base64url');
  const data = join(options.dir, 'data');
  const socketDir = join(options.dir, 'socket');
  mkdirSync(socketDir, { recursive: true });
  const owner = runAs();
  // The data directory must belong to the user PostgreSQL runs as, and the path to it be walkable.
  chmodSync(options.dir, 0o755);
  if (owner) {
    chownSync(options.dir, owner.uid, owner.gid);
    chownSync(socketDir, owner.uid, owner.gid);
  }
  const pwFile = join(options.dir, 'pwfile');
  writeFileSync(pwFile, `${password}\n`, { mode: 0o600 });
  if (owner) chownSync(pwFile, owner.uid, owner.gid);
  options.log(`initdb ${data}`);
  const init = spawnSync(
    join(bin, 'initdb'),
    ['-D', data, '-U', user, `--pwfile=${pwFile}`, '--auth-host=scram-sha-256', '--auth-local=peer', '-E', 'UTF8', '--locale=C.UTF-8', '--no-sync'],
    { encoding: 'utf8', ...(owner ?? {}) },
  );
  if (init.status !== 0) throw new Error(`initdb failed: ${init.stderr || init.stdout}`);

  const process_ = new ManagedProcess({
    name: 'postgresql',
    command: join(bin, 'postgres'),
    args: [
      '-D',
      data,
      '-p',
      String(options.port),
      '-k',
      socketDir,
      '-c',
      'listen_addresses=127.0.0.1',
      // A test and development cluster: losing the last second on a power cut is fine; speed is not.
      '-c',
      'fsync=off',
      '-c',
      'synchronous_commit=off',
      '-c',
      'full_page_writes=off',
      '-c',
      'max_connections=200',
    ],
    cwd: options.dir,
    env: { PATH: process.env.PATH, LANG: 'C.UTF-8' },
    logFile: join(options.dir, 'postgresql.log'),
    ...(owner ?? {}),
    stopGraceMs: 10_000,
  });
  process_.start();
  await until(
    'PostgreSQL to accept connections',
    () => ready(bin, options.port),
    30_000,
    () => (process_.pid ? undefined : 'it exited: see postgresql.log'),
  );
  return { host: '127.0.0.1', port: options.port, user, password, process: process_ };
}
