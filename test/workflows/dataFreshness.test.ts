import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { writeFileSync, utimesSync } from 'node:fs';
import { join } from 'node:path';
import { evaluateFreshness } from '../../src/activities/freshness.js';
import type { RunReport } from '../../src/workflows/report.js';
import { fixtureConfig, fixtureWorker, tmpDir, uniqueTaskQueue, useTestServer, waitFor } from '../helpers/env.js';

const env = useTestServer();

const H = 3_600_000;

const NOW = Date.parse('2026-06-01T12:00:00Z');

/** The verdicts of one check at NOW, by dataset. */
function verdicts(rules: Parameters<typeof evaluateFreshness>[0], series: Parameters<typeof evaluateFreshness>[1], fileTimes: Record<string, number> = {}) {
  return Object.fromEntries(evaluateFreshness(rules, series, fileTimes, NOW).map((v) => [v.dataset, v]));
}

test('a series younger than its maximum age is fresh, and names the flow that refreshes it', () => {
  const by = verdicts({ prices: { series: 'price.spot', maxAge: 2 * H, remediate: 'hourly-exogenic' } }, { 'price.spot': { rows: 10, latest: '2026-06-02T22:00:00Z' } });
  expect(by.prices).toMatchObject({ is_fresh: true, remediate: { flow: 'hourly-exogenic', workflow: 'hourlyExogenousData' } });
});

test('a series older than its maximum age is stale, with its age', () => {
  const by = verdicts({ weather: { series: 'weather.temperature', maxAge: 3 * H } }, { 'weather.temperature': { rows: 10, latest: '2026-06-01T06:00:00Z' } });
  expect(by.weather).toMatchObject({ is_fresh: false, age_hours: 6, reason: 'latest data is 6 h old, more than 3 h' });
});

test('a series the store does not have is stale', () => {
  const by = verdicts({ solar: { series: 'solar.production', maxAge: 26 * H } }, {});
  expect(by.solar).toMatchObject({ is_fresh: false, reason: 'series solar.production has no data' });
});

test("a file's age is its modification time; a missing file is stale", () => {
  const by = verdicts({ csv: { file: 'data/legacy.csv', maxAge: 24 * H }, gone: { file: 'data/none.csv', maxAge: 24 * H } }, {}, { 'data/legacy.csv': NOW - 5 * H });
  expect(by.csv).toMatchObject({ is_fresh: true, age_hours: 5 });
  expect(by.gone).toMatchObject({ is_fresh: false, reason: 'file data/none.csv does not exist' });
});

test("when the store's status could not be read, its series are unknown (no alarm); files still count", () => {
  const blind = verdicts({ prices: { series: 'price.spot', maxAge: 2 * H }, gone: { file: 'x.csv', maxAge: H } }, undefined);
  expect(blind.prices).toMatchObject({ unknown: true, is_fresh: false });
  expect(blind.gone!.unknown).toBeUndefined();
});

test('stale data: an alert to the webhook, and one remediation run however many checks overlap', async () => {
  const received: unknown[] = [];
  const server = createServer((req: IncomingMessage, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      received.push(JSON.parse(body));
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  const dir = tmpDir();
  const csv = join(dir, 'legacy.csv');
  writeFileSync(csv, 'ts,value\n');
  utimesSync(csv, new Date(Date.now() - 48 * H), new Date(Date.now() - 48 * H));
  const slowFetch = { script: 'progress_job.py', args: ['10', '0.5'] };
  const config = fixtureConfig(
    {
      store_status: { script: 'status_fixture.py', args: ['price.spot=5', 'weather.temperature=6', 'home.consumption=0.5'] },
      prices_data: slowFetch,
      co2_gas_coal: slowFetch,
      weather_data: slowFetch,
    },
    {
      freshness: {
        webhook: `http://127.0.0.1:${port}/alerts`,
        datasets: {
          spot_prices: { series: 'price.spot', maxAge: '2h', remediate: 'hourly-exogenic' },
          weather: { series: 'weather.temperature', maxAge: '3h', remediate: 'hourly-exogenic' },
          consumption: { series: 'home.consumption', maxAge: '2h', remediate: 'home-data' },
          legacy_csv: { file: csv, maxAge: '24h' },
        },
      },
    },
  );
  const taskQueue = uniqueTaskQueue('fresh');
  const worker = await fixtureWorker(env, config, taskQueue);
  try {
    await worker.runUntil(async () => {
      // Three checks at once, as overlapping schedule runs or a manual check could make.
      const reports = (await Promise.all(
        [1, 2, 3].map((i) => env.client.workflow.execute('dataFreshness', { taskQueue, workflowId: `fresh-${i}-${taskQueue}`, args: [{}] })),
      )) as RunReport[];
      const table = reports[0]!.tables![0]!;
      expect(table.rows.map((r) => [r[0], r[2]])).toEqual([
        ['spot_prices', 'NO'],
        ['weather', 'NO'],
        ['consumption', 'yes'],
        ['legacy_csv', 'NO'],
      ]);
      // The same verdicts, typed, for whoever reads the report (`hea freshness` counts these).
      expect(reports[0]!.datasets!.map((v) => [v.dataset, v.is_fresh])).toEqual([
        ['spot_prices', false],
        ['weather', false],
        ['consumption', true],
        ['legacy_csv', false],
      ]);
      const remediations = reports.flatMap((r) => r.steps.filter((s) => s.step === 'remediate hourly-exogenic'));
      expect(remediations.map((s) => String(s.result?.detail)).sort()).toEqual([
        'already running: not started again',
        'already running: not started again',
        'started remediate-hourly-exogenic',
      ]);
      expect(reports.every((r) => r.status === 'success')).toBe(true);

      const runs: string[] = [];
      await waitFor('the remediation to show in visibility', async () => {
        runs.length = 0;
        for await (const wf of env.client.workflow.list({ query: `WorkflowId = 'remediate-hourly-exogenic'` })) runs.push(wf.runId);
        return runs.length > 0;
      });
      expect(runs).toHaveLength(1);
      const remediation = (await env.client.workflow.getHandle('remediate-hourly-exogenic').result()) as RunReport;
      expect(remediation.workflow).toBe('hourlyExogenousData');
      expect(remediation.status).toBe('success');
    });
  } finally {
    server.close();
  }
  // Three checks found the same stale datasets: one alert (the same subject within the window is not resent).
  expect(received).toHaveLength(1);
  expect(received[0]).toMatchObject({ source: 'home-energy-ai', kind: 'stale-data', subject: 'stale data: spot_prices, weather, legacy_csv' });
  expect((received[0] as { data: { datasets: { dataset: string }[] } }).data.datasets.map((d) => d.dataset)).toEqual(['spot_prices', 'weather', 'legacy_csv']);
});
