// A step whose job finds no trained model (a fresh clone) tells the user which flow to run, not a Python
// command: the jobs' registry says `python -m jobs.demand.train --production`, the report says `npx hea run`.
import type { RunReport, StepReport } from '../../src/workflows/report.js';
import { fixtureConfig, fixtureWorker, tmpDir, uniqueTaskQueue, useTestServer } from '../helpers/env.js';
import { writeScript } from '../helpers/faults.js';

const env = useTestServer();

// What jobs/common/registry.py's load_champion raises (NoInputError, exit 66) on a fresh clone.
const NO_MODEL = `
import sys
print("NoInputError: no trained model 'demand' in the registry: run \`python -m jobs.demand.train --production\` first", file=sys.stderr)
sys.exit(66)
`;

test("daily pipeline on a fresh clone: the missing model's step says to run npx hea run weekly-training", async () => {
  const noModel = writeScript(tmpDir(), 'no_model.py', NO_MODEL);
  const ok = { script: 'echo_job.py' };
  const config = fixtureConfig({
    solar_predictions: ok,
    price_predictions: ok,
    demand_predictions: { args: [noModel] },
    rl_control: ok,
  });
  const taskQueue = uniqueTaskQueue('steps');
  const worker = await fixtureWorker(env, config, taskQueue);
  const report = (await worker.runUntil(
    env.client.workflow.execute('dailyEnergyPipeline', { taskQueue, workflowId: `steps-${taskQueue}`, args: [{ updateData: false }] }),
  )) as RunReport;
  const steps = Object.fromEntries(report.steps.map((s) => [s.step, s])) as Record<string, StepReport>;
  const demand = steps['demand forecast']!;
  expect([demand.status, demand.errorType]).toEqual(['failed', 'NoInputError']);
  expect(demand.error!.split('\n')[0]).toContain('run `npx hea run weekly-training` first');
  expect(demand.error).not.toContain('python -m');
  expect(steps['battery plan']!.status).toBe('skipped');
});
