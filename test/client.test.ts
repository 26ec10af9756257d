// The `hea` command as a user runs it: a real process, its output and its exit code.
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createServer, type AddressInfo } from 'node:net';
import { execa } from 'execa';
import type { RunReport } from '../src/workflows/report.js';
import { ROOT, fixtureConfig, tmpDir, uniqueTaskQueue, useTestServer } from './helpers/env.js';

const env = useTestServer({ bundle: false });

const config = fixtureConfig(
  {
    prices_data: { script: 'fetch_fixture.py', args: ['prices'] },
    co2_gas_coal: { script: 'fetch_fixture.py', args: ['co2'] },
    weather_data: { script: 'fetch_fixture.py', args: ['weather'] },
    consumption_data: { script: 'fetch_fixture.py', args: ['consumption', 'fail'] },
    thermia_data: { script: 'fetch_fixture.py', args: ['thermia', 'fail'] },
    // Spot prices 5 h old, the weather 1 h old.
    store_status: { script: 'status_fixture.py', args: ['price.spot=5', 'weather.temperature=1'] },
  },
  {
    schedules: { idPrefix: 'cli-', entries: { hourly: { flow: 'hourly-exogenic', cron: '0 * * * *' } } },
    freshness: { datasets: { spot_prices: { series: 'price.spot', maxAge: '2h' }, weather: { series: 'weather.temperature', maxAge: '3h' } } },
  },
);

function hea(args: string[], extraEnv: Record<string, string> = {}) {
  return execa('node', [join(ROOT, 'bin', 'hea.js'), ...args], {
    reject: false,
    stdin: 'ignore',
    timeout: 120_000, // a hung command is killed, not left behind
    env: { HEA_CONFIG: config.file, TEMPORAL_ADDRESS: env.address, LOG_LEVEL: 'warn', ...extraEnv },
  });
}

test('--help on every command', async () => {
  const top = await hea(['--help']);
  expect(top.exitCode).toBe(0);
  for (const cmd of ['start', 'dev', 'worker', 'run', 'job', 'freshness', 'schedules', 'health']) expect(top.stdout).toContain(cmd);
  const run = await hea(['run', '--help']);
  expect(run.exitCode).toBe(0);
  expect(run.stdout).toContain('daily-pipeline');
  expect(run.stdout).toContain('horizonDays=num');
  const sched = await hea(['schedules', '--help']);
  expect(sched.stdout).toMatch(/apply[\s\S]*list[\s\S]*pause[\s\S]*unpause[\s\S]*trigger[\s\S]*delete[\s\S]*backfill/);
});

test.each([
  [['run', 'nightly'], /unknown flow "nightly"/],
  [['run', 'daily-pipeline', '--param', 'horizonDays=99'], /--param horizonDays: .*7/],
  [['run', 'daily-pipeline', '--param', 'priceModel=median'], /--param priceModel/],
  [['run', 'hourly-exogenic', '--param', 'colour=blue'], /colour/],
  [['run', 'daily-pipeline', '--param', 'horizonDays'], /expected key=value/],
  [['run', 'rl-training', '--param', 'startDate=2026-13-45'], /--param startDate: not a calendar date/],
  [['run', 'rl-training', '--param', 'endDate=2026-02-30'], /--param endDate: not a calendar date/],
  [['run', 'hourly-exogenic', '--param', '__proto__=1'], /--param __proto__: not a parameter name/],
  [['run', 'daily-pipeline', '--param', 'constructor=1'], /constructor/],
  [['run', 'hourly-exogenic', '--bogus'], /unknown option '--bogus'/],
  [['frobnicate'], /unknown command 'frobnicate'/],
  [['schedules', 'backfill', 'x', '--from', 'yesterday', '--to', '2026-01-01'], /--from: "yesterday" is not a date/],
])('hea %j is a usage error: exit 2 and a clear message', async (args, message) => {
  const res = await hea(args as string[]);
  expect(res.exitCode).toBe(2);
  expect(res.stderr).toMatch(message as RegExp);
});

test('a bad config file: exit 2, every problem listed', async () => {
  const dir = tmpDir();
  const file = join(dir, 'bad.yaml');
  writeFileSync(file, 'jobs:\n  a: { args: "x" }\n  b: { timeout: soon }\nworker: { maxConcurrentActivities: -1 }\n');
  const res = await hea(['run', 'hourly-exogenic'], { HEA_CONFIG: file });
  expect(res.exitCode).toBe(2);
  expect(res.stderr).toContain('3 problems');
  expect(res.stderr).toContain('jobs.a.args');
  expect(res.stderr).toContain('jobs.b.timeout');
  expect(res.stderr).toContain('worker.maxConcurrentActivities');
});

test('hea run starts a worker when none polls, prints the report and exits 0 on success', async () => {
  const res = await hea(['run', 'hourly-exogenic', '--json'], { HEA_TASK_QUEUE: uniqueTaskQueue('cli') });
  expect(res.exitCode).toBe(0);
  const report = JSON.parse(res.stdout) as RunReport;
  expect(report.status).toBe('success');
  expect(report.steps).toHaveLength(3);
  expect(existsSync(report.reportFile!)).toBe(true);
});

