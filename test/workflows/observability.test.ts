// What someone watching sees: HeaStatus in Temporal's list, alerts at a webhook (a real local receiver),
// the daily report's plan table and charts, realised accuracy (`hea accuracy`) and the early retraining
// of a degraded model, once. Real jobs for scoring and the report, on a simulated store.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { WorkflowFailedError } from '@temporalio/client';
import { execa } from 'execa';
import { applyRetention, ensureStatusAttribute } from '../../src/temporal/namespace.js';
import type { RunReport } from '../../src/workflows/report.js';
import {
  FIXTURE_JOB_DEFAULTS,
  PIPELINE_JOBS,
  PYTHON,
  ROOT,
  fixtureConfig,
  fixtureWorker,
  testLogger,
  uniqueTaskQueue,
  useTestServer,
  waitFor,
  type FixtureJob,
} from '../helpers/env.js';
import { startReceiver, type Receiver } from '../helpers/receiver.js';

const env = useTestServer();
const NOW = '2025-11-03T10:30:00Z';

let receiver: Receiver;
beforeAll(async () => {
  expect(await ensureStatusAttribute(env.connection, 'default', testLogger())).toBe(true);
  receiver = await startReceiver();
});
afterAll(() => receiver?.close());

function config(failing: string[]) {
  const jobs: Record<string, FixtureJob> = {};
  for (const job of PIPELINE_JOBS) jobs[job] = { script: 'echo_job.py', args: failing.includes(job) ? ['fail'] : [] };
  jobs.accuracy_score = { args: ['-m', 'jobs.accuracy.score'] };
  jobs.daily_report = { args: ['-m', 'jobs.reports.daily'] };
  return fixtureConfig(jobs, {
    jobDefaults: { ...FIXTURE_JOB_DEFAULTS, env: { HEA_NOW: NOW } },
    notifications: { webhook: { url: receiver.url } },
    accuracy: { degradationThreshold: 0.1, minDays: 1 },
  });
}

async function listIds(query: string): Promise<string[]> {
  const ids: string[] = [];
  for await (const wf of env.client.workflow.list({ query })) ids.push(wf.workflowId);
  return ids;
}

