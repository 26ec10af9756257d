// The flows' parameters: schemas shared by the CLI, the schedules, the config and the workflows (zod is
// pure, so the workflow sandbox can run it too). Validated where a run starts and again in the workflow.
import { z } from 'zod';

export const priceModel = z.enum(['trend', 'peak', 'valley']);
/** A calendar date: the shape alone let 2026-13-45 through to the job. */
const isoDate = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, 'expected a date as YYYY-MM-DD')
  .refine((text) => {
    const [y, m, d] = text.split('-').map(Number) as [number, number, number];
    const date = new Date(Date.UTC(y, m - 1, d));
    return date.getUTCFullYear() === y && date.getUTCMonth() === m - 1 && date.getUTCDate() === d;
  }, 'not a calendar date');

export const dailyPipelineParams = z
  .object({
    updateData: z.boolean().default(true),
    runPricePredictions: z.boolean().default(true),
    priceModel: priceModel.default('trend'),
    horizonDays: z.number().min(0.25).max(7).default(2.0),
    runSolarPredictions: z.boolean().default(true),
    runDemandPredictions: z.boolean().default(true),
    runBatteryPlan: z.boolean().default(true),
  })
  .strict();

export const weeklyTrainingParams = z
  .object({
    /** Fetch what the models learn from first (incremental and idempotent), so they train on fresh data. */
    updateData: z.boolean().default(true),
    trainPriceModels: z.boolean().default(true),
    trainDemandModel: z.boolean().default(true),
    demandTrials: z.number().int().min(1).max(1000).default(50),
  })
  .strict();

export const rlTrainingParams = z
  .object({
    /** Fetch prices, consumption and solar production first, so the agent trains on fresh data. */
    updateData: z.boolean().default(true),
    sanityCheckSteps: z.number().int().min(0).max(100_000).default(10),
    startDate: isoDate.optional(),
    /** Default: the workflow's own date (workflow time, so a replay gets the same date). */
    endDate: isoDate.optional(),
    totalTimesteps: z.number().int().min(1).max(100_000_000).optional(),
  })
  .strict()
  .refine((p) => !p.startDate || !p.endDate || p.startDate <= p.endDate, {
    message: 'startDate must not be after endDate',
    path: ['startDate'],
  });

export const freshnessParams = z
  .object({
    /** Start the fetch workflow of each stale dataset (once per flow). */
    remediate: z.boolean().default(true),
    /** POST an alert to the configured webhook when something is stale. */
    alert: z.boolean().default(true),
  })
  .strict();

export type DailyPipelineParams = z.input<typeof dailyPipelineParams>;
export type WeeklyTrainingParams = z.input<typeof weeklyTrainingParams>;
export type RlTrainingParams = z.input<typeof rlTrainingParams>;
export type FreshnessParams = z.input<typeof freshnessParams>;

/** The battery re-plan's parameters. */
export const batteryReplanParams = z
  .object({
    /** What started the re-plan (for the report): publication | new-prices | hourly | manual. */
    trigger: z.enum(['publication', 'new-prices', 'hourly', 'manual']).default('manual'),
    /** Fetch spot prices first (the re-plan after the day-ahead publication). */
    fetchPrices: z.boolean().default(false),
    /** When the plan's first hour starts within this many minutes, publish its states again as it starts (0: never). */
    republishWithinMinutes: z.number().int().min(0).max(59).default(15),
  })
  .strict();

export type BatteryReplanParams = z.input<typeof batteryReplanParams>;

/** The fixed id of the re-plan started by newly published prices: at most one runs at a time. */
export const NEW_PRICES_REPLAN_ID = 'battery-replan-new-prices';