test.each([[['run', 'hourly-exogenic', '--json']], [['run', 'home-data', '--json']], [['job', 'prices_data', '--json']], [['schedules', 'list', '--json']]])(
  'hea %j with logs on: stdout is JSON alone, the logs go to stderr',
  async (args) => {
    const res = await hea(args, { HEA_TASK_QUEUE: uniqueTaskQueue('json'), LOG_LEVEL: 'debug' });
    expect(() => JSON.parse(res.stdout)).not.toThrow();
    expect(res.stderr).toMatch(/"level":(20|30)/);
  },
);

test('a config whose schedule has an invalid cron: exit 2 naming the schedule, before anything is applied', async () => {
  const dir = tmpDir();
  const file = join(dir, 'cron.yaml');
  writeFileSync(file, 'jobs: {}\nschedules:\n  entries:\n    nightly-run: { flow: home-data, cron: "61 * * * *" }\n');
  const res = await hea(['schedules', 'apply', '--dry-run'], { HEA_CONFIG: file });
  expect(res.exitCode).toBe(2);
  expect(res.stderr).toContain('schedules.entries.nightly-run.cron');
  expect(res.stderr).toContain('minute: 61 is not in range [0-59]');
});

test.each([
  ['metrics', 'HEA_METRICS_ADDRESS'],
  ['api', 'HEA_API_PORT'],
])('hea dev beside a running npm start (the %s port taken): says which variable to set, no deprecation warning', async (which, variable) => {
  const taken = createServer();
  await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
  const port = (taken.address() as AddressInfo).port;
  const free = createServer();
  await new Promise<void>((resolve) => free.listen(0, '127.0.0.1', resolve));
  const freePort = (free.address() as AddressInfo).port;
  await new Promise((resolve) => free.close(resolve));
  try {
    const res = await hea(['dev'], {
      HEA_TASK_QUEUE: uniqueTaskQueue('dev'),
      HEA_METRICS_ADDRESS: `127.0.0.1:${which === 'metrics' ? port : freePort}`,
      HEA_API_PORT: String(which === 'api' ? port : 0),
    });
    expect(res.exitCode).toBe(1);
    expect(res.stderr).toContain(variable);
    expect(res.stderr).toContain('is taken');
    expect(res.stderr).not.toMatch(/FSTDEP|DeprecationWarning/);
  } finally {
    taken.close();
  }
});

test('hea run exits 1 when the run fails, with the report printed', async () => {
  const res = await hea(['run', 'home-data'], { HEA_TASK_QUEUE: uniqueTaskQueue('cli') });
  expect(res.exitCode).toBe(1);
  expect(res.stdout).toContain('homeData: FAILED');
  expect(res.stdout).toMatch(/failed\s+consumption/);
  expect(res.stdout).toContain('report: ');
});

test('hea schedules apply prints the difference, and nothing the second time', async () => {
  const first = await hea(['schedules', 'apply']);
  expect(first.exitCode).toBe(0);
  expect(first.stdout).toContain('+ cli-hourly (created)');
  const second = await hea(['schedules', 'apply']);
  expect(second.stdout).toContain('no changes');
  const list = await hea(['schedules', 'list', '--json']);
  const rows = JSON.parse(list.stdout) as { id: string; managed: boolean; timezone: string }[];
  expect(rows.find((r) => r.id === 'cli-hourly')).toMatchObject({ managed: true, timezone: 'Europe/Stockholm' });
  expect((await hea(['schedules', 'pause', 'hourly'])).stdout).toContain('paused cli-hourly');
  const paused = JSON.parse((await hea(['schedules', 'list', '--json'])).stdout) as { id: string; paused: boolean }[];
  expect(paused.find((r) => r.id === 'cli-hourly')!.paused).toBe(true);
});

test('hea freshness: a stale dataset is exit 1, its verdict in the table', async () => {
  const res = await hea(['freshness', '--json'], { HEA_TASK_QUEUE: uniqueTaskQueue('fresh') });
  expect(res.exitCode).toBe(1);
  const rows = JSON.parse(res.stdout) as { dataset: string; fresh: string }[];
  expect(rows.map((r) => [r.dataset, r.fresh])).toEqual([
    ['spot_prices', 'NO'],
    ['weather', 'yes'],
  ]);
});

test('hea freshness: every dataset fresh is exit 0, printed as a table', async () => {
  const fresh = fixtureConfig(
    { store_status: { script: 'status_fixture.py', args: ['weather.temperature=1'] } },
    { freshness: { datasets: { weather: { series: 'weather.temperature', maxAge: '3h' } } } },
  );
  const res = await hea(['freshness'], { HEA_CONFIG: fresh.file, HEA_TASK_QUEUE: uniqueTaskQueue('fresh') });
  expect(res.exitCode).toBe(0);
  expect(res.stdout).toMatch(/^DATASET\s+SOURCE\s+FRESH/);
  expect(res.stdout).toMatch(/weather\s+weather\.temperature\s+yes/);
});
