// runDag's ordering and skipping, without a server: a step runner that records when each step starts and
// lets the test decide when, and how, each one ends.
import type { StepReport } from '../../src/contracts/report.js';
import { runDag, type DagStep, type StepRunner } from '../../src/workflows/dag.js';

/** Steps end when the test says; `log` records starts, ends and skips in order. */
function controlledRunner() {
  const log: string[] = [];
  const pending = new Map<string, (status: StepReport['status']) => void>();
  const runner: StepRunner = {
    step: (step, job) => {
      log.push(`start ${step}`);
      return new Promise<StepReport>((resolve) =>
        pending.set(step, (status) => {
          log.push(`end ${step}`);
          resolve({ step, job, status });
        }),
      );
    },
    skip: (step, job, because) => {
      log.push(`skip ${step}`);
      return { step, job, status: 'skipped', error: because };
    },
  };
  /** Lets every promise that can resolve, resolve (runDag awaits nothing but its steps). */
  const settle = async () => {
    for (let i = 0; i < 10; i++) await Promise.resolve();
  };
  /** Ends a started step, then lets the steps waiting on it start. */
  const finish = async (step: string, status: StepReport['status'] = 'success') => {
    const end = pending.get(step);
    if (!end) throw new Error(`${step} has not started`);
    end(status);
    await settle();
  };
  return { runner, log, finish, settle };
}

const PLAN: DagStep[] = [
  { step: 'prices', job: 'prices_data' },
  { step: 'weather', job: 'weather_data' },
  { step: 'price forecast', job: 'price_predictions', needs: ['prices', 'weather'] },
  { step: 'battery plan', job: 'rl_control', needs: ['price forecast'] },
];

test('steps without needs start at once, side by side', async () => {
  const { runner, log, settle } = controlledRunner();
  void runDag(runner, PLAN);
  await settle();
  expect(log).toEqual(['start prices', 'start weather']);
});

test('a step starts once every step it needs has succeeded, not before', async () => {
  const { runner, log, finish, settle } = controlledRunner();
  const done = runDag(runner, PLAN);
  await settle();
  await finish('prices');
  expect(log).not.toContain('start price forecast');
  await finish('weather');
  expect(log.at(-1)).toBe('start price forecast');
  await finish('price forecast');
  await finish('battery plan');
  expect((await done).map((s) => [s.step, s.status])).toEqual([
    ['prices', 'success'],
    ['weather', 'success'],
    ['price forecast', 'success'],
    ['battery plan', 'success'],
  ]);
});

test('a failed step skips the steps that need it, and in turn theirs, naming the cause', async () => {
  const { runner, log, finish, settle } = controlledRunner();
  const done = runDag(runner, PLAN);
  await settle();
  await finish('prices', 'failed');
  await finish('weather');
  const steps = await done;
  expect(log).toEqual(['start prices', 'start weather', 'end prices', 'end weather', 'skip price forecast', 'skip battery plan']);
  expect(steps[2]).toMatchObject({ status: 'skipped', error: 'skipped: prices failed' });
  expect(steps[3]).toMatchObject({ status: 'skipped', error: 'skipped: price forecast skipped' });
});

test('a need naming a step outside the plan is ignored', async () => {
  const { runner, finish, settle } = controlledRunner();
  const done = runDag(runner, [{ step: 'forecast', job: 'price_predictions', needs: ['data updates'] }]);
  await settle();
  await finish('forecast');
  expect((await done).map((s) => s.status)).toEqual(['success']);
});

test('each step runs once, however many steps need it', async () => {
  const { runner, log, finish, settle } = controlledRunner();
  const done = runDag(runner, [
    { step: 'data', job: 'prices_data' },
    { step: 'a', job: 'x', needs: ['data'] },
    { step: 'b', job: 'y', needs: ['data'] },
  ]);
  await settle();
  await finish('data');
  await finish('a');
  await finish('b');
  await done;
  expect(log.filter((l) => l === 'start data')).toHaveLength(1);
});
