// A real InfluxDB 1.x (`influxd` from Debian's `influxdb` package) for tests: free ports, a temporary
// config and data directory, ready when /ping answers (polled with a deadline), stopped and removed after.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createWriteStream, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { tmpDir, waitFor } from './env.js';

export interface Influx {
  url: string;
  /** Line protocol into a database (created if needed), seconds precision. */
  write(db: string, lines: string[]): Promise<void>;
  query(db: string, q: string): Promise<unknown>;
  stop(): Promise<void>;
}

export function influxdBinary(): string | undefined {
  const found = spawnSync('sh', ['-c', 'command -v influxd'], { encoding: 'utf8' });
  return found.status === 0 ? found.stdout.trim() : undefined;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

export async function startInflux(): Promise<Influx> {
  const binary = influxdBinary();
  if (!binary) throw new Error('influxd is not installed (apt-get install -y influxdb)');
  const dir = tmpDir('hea-influx-');
  const [httpPort, rpcPort] = [await freePort(), await freePort()];
  const conf = join(dir, 'influxdb.conf');
  writeFileSync(
    conf,
    [
      'reporting-disabled = true',
      `bind-address = "127.0.0.1:${rpcPort}"`,
      '[meta]',
      `  dir = "${dir}/meta"`,
      '[data]',
      `  dir = "${dir}/data"`,
      `  wal-dir = "${dir}/wal"`,
      '  query-log-enabled = false',
      '[http]',
      `  bind-address = "127.0.0.1:${httpPort}"`,
      '  log-enabled = false',
      '[monitor]',
      '  store-enabled = false',
      '[continuous_queries]',
      '  enabled = false',
      '',
    ].join('\n'),
  );
  const log = createWriteStream(join(dir, 'influxd.log'));
  const child: ChildProcess = spawn(binary, ['-config', conf], { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout?.pipe(log);
  child.stderr?.pipe(log);
  let exited: string | undefined;
  child.once('exit', (code, signal) => {
    exited = `influxd exited (${code ?? signal}); see ${dir}/influxd.log`;
  });
  const url = `http://127.0.0.1:${httpPort}`;
  const stop = async () => {
    if (!exited) {
      const gone = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await gone;
      clearTimeout(timer);
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitFor(
      'influxd to answer /ping',
      async () => {
        if (exited) throw new Error(exited);
        const res = await fetch(`${url}/ping`);
        return res.status === 204;
      },
      30_000,
    );
  } catch (err) {
    await stop();
    throw err;
  }
  const post = async (path: string, params: Record<string, string>, body?: string) => {
    const res = await fetch(`${url}${path}?${new URLSearchParams(params)}`, { method: 'POST', body });
    if (!res.ok) throw new Error(`influxd ${path}: HTTP ${res.status} ${await res.text()}`);
    return res.status === 204 ? undefined : res.json();
  };
  const created = new Set<string>();
  return {
    url,
    async write(db, lines) {
      if (!created.has(db)) {
        await post('/query', { q: `CREATE DATABASE "${db}"` });
        created.add(db);
      }
      for (let i = 0; i < lines.length; i += 5_000) await post('/write', { db, precision: 's' }, lines.slice(i, i + 5_000).join('\n'));
    },
    query: (db, q) => post('/query', { db, q }),
    stop,
  };
}
