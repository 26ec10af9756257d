// Flow parameters without a server: `--param key=value` parsing (hea run), the schemas' checks shared by
// the CLI, the schedules and the workflows, and the workflow-side parse that fails a run at once.
import { ApplicationFailure } from '@temporalio/common';
import { parseFlowParams } from '../../src/cli/flowParams.js';
import { validateFlowParams } from '../../src/contracts/flows.js';
import { parseParams, rlTrainingParams } from '../../src/workflows/params.js';

test('values are typed: true/false as booleans, numbers as numbers, the rest as text', () => {
  expect(parseFlowParams('daily-pipeline', ['updateData=false', 'horizonDays=1.5', 'priceModel=peak'])).toEqual({
    ok: true,
    value: expect.objectContaining({ updateData: false, horizonDays: 1.5, priceModel: 'peak' }),
  });
});

test('unset parameters take their defaults', () => {
  const parsed = parseFlowParams('weekly-training', []);
  expect(parsed).toEqual({ ok: true, value: { updateData: true, trainPriceModels: true, trainDemandModel: true, demandTrials: 50 } });
});

test('a pair without "=" or a name is refused, naming the pair', () => {
  expect(parseFlowParams('daily-pipeline', ['horizonDays'])).toEqual({ ok: false, problems: ['--param horizonDays: expected key=value'] });
  expect(parseFlowParams('daily-pipeline', ['=1'])).toEqual({ ok: false, problems: ['--param =1: expected key=value'] });
});

test("an object's internals are not parameter names", () => {
  expect(parseFlowParams('hourly-exogenic', ['__proto__=1'])).toEqual({ ok: false, problems: ['--param __proto__: not a parameter name'] });
});

test('an unknown parameter is refused by name', () => {
  const parsed = parseFlowParams('hourly-exogenic', ['colour=blue']);
  expect(parsed.ok).toBe(false);
  expect(!parsed.ok && parsed.problems.join('\n')).toContain('colour');
});

test('a value out of range names the parameter and the bound', () => {
  const parsed = parseFlowParams('daily-pipeline', ['horizonDays=99']);
  expect(!parsed.ok && parsed.problems).toEqual([expect.stringMatching(/^--param horizonDays: .*7/)]);
});

test.each(['2026-13-45', '2026-02-30'])('%s is not a calendar date', (day) => {
  expect(parseFlowParams('rl-training', [`endDate=${day}`])).toEqual({ ok: false, problems: ['--param endDate: not a calendar date'] });
});

test('startDate after endDate is refused on startDate', () => {
  expect(validateFlowParams('rl-training', { startDate: '2026-03-02', endDate: '2026-03-01' })).toEqual({
    ok: false,
    problems: ['startDate: startDate must not be after endDate'],
  });
});

test('a schedule entry prefixes nothing: problems name the parameter alone', () => {
  expect(validateFlowParams('freshness', { remediate: 'yes' })).toMatchObject({ ok: false, problems: [expect.stringMatching(/^remediate: /)] });
});

test('in a workflow, a bad parameter is a non-retryable InvalidParameters failure', () => {
  let thrown: unknown;
  try {
    parseParams(rlTrainingParams, { sanityCheckSteps: -1 });
  } catch (err) {
    thrown = err;
  }
  expect(thrown).toBeInstanceOf(ApplicationFailure);
  expect(thrown).toMatchObject({ type: 'InvalidParameters', nonRetryable: true, message: expect.stringMatching(/^sanityCheckSteps: /) });
});
