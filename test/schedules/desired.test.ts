// The schedules config asks for, without a server: the hash `apply` compares to decide whether a
// schedule needs an update, and what goes into the schedule.
import { parseConfig } from '../../src/config/load.js';
import { desiredSchedules, scheduleId } from '../../src/schedules/desired.js';

interface Entry {
  flow: string;
  cron?: string;
  every?: string;
  params?: Record<string, unknown>;
  paused?: boolean;
  description?: string;
  overlap?: string;
}

function schedules(entries: Record<string, Entry>, extra: Record<string, unknown> = {}) {
  const config = parseConfig(JSON.stringify({ jobs: {}, schedules: { idPrefix: 'hea-', entries, ...extra } }), '/nowhere/hea.yaml', { env: {} });
  return Object.fromEntries(desiredSchedules(config).map((s) => [s.id, s]));
}

const daily: Entry = { flow: 'daily-pipeline', cron: '0 6 * * *', params: { horizonDays: 2 } };
const hashOf = (entry: Entry, extra: Record<string, unknown> = {}) => schedules({ daily: entry }, extra)['hea-daily']!.hash;

test('the same entry hashes the same, whatever the order of its keys', () => {
  const reordered: Entry = { params: { horizonDays: 2 }, cron: '0 6 * * *', flow: 'daily-pipeline' };
  expect(hashOf(reordered)).toBe(hashOf(daily));
});

test('defaults written out hash like defaults left out (the params are validated first)', () => {
  expect(hashOf({ ...daily, params: { horizonDays: 2, priceModel: 'trend' } })).toBe(hashOf(daily));
});

test.each<[string, Entry, Record<string, unknown>]>([
  ['the cron', { ...daily, cron: '0 7 * * *' }, {}],
  ['a parameter', { ...daily, params: { horizonDays: 3 } }, {}],
  ['the description', { ...daily, description: 'later' }, {}],
  ['the overlap policy', { ...daily, overlap: 'buffer_one' }, {}],
  ['the time zone', daily, { timezone: 'UTC' }],
  ['cron to an interval', { flow: 'daily-pipeline', every: '1h', params: { horizonDays: 2 } }, {}],
])('changing %s changes the hash (apply updates the schedule)', (_what, entry, extra) => {
  expect(hashOf(entry, extra)).not.toBe(hashOf(daily));
});

test('pausing does not change the hash: apply never undoes a pause or unpause made by hand', () => {
  expect(hashOf({ ...daily, paused: true })).toBe(hashOf(daily));
});

test('the schedule starts its flow with validated params and carries its hash in the memo', () => {
  const s = schedules({ daily })['hea-daily']!;
  expect(s.options.action).toMatchObject({
    type: 'startWorkflow',
    workflowType: 'dailyEnergyPipeline',
    workflowId: 'daily-pipeline-scheduled',
    args: [expect.objectContaining({ horizonDays: 2, updateData: true })],
    memo: { heaScheduleHash: s.hash },
  });
  expect(s.options.memo).toEqual({ managedBy: 'home-energy-ai' });
});

test('schedule ids carry the prefix once', () => {
  const config = parseConfig('jobs: {}\nschedules: { idPrefix: "x-" }\n', '/nowhere/hea.yaml', { env: {} });
  expect([scheduleId(config, 'daily'), scheduleId(config, 'x-daily')]).toEqual(['x-daily', 'x-daily']);
});