test('a partial daily run: findable as HeaStatus="partial", alerts at the webhook, the plan table and charts, scores, one early retraining', async () => {
  const cfg = config(['weather_data']);
  await execa(PYTHON, ['-m', 'jobs.tests.accuracy_seed', '--days', '10'], { cwd: ROOT, env: { HEA_NOW: NOW, HEA_STORE_URL: cfg.storeUrl } });
  const taskQueue = uniqueTaskQueue('observe');
  const worker = await fixtureWorker(env, cfg, taskQueue);
  const run = (i: number) => env.client.workflow.execute('dailyEnergyPipeline', { taskQueue, workflowId: `daily-${i}-${taskQueue}`, args: [{}] }) as Promise<RunReport>;
  await worker.runUntil(async () => {
    const report = await run(1);
    expect(report.status).toBe('partial');

    // The Web UI's list can filter it.
    await waitFor('the run to be listed as partial', async () => (await listIds(`HeaStatus = "partial" AND TaskQueue = "${taskQueue}"`)).includes(report.workflowId));

    // The daily report: the plan table (local time, price with unit, action, kWh, SoC, cost) and the charts beside it.
    const md = readFileSync(report.reportFile!, 'utf8');
    expect(md).toContain('# dailyEnergyPipeline: partial');
    expect(md).toMatch(/## Battery plan for 2025-11-03 and 2025-11-04 \(Europe\/Stockholm\), issued 2025-11-03 11:30 by mpc/);
    expect(md).toContain('| time (local) | price (EUR/kWh) | action | kWh | SoC (%) | SoC (kWh) | cost (EUR) | cost without battery (EUR) | why |');
    expect(md).toContain('| 2025-11-03 12:00 |');
    const name = report.reportFile!.split('/').at(-1)!.replace(/\.md$/, '');
    for (const svg of ['plan.svg', 'forecasts.svg']) {
      expect(md).toContain(`](${name}/${svg})`);
      expect(readFileSync(join(dirname(report.reportFile!), name, svg), 'utf8')).toContain('<svg');
    }
    expect(existsSync(join(dirname(report.reportFile!), name, 'plan.json'))).toBe(true);
    expect(md).not.toMatch(/`\{[^`]*$/m); // no JSON cut off mid-line

    // Yesterday scored; the seeded price model (60% high) is far behind naive: an alert and an early retraining.
    const degradation = report.steps.find((s) => s.step === 'degradation: price')!;
    expect(degradation.status).toBe('success');
    expect(String(degradation.result!.detail)).toContain('alert sent; retraining started early (retrain-early-price-price_trend-v1)');
    const retrain = (await env.client.workflow.getHandle('retrain-early-price-price_trend-v1').result()) as RunReport;
    expect(retrain.params).toMatchObject({ trainPriceModels: true, trainDemandModel: false });
    expect(report.steps.find((s) => s.step.startsWith('degradation: demand'))).toBeUndefined();

    // Alerts that reached the receiver: the degradation and the partial run, with the report's link.
    const subjects = receiver.received.map((r) => r.body.subject);
    expect(subjects).toEqual(expect.arrayContaining(['degradation: price model price_trend', 'dailyEnergyPipeline partial']));
    const partial = receiver.received.find((r) => r.body.subject === 'dailyEnergyPipeline partial')!.body;
    expect(partial).toMatchObject({ kind: 'partial-run', report: report.reportFile });
    expect(String(partial.text)).toContain('weather');

    // The next day's run: still degraded, but the episode's retraining is not started again.
    const again = await run(2);
    expect(String(again.steps.find((s) => s.step === 'degradation: price')!.result!.detail)).toContain('retraining already started for this episode');
    expect(await listIds(`WorkflowId = "retrain-early-price-price_trend-v1"`)).toHaveLength(1);
  });

  // `hea accuracy`: the realised errors of the simulated day.
  const cli = await execa(process.execPath, [join(ROOT, 'bin', 'hea.js'), 'accuracy', '--json'], { cwd: ROOT, env: { HEA_CONFIG: cfg.file }, reject: false });
  expect(cli.exitCode).toBe(0);
  const out = JSON.parse(cli.stdout) as { scores: { kind: string; forecaster: string; day: string; serving: boolean; n: number }[] };
  expect(
    out.scores
      .filter((s) => s.day === '2025-11-02')
      .map((s) => `${s.kind}/${s.forecaster}${s.serving ? '*' : ''}`)
      .sort(),
  ).toEqual([
    'demand/demand*',
    'demand/naive_7day',
    'demand/naive_blend',
    'demand/naive_yesterday',
    'price/naive_7day',
    'price/naive_blend',
    'price/naive_yesterday',
    'price/price_trend*',
    'solar/naive_7day',
    'solar/naive_blend',
    'solar/naive_yesterday',
    'solar/solar*',
  ]);
  const table = await execa(process.execPath, [join(ROOT, 'bin', 'hea.js'), 'accuracy', '--kind', 'price'], { cwd: ROOT, env: { HEA_CONFIG: cfg.file } });
  expect(table.stdout).toMatch(/2025-11-02\s+price\s+price_trend \(serving\)/);
}, 180_000);

test('a failed run is findable as HeaStatus="failed" and its notification reaches the webhook', async () => {
  const cfg = config(['solar_actual']);
  const taskQueue = uniqueTaskQueue('observe-failed');
  const worker = await fixtureWorker(env, cfg, taskQueue);
  const workflowId = `solar-${taskQueue}`;
  const err = await worker.runUntil(env.client.workflow.execute('solarData', { taskQueue, workflowId, args: [{}] }).catch((e: unknown) => e));
  expect(err).toBeInstanceOf(WorkflowFailedError);
  await waitFor('the failed run in the list', async () => (await listIds(`HeaStatus = "failed" AND WorkflowId = "${workflowId}"`)).length === 1);
  const note = receiver.received.find((r) => r.body.kind === 'failed-run' && r.body.subject === 'solarData failed')!;
  expect(note.body.text).toMatch(/^\[home-energy-ai\] solarData failed: solar-.*1 step\(s\) failed \(solar production \(actual\)\)\nReport: .*solarData-.*\.md$/);
  expect(note.body.content).toBe(note.body.text);
}, 60_000);

test('retention is applied to the namespace', async () => {
  await applyRetention(env.connection, 'default', 30 * 86_400_000, testLogger());
  const ns = await env.connection.workflowService.describeNamespace({ namespace: 'default' });
  expect(Number(ns.config!.workflowExecutionRetentionTtl!.seconds)).toBe(30 * 86_400);
});
