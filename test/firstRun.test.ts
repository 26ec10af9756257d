// First run: with no trained model, `hea start` starts one weekly-training (fixed id, visibly); once a model
// exists, or while that training runs or after it ran, it does not start another.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FIRST_TRAINING_ID, hasTrainedModels, startFirstTraining } from '../src/firstRun.js';
import type { RunReport } from '../src/workflows/report.js';
import { fixtureWorker, testLogger, tmpDir, uniqueTaskQueue, useTestServer } from './helpers/env.js';
import { writeConfig, writeScript } from './helpers/faults.js';

const env = useTestServer();

// A training that saves a model file under $HEA_MODELS_DIR/<name>/, as the registry does.
const TRAIN_JOB = `
import json, os, sys
name = sys.argv[1]
folder = os.path.join(os.environ["HEA_MODELS_DIR"], name)
os.makedirs(folder, exist_ok=True)
open(os.path.join(folder, "v1.pkl"), "wb").write(b"model")
print(json.dumps({"result": {"model": name}}))
`;
const QUICK_JOB = 'import json; print(json.dumps({"result": {}}))\n';

test('hasTrainedModels: meter models from the API do not count', () => {
  const dir = tmpDir();
  expect(hasTrainedModels(join(dir, 'missing'), ['electricity'])).toBe(false);
  mkdirSync(join(dir, 'electricity'), { recursive: true });
  writeFileSync(join(dir, 'electricity', 'meter_1.pkl'), 'x');
  expect(hasTrainedModels(dir, ['electricity'])).toBe(false);
  mkdirSync(join(dir, 'price_trend'));
  writeFileSync(join(dir, 'price_trend', 'v1.json'), '{}');
  expect(hasTrainedModels(dir, ['electricity'])).toBe(false);
  writeFileSync(join(dir, 'price_trend', 'v1.pkl'), 'x');
  expect(hasTrainedModels(dir, ['electricity'])).toBe(true);
});

test('no trained model: one first training starts, under a fixed id, and only once', async () => {
  const dir = tmpDir('hea-first-');
  const train = writeScript(dir, 'train.py', TRAIN_JOB);
  const quick = writeScript(dir, 'quick.py', QUICK_JOB);
  const taskQueue = uniqueTaskQueue('first');
  const fetch = { args: [quick] };
  const config = writeConfig(
    {
      prices_data: fetch,
      co2_gas_coal: fetch,
      weather_data: fetch,
      consumption_data: fetch,
      thermia_data: fetch,
      solar_actual: fetch,
      prices_train: { args: [train, 'price_trend'] },
      demand_train: { args: [train, 'demand'] },
      training_report: fetch,
    },
    { temporal: { taskQueue } },
    dir,
  );
  const messages: string[] = [];
  const logger = testLogger();
  logger.info = ((_obj: unknown, msg?: string) => void messages.push(msg ?? '')) as typeof logger.info;
  const app = { client: env.client, config, target: { taskQueue, namespace: 'default', connectionOptions: {} }, logger };

  const first = await startFirstTraining(app);
  expect(first).toEqual({ started: true, workflowId: FIRST_TRAINING_ID });
  expect(messages.join('\n')).toContain('no trained models yet: started a first weekly-training');
  // While it waits for a worker (or runs), a second start does not start another.
  expect(await startFirstTraining(app)).toEqual({ started: false, why: `${FIRST_TRAINING_ID} is running or has run` });

  const worker = await fixtureWorker(env, config, taskQueue);
  const report = (await worker.runUntil(env.client.workflow.getHandle(FIRST_TRAINING_ID).result())) as RunReport;
  expect(report.workflow).toBe('weeklyModelTraining');
  expect(report.status).toBe('success');
  expect(hasTrainedModels(config.dirs.models, config.api.meterTypes)).toBe(true);
  expect(await startFirstTraining(app)).toEqual({ started: false, why: 'models are trained' });
});

test('switched off with schedules.firstTraining: false', async () => {
  const config = writeConfig({}, { schedules: { firstTraining: false } });
  const app = { client: env.client, config, target: { taskQueue: 'unused', namespace: 'default', connectionOptions: {} }, logger: testLogger() };
  expect(await startFirstTraining(app)).toEqual({ started: false, why: 'schedules.firstTraining is off' });
});
