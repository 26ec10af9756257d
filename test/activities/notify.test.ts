// Webhook notifications against a real local HTTP receiver: the payload, de-duplication and the hourly
// budget, with state in the alerts table that a new worker (a restart) still sees.
import Database from 'better-sqlite3';
import { createNotifyActivities, alertsDbPath } from '../../src/activities/notify.js';
import { fixtureConfig, testLogger } from '../helpers/env.js';
import { startReceiver, type Receiver } from '../helpers/receiver.js';

let receiver: Receiver;
beforeEach(async () => {
  receiver = await startReceiver();
});
afterEach(() => receiver.close());

function config(extra: Record<string, unknown> = {}) {
  return fixtureConfig({}, { notifications: { webhook: { url: receiver.url, headers: { 'x-team': 'energy' }, token: 's3cret' }, ...extra } });
}

test('an alert reaches the webhook with Slack and Discord text fields, the report link and the token', async () => {
  const cfg = config({ reportBaseUrl: 'https://files.example.org/reports/' });
  const { notify } = createNotifyActivities(cfg, testLogger());
  const out = await notify({
    kind: 'failed-run',
    subject: 'solarData failed',
    message: 'every step failed',
    reportFile: `${cfg.dirs.reports}/solarData-x.md`,
    data: { runId: 'r1' },
  });
  expect(out).toMatchObject({ delivery: 'sent', webhookStatus: 204 });
  expect(receiver.received).toHaveLength(1);
  const { headers, body } = receiver.received[0]!;
  expect(headers.authorization).toBe('Bearer s3cret');
  expect(headers['x-team']).toBe('energy');
  expect(body).toMatchObject({
    source: 'home-energy-ai',
    kind: 'failed-run',
    subject: 'solarData failed',
    report: 'https://files.example.org/reports/solarData-x.md',
    data: { runId: 'r1' },
  });
  expect(body.text).toBe('[home-energy-ai] solarData failed: every step failed\nReport: https://files.example.org/reports/solarData-x.md');
  expect(body.content).toBe(body.text);
  const db = new Database(alertsDbPath(cfg), { readonly: true });
  const rows = db.prepare('SELECT kind, subject, message, data FROM alerts').all() as { data: string }[];
  db.close();
  expect(rows).toHaveLength(1);
  expect(JSON.parse(rows[0]!.data)).toMatchObject({ delivery: 'sent', runId: 'r1' });
});

test('the same subject within the window is sent once, also after a restart; the hourly budget holds', async () => {
  const cfg = config({ maxPerHour: 2 });
  const first = createNotifyActivities(cfg, testLogger());
  expect((await first.notify({ kind: 'stale-data', subject: 'stale: prices', message: 'old' })).delivery).toBe('sent');
  expect((await first.notify({ kind: 'stale-data', subject: 'stale: prices', message: 'old again' })).delivery).toBe('duplicate');
  // A new worker process: the state is in the alerts table, not in memory.
  const restarted = createNotifyActivities(cfg, testLogger());
  expect((await restarted.notify({ kind: 'stale-data', subject: 'stale: prices', message: 'still old' })).delivery).toBe('duplicate');
  expect((await restarted.notify({ kind: 'partial-run', subject: 'daily partial', message: 'm' })).delivery).toBe('sent');
  // Budget spent (2 an hour): recorded for the dashboard, not sent.
  expect((await restarted.notify({ kind: 'failed-run', subject: 'weekly failed', message: 'm' })).delivery).toBe('rate-limited');
  expect(receiver.received.map((r) => r.body.subject)).toEqual(['stale: prices', 'daily partial']);
  const db = new Database(alertsDbPath(cfg), { readonly: true });
  expect((db.prepare('SELECT subject FROM alerts ORDER BY id').all() as { subject: string }[]).map((r) => r.subject)).toEqual([
    'stale: prices',
    'daily partial',
    'weekly failed',
  ]);
  db.close();
});

test('a webhook that refuses is recorded as failed, does not throw, and does not block the next attempt', async () => {
  const cfg = config();
  const { notify } = createNotifyActivities(cfg, testLogger());
  receiver.status = 400;
  const out = await notify({ kind: 'failed-run', subject: 'x failed', message: 'm' });
  expect(out).toMatchObject({ delivery: 'failed', error: 'webhook answered 400' });
  receiver.status = 204;
  expect((await notify({ kind: 'failed-run', subject: 'x failed', message: 'm' })).delivery).toBe('sent');
  expect(receiver.received).toHaveLength(2);
});
