import { ConfigError, loadConfig, parseConfig } from '../../src/config/load.js';

const ok = `
jobs:
  prices_data:
    args: [-m, jobs.prices.fetch]
    timeout: 15m
    retry: { maximumAttempts: 5 }
`;

test('the shipped config is valid and names every job of the seed', () => {
  const config = loadConfig();
  for (const job of [
    'solar_actual',
    'solar_predictions',
    'prices_data',
    'co2_gas_coal',
    'weather_data',
    'consumption_data',
    'thermia_data',
    'prices_train',
    'demand_train',
    'rl_train',
    'price_predictions',
    'demand_predictions',
    'rl_control',
  ]) {
    expect(config.jobs[job]).toBeDefined();
  }
});

test('defaults and per-job settings merge; relative commands resolve against the project root', () => {
  const config = parseConfig(ok, 'hea.yaml', { env: {}, root: '/srv/hea' });
  const job = config.jobs.prices_data!;
  expect(job.command).toBe('/srv/hea/.venv/bin/python');
  expect(job.timeoutMs).toBe(15 * 60_000);
  expect(job.heartbeatTimeoutMs).toBe(15_000);
  expect(job.retry).toEqual({ initialInterval: 60_000, backoffCoefficient: 2, maximumInterval: 600_000, maximumAttempts: 5 });
  expect(config.storeUrl).toBe('sqlite:////srv/hea/data/energy.db');
  expect(config.temporal.embedded).toMatchObject({ port: 7233, uiPort: 8233, dbFile: '/srv/hea/var/temporal.db' });
  expect(config.temporal.address).toBeUndefined();
});

test('environment variables override the connection settings', () => {
  const config = parseConfig(ok, 'hea.yaml', {
    env: { TEMPORAL_ADDRESS: 'temporal.example:7233', TEMPORAL_NAMESPACE: 'energy', HEA_TEMPORAL_UI_PORT: '9000', HEA_TASK_QUEUE: 'q2' },
    root: '/srv/hea',
  });
  expect(config.temporal.address).toBe('temporal.example:7233');
  expect(config.temporal.namespace).toBe('energy');
  expect(config.temporal.taskQueue).toBe('q2');
  expect(config.temporal.embedded.uiPort).toBe(9000);
});

test('a config with several mistakes lists every one, with its path', () => {
  const bad = `
temporal:
  embedded:
    port: 99999
worker:
  maxConcurrentActivities: 0
jobDefaults:
  timeout: soon
jobs:
  Prices-Data:
    args: [-m, x]
  weather_data:
    args: -m jobs.weather.fetch
    retry: { backoffCoefficient: 0.5, maxAttempts: 3 }
    env: { "not a name": x }
unknownSection: true
`;
  let error: ConfigError | undefined;
  try {
    parseConfig(bad, 'bad.yaml', { env: {} });
  } catch (err) {
    error = err as ConfigError;
  }
  expect(error).toBeInstanceOf(ConfigError);
  const paths = error!.problems.map((p) => p.path);
  expect(paths).toEqual(
    expect.arrayContaining([
      'temporal.embedded.port',
      'worker.maxConcurrentActivities',
      'jobDefaults.timeout',
      'jobs.Prices-Data',
      'jobs.weather_data.args',
      'jobs.weather_data.retry.backoffCoefficient',
      'jobs.weather_data.retry',
      'jobs.weather_data.env.not a name',
      '',
    ]),
  );
  expect(error!.problems.length).toBeGreaterThanOrEqual(9);
  expect(error!.message).toContain('jobDefaults.timeout: "soon" is not a duration');
  expect(error!.message).toMatch(/maxAttempts/);
  expect(error!.message).toMatch(/unknownSection/);
  expect(error!.message).toContain('jobs.Prices-Data: invalid name: use lower case letters, digits and _');
});

test('YAML syntax errors and a missing file are config errors too', () => {
  expect(() => parseConfig('jobs: [unclosed', 'x.yaml', { env: {} })).toThrow(ConfigError);
  expect(() => loadConfig('/nonexistent/hea.yaml')).toThrow(/config file not found/);
  expect(() => parseConfig('', 'empty.yaml', { env: {} })).toThrow(/jobs/);
});

test('YAML syntax errors name their line', () => {
  const text = 'jobs:\n  a:\n    args: [-m, x\n  b: {}\nworker: {: }\n';
  let error: ConfigError | undefined;
  try {
    parseConfig(text, 'x.yaml', { env: {} });
  } catch (err) {
    error = err as ConfigError;
  }
  expect(error).toBeInstanceOf(ConfigError);
  expect(error!.message).not.toContain('line ?');
  expect(error!.problems[0]!.path).toMatch(/^line \d+, column \d+$/);
});

test.each([
  ['61 * * * *', 'minute: 61 is not in range [0-59]'],
  ['0 24 * * *', 'hour: 24 is not in range [0-23]'],
  ['0 6 0 * *', 'day of month: 0 is not in range [1-31]'],
  ['0 6 * 13 *', 'month: 13 is not in range [1-12]'],
  ['0 6 * * 8', 'day of week: 8 is not in range [0-7]'],
  ['*/0 * * * *', 'minute: step "0" is not a positive number'],
  ['0 6 * * fun', 'day of week: "fun" is not a number or a name'],
  ['30-10 * * * *', 'minute: range 30-10 runs backwards'],
  ['0 6 ? * SUN', 'day of month: "?" is not a number'],
])("an invalid cron %j is refused at validation, with the schedule's name", (cron, message) => {
  const text = `jobs: {}\nschedules:\n  entries:\n    my-sched: { flow: home-data, cron: "${cron}" }\n`;
  expect(() => parseConfig(text, 'x.yaml', { env: {} })).toThrow(`schedules.entries.my-sched.cron: invalid cron "${cron}": ${message}`);
});

test.each(['0 6 * * *', '*/15 * * * *', '0 2 * * 0', '0 2 * * 7', '0,30 6-18/2 1-15 jan-jun mon-fri'])('a valid cron %j passes', (cron) => {
  const text = `jobs: {}\nschedules:\n  entries:\n    my-sched: { flow: home-data, cron: "${cron}" }\n`;
  expect(() => parseConfig(text, 'x.yaml', { env: {} })).not.toThrow();
});

test("a job's partial retry policy takes the rest from jobDefaults, not from built-in defaults", () => {
  const config = parseConfig(
    `
jobDefaults:
  retry: { initialInterval: 5s, backoffCoefficient: 3, maximumInterval: 1m, maximumAttempts: 4 }
jobs:
  a: { retry: { maximumAttempts: 2 } }
`,
    'hea.yaml',
    { env: {} },
  );
  expect(config.jobs.a!.retry).toEqual({ initialInterval: 5_000, backoffCoefficient: 3, maximumInterval: 60_000, maximumAttempts: 2 });
});

test('jobs.<name>.local: false unless a job says true; anything but a boolean is refused by its path', () => {
  const config = parseConfig(`${ok}  sleepy:\n    command: sleep\n    local: true\n`, 'hea.yaml', { env: {}, root: '/srv/hea' });
  expect([config.jobs.prices_data!.local, config.jobs.sleepy!.local]).toEqual([false, true]);
  let thrown: unknown;
  try {
    parseConfig(`${ok}    local: "yes"\n`, 'hea.yaml', { env: {}, root: '/srv/hea' });
  } catch (err) {
    thrown = err;
  }
  expect(thrown).toBeInstanceOf(ConfigError);
  expect((thrown as ConfigError).problems).toEqual([expect.objectContaining({ path: 'jobs.prices_data.local' })]);
});
