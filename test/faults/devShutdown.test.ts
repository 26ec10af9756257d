// `hea dev` (embedded server, worker, API, schedules) stopped by SIGTERM, as a terminal or a process
// manager stops it: at any moment of its start-up or once it serves, it exits 0 and takes its embedded
// Temporal server with it. A SIGTERM during start-up used to reach only the SDK's own handler, which
// stopped the worker: `hea dev` then went on starting and exited 1 ("the worker stopped").
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { pidFileOf } from '../../src/temporal/embedded.js';
import { ROOT, pidAlive, tmpDir, waitFor, writeFixtureConfig } from '../helpers/env.js';
import { freePort } from '../helpers/faults.js';

async function startDev() {
  const dir = tmpDir('hea-dev-stop-');
  const dbFile = join(dir, 'temporal.db');
  const config = writeFixtureConfig({ trivial: { command: '/bin/true' } }, { temporal: { embedded: { dbFile, logFile: join(dir, 'temporal.log') } } }, dir);
  const apiPort = await freePort();
  const proc = execa(join(ROOT, 'bin', 'hea.js'), ['dev'], {
    cwd: ROOT,
    reject: false,
    stdin: 'ignore',
    all: true,
    env: {
      HEA_CONFIG: config.file,
      TEMPORAL_ADDRESS: '',
      HEA_TEMPORAL_PORT: String(await freePort()),
      HEA_TEMPORAL_UI_PORT: String(await freePort()),
      HEA_API_PORT: String(apiPort),
      HEA_METRICS_ADDRESS: `127.0.0.1:${await freePort()}`,
      LOG_LEVEL: 'info',
    },
  });
  const serverPid = () => (existsSync(pidFileOf(dbFile)) ? (JSON.parse(readFileSync(pidFileOf(dbFile), 'utf8')) as { pid: number }).pid : undefined);
  const apiAnswers = () =>
    fetch(`http://127.0.0.1:${apiPort}/health/`).then(
      (r) => r.status === 200,
      () => false,
    );
  return { proc, serverPid, apiAnswers };
}

/** SIGTERM, then: the process exits 0 and the server it started is gone, each within its deadline. */
async function stopAndCheck(dev: Awaited<ReturnType<typeof startDev>>, pid: number) {
  expect(pidAlive(pid)).toBe(true);
  dev.proc.kill('SIGTERM');
  // Generous: a start-up step under way (the workflow bundle built for this fresh data dir) ends first.
  const exited = await Promise.race([dev.proc, new Promise<undefined>((r) => setTimeout(() => r(undefined), 120_000).unref())]);
  try {
    await waitFor('the embedded server to stop', () => !pidAlive(pid), 10_000);
  } finally {
    if (pidAlive(pid)) process.kill(-pid, 'SIGKILL');
  }
  expect(exited).toBeDefined();
  if (exited?.exitCode !== 0) throw new Error(`hea dev exited ${exited?.exitCode ?? exited?.signal}:\n${exited?.all}`);
}

test('SIGTERM while the embedded server starts: hea dev exits 0 and its server is gone', async () => {
  const dev = await startDev();
  try {
    const pid = await waitFor('the embedded server to be started', dev.serverPid, 120_000);
    await stopAndCheck(dev, pid);
  } finally {
    dev.proc.kill('SIGKILL');
  }
}, 300_000);

test('SIGTERM once hea dev serves: it exits 0 and its server is gone', async () => {
  const dev = await startDev();
  try {
    await waitFor('the API to answer', dev.apiAnswers, 120_000);
    await stopAndCheck(dev, (await waitFor('the pid file', dev.serverPid, 5_000))!);
  } finally {
    dev.proc.kill('SIGKILL');
  }
}, 300_000);
