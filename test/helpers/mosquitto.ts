// A real MQTT broker for tests: Debian's mosquitto (installed by .ci/run), on a free port with its own config.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { join } from 'node:path';
import { connectAsync, type MqttClient } from 'mqtt';
import { tmpDir, waitFor } from './env.js';

export const MOSQUITTO = ['/usr/sbin/mosquitto', '/usr/bin/mosquitto'].find((p) => existsSync(p)) ?? 'mosquitto';

export interface Broker {
  url: string;
  port: number;
  stop(): Promise<void>;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = createConnection({ port, host: '127.0.0.1' });
    sock.once('connect', () => {
      sock.destroy();
      resolve(true);
    });
    sock.once('error', () => resolve(false));
  });
}

export async function startMosquitto(): Promise<Broker> {
  const port = await freePort();
  const conf = join(tmpDir('hea-mosquitto-'), 'mosquitto.conf');
  writeFileSync(conf, `listener ${port} 127.0.0.1\nallow_anonymous true\npersistence false\n`);
  const proc: ChildProcess = spawn(MOSQUITTO, ['-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  proc.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  proc.once('error', (err) => (stderr += String(err)));
  await waitFor(`mosquitto on port ${port} (${stderr})`, async () => proc.exitCode === null && (await accepts(port)), 10_000);
  return {
    url: `mqtt://127.0.0.1:${port}`,
    port,
    async stop() {
      if (proc.exitCode === null) proc.kill('SIGTERM');
      await exited;
    },
  };
}

/** A subscriber that keeps the last message per topic (retained ones arrive on subscribe). */
export async function subscribe(url: string, topics: string[]): Promise<{ client: MqttClient; last: Map<string, { payload: string; retain: boolean }> }> {
  const client = await connectAsync(url, { reconnectPeriod: 0 });
  const last = new Map<string, { payload: string; retain: boolean }>();
  client.on('message', (topic, payload, packet) => last.set(topic, { payload: payload.toString(), retain: packet.retain }));
  await client.subscribeAsync(topics, { qos: 1 });
  return { client, last };
}
