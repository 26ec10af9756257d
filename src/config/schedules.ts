import { z } from 'zod';
import { cronProblem } from './cron.js';
import { durationMs } from './duration.js';
import { FLOWS, isFlowName, validateFlowParams } from '../contracts/flows.js';

const flowName = z.string().refine(isFlowName, { message: `unknown flow; flows: ${Object.keys(FLOWS).join(', ')}` });

export const overlapPolicy = z.enum(['skip', 'buffer_one', 'buffer_all', 'cancel_other', 'terminate_other', 'allow_all']);

function validTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

// Five cron fields (minute hour day-of-month month day-of-week), as the organizer wrote them.
const CRON = /^\s*\S+\s+\S+\s+\S+\s+\S+\s+\S+\s*$/;

export const scheduleEntrySchema = z
  .object({
    flow: flowName,
    description: z.string().optional(),
    cron: z
      .string()
      .regex(CRON, 'expected a 5-field cron expression, e.g. "0 6 * * *"')
      .superRefine((cron, ctx) => {
        const problem = cronProblem(cron);
        if (problem) ctx.addIssue({ code: 'custom', message: `invalid cron "${cron}": ${problem}` });
      })
      .optional(),
    every: durationMs.refine((ms) => ms >= 1_000, 'at least 1s').optional(),
    params: z.record(z.string(), z.unknown()).default({}),
    overlap: overlapPolicy.optional(),
    catchupWindow: durationMs.optional(),
    pauseOnFailure: z.boolean().optional(),
    /** Whether the schedule starts paused. Only at creation: later, `hea schedules pause|unpause` decide. */
    paused: z.boolean().default(false),
  })
  .strict()
  .superRefine((entry, ctx) => {
    if ((entry.cron === undefined) === (entry.every === undefined)) {
      ctx.addIssue({ code: 'custom', message: 'give exactly one of cron or every', path: ['cron'] });
    }
    if (isFlowName(entry.flow)) {
      const params = validateFlowParams(entry.flow, entry.params);
      if (!params.ok) for (const problem of params.problems) ctx.addIssue({ code: 'custom', message: problem, path: ['params'] });
    }
  });

export const schedulesSchema = z
  .object({
    timezone: z.string().refine(validTimeZone, { message: 'not an IANA time zone (e.g. Europe/Stockholm)' }).default('Europe/Stockholm'),
    overlap: overlapPolicy.default('skip'),
    catchupWindow: durationMs.default(3_600_000),
    pauseOnFailure: z.boolean().default(false),
    /** `hea start` starts one weekly-training when no model is trained yet (a fresh clone). */
    firstTraining: z.boolean().default(true),
    /** `hea schedules backfill` refuses to start more runs than this without --yes. */
    backfillLimit: z.number().int().min(1).default(10),
    /** Schedule ids are prefixed so `apply` only ever deletes the project's own schedules. */
    idPrefix: z
      .string()
      .regex(/^[a-z][a-z0-9-]*$/)
      .default('hea-'),
    entries: z.record(z.string().regex(/^[a-z][a-z0-9-]*$/, 'use lower case letters, digits and -'), scheduleEntrySchema).default({}),
  })
  .strict();

export const freshnessSchema = z
  .object({
    /** POSTed a JSON alert when a dataset is stale. */
    webhook: z.url().optional(),
    datasets: z
      .record(
        z.string().regex(/^[a-z][a-z0-9_]*$/, 'use lower case letters, digits and _'),
        z
          .object({
            /** A series of the data store (from the store_status job). */
            series: z.string().min(1).optional(),
            /** A file whose modification time is its age (the organizer's CSV check). */
            file: z.string().min(1).optional(),
            maxAge: durationMs,
            /** The flow that refreshes it, started when it is stale. */
            remediate: flowName.optional(),
          })
          .strict()
          .refine((d) => (d.series === undefined) !== (d.file === undefined), { message: 'give exactly one of series or file' }),
      )
      .default({}),
  })
  .strict();

export type ScheduleEntry = z.output<typeof scheduleEntrySchema>;
export type SchedulesConfig = z.output<typeof schedulesSchema>;
export type FreshnessConfig = z.output<typeof freshnessSchema>;
