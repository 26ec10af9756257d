// `hea schedules ...`: apply the table from config, and look after single schedules.
import { Command } from 'commander';
import type { App } from '../app.js';
import { MANAGED_BY, scheduleId } from '../schedules/desired.js';
import { UsageProblem, withApp, type ConfigFile } from './withApp.js';

function parseTime(flag: string, value: string): Date {
  const d = new Date(value);
  if (Number.isNaN(d.getTime())) throw new UsageProblem(`${flag}: "${value}" is not a date/time (use ISO 8601, e.g. 2026-01-01T06:00:00Z)`);
  return d;
}

// Backfills default to one run after another: concurrent runs of a pipeline compete for the same store.
const OVERLAP = {
  buffer_all: 'BUFFER_ALL',
  buffer_one: 'BUFFER_ONE',
  skip: 'SKIP',
  allow_all: 'ALLOW_ALL',
  cancel_other: 'CANCEL_OTHER',
  terminate_other: 'TERMINATE_OTHER',
} as const;

function backfillOverlap(value: string): (typeof OVERLAP)[keyof typeof OVERLAP] {
  if (!Object.hasOwn(OVERLAP, value)) throw new UsageProblem(`--overlap: "${value}" is not one of ${Object.keys(OVERLAP).join(', ')}`);
  return OVERLAP[value as keyof typeof OVERLAP];
}

/** The times the schedule would have started a run between start and end (the server's own answer). */
async function matchingTimes(app: App, id: string, start: Date, end: Date): Promise<Date[]> {
  const { msToTs, tsToDate } = await import('@temporalio/common/lib/time.js');
  try {
    const res = (await app.client.workflowService.listScheduleMatchingTimes({
      namespace: app.target.namespace,
      scheduleId: id,
      // The server's matching times exclude the start; a backfill includes it.
      startTime: msToTs(start.getTime() - 1),
      endTime: msToTs(end.getTime()),
    })) as { startTime?: Parameters<typeof tsToDate>[0][] | null };
    return (res.startTime ?? []).map((t) => tsToDate(t));
  } catch (err) {
    throw await unknownScheduleAsUsage(err, id);
  }
}

/** The server's "workflow not found for ID: temporal-sys-scheduler:..." for a schedule id nobody has. */
async function unknownScheduleAsUsage(err: unknown, id: string): Promise<unknown> {
  const { ScheduleNotFoundError } = await import('@temporalio/client');
  const grpcNotFound = (err as { code?: number }).code === 5 || /not found/i.test((err as Error).message ?? '');
  return err instanceof ScheduleNotFoundError || grpcNotFound ? new UsageProblem(`no schedule "${id}" (see hea schedules list)`) : err;
}

export function schedulesCommand(configFile: ConfigFile): Command {
  const cmd = new Command('schedules').description('Temporal Schedules from the config table');

  cmd
    .command('apply')
    .description('create, update and delete schedules so the server matches config (prints the difference)')
    .option('--dry-run', 'only print what would change')
    .action(async (opts: { dryRun?: boolean }) =>
      withApp(configFile, { worker: 'never' }, async (app) => {
        const { applySchedules, formatPlan } = await import('../schedules/apply.js');
        const plan = await applySchedules(app.client, app.config, { dryRun: opts.dryRun });
        process.stdout.write(`${opts.dryRun ? '(dry run)\n' : ''}${formatPlan(plan)}\n`);
        return true;
      }),
    );

  cmd
    .command('list')
    .description('every schedule on the server, with its next run')
    .option('--json', 'as JSON')
    .action(async (opts: { json?: boolean }) =>
      withApp(configFile, { worker: 'never' }, async (app) => {
        const rows: Record<string, unknown>[] = [];
        for await (const s of app.client.schedule.list()) {
          const desc = await app.client.schedule.getHandle(s.scheduleId).describe();
          rows.push({
            id: s.scheduleId,
            workflow: desc.action.type === 'startWorkflow' ? desc.action.workflowType : '?',
            paused: desc.state.paused,
            next: desc.info.nextActionTimes[0]?.toISOString() ?? '-',
            last: desc.info.recentActions.at(-1)?.takenAt.toISOString() ?? '-',
            managed: desc.memo?.managedBy === MANAGED_BY,
            timezone: desc.spec.timezone ?? 'UTC',
          });
        }
        rows.sort((a, b) => String(a.id).localeCompare(String(b.id)));
        if (opts.json) {
          process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
          return true;
        }
        process.stdout.write(`${'ID'.padEnd(28)} ${'WORKFLOW'.padEnd(22)} ${'PAUSED'.padEnd(7)} ${'NEXT RUN'.padEnd(25)} LAST RUN\n`);
        for (const r of rows) {
          process.stdout.write(
            `${String(r.id).padEnd(28)} ${String(r.workflow).padEnd(22)} ${String(r.paused).padEnd(7)} ${String(r.next).padEnd(25)} ${r.last}${r.managed ? '' : '  (not managed by hea)'}\n`,
          );
        }
        return true;
      }),
    );

  const single = (name: string, description: string, fn: (app: App, id: string, opts: Record<string, string>) => Promise<string>) =>
    cmd
      .command(`${name} <id>`)
      .description(description)
      .action(async (id: string, opts: Record<string, string>) =>
        withApp(configFile, { worker: 'never' }, async (app) => {
          const full = scheduleId(app.config, id);
          try {
            process.stdout.write(`${await fn(app, full, opts)}\n`);
            return true;
          } catch (err) {
            throw await unknownScheduleAsUsage(err, full);
          }
        }),
      );

  single('pause', 'pause a schedule (a later apply keeps it paused)', async (app, id, opts) => {
    await app.client.schedule.getHandle(id).pause(opts.note ?? 'paused with hea schedules pause');
    return `paused ${id}`;
  }).option('--note <text>', 'why');
  single('unpause', 'unpause a schedule', async (app, id) => {
    await app.client.schedule.getHandle(id).unpause('unpaused with hea schedules unpause');
    return `unpaused ${id}`;
  });
  single('trigger', "start the schedule's action now", async (app, id) => {
    await app.client.schedule.getHandle(id).trigger();
    return `triggered ${id}`;
  });
  single('delete', 'delete a schedule (apply re-creates it while config names it)', async (app, id) => {
    await app.client.schedule.getHandle(id).delete();
    return `deleted ${id}`;
  });
  single('backfill', 'start the runs the schedule would have started between --from and --to, each with its scheduled time as "now"', async (app, id, opts) => {
    const start = parseTime('--from', opts.from!);
    const end = parseTime('--to', opts.to!);
    if (end <= start) throw new UsageProblem('--to must be after --from');
    const overlap = backfillOverlap(opts.overlap!);
    const runs = await matchingTimes(app, id, start, end);
    const limit = app.config.schedules.backfillLimit;
    if (runs.length > limit && !opts.yes) {
      throw new UsageProblem(
        `backfilling ${id} from ${start.toISOString()} to ${end.toISOString()} would start ${runs.length} runs, more than ${limit} ` +
          '(schedules.backfillLimit): pass --yes to start them all, or a shorter range',
      );
    }
    if (runs.length === 0) return `nothing to backfill: ${id} has no scheduled time from ${start.toISOString()} to ${end.toISOString()}`;
    await app.client.schedule.getHandle(id).backfill({ start, end, overlap });
    const how = overlap === 'BUFFER_ALL' ? 'one after another' : `overlap policy ${overlap}`;
    return `backfilling ${id}: ${runs.length} run${runs.length === 1 ? '' : 's'} (${runs[0]!.toISOString()} .. ${runs.at(-1)!.toISOString()}), ${how}; each treats its scheduled time as now`;
  })
    .requiredOption('--from <time>', 'start (ISO 8601)')
    .requiredOption('--to <time>', 'end (ISO 8601)')
    .option('--overlap <policy>', `what a run does when the previous one still runs: ${Object.keys(OVERLAP).join(', ')}`, 'buffer_all')
    .option('--yes', 'start more runs than schedules.backfillLimit');

  return cmd;
}
