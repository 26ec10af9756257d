// The re-plan's parameters (zod is pure: the CLI, the schedules and the workflow share this schema).
import { z } from 'zod';

export const batteryReplanParams = z
  .object({
    /** What started the re-plan (for the report): publication | new-prices | hourly | manual. */
    trigger: z.enum(['publication', 'new-prices', 'hourly', 'manual']).default('manual'),
    /** Fetch spot prices first (the re-plan after the day-ahead publication). */
    fetchPrices: z.boolean().default(false),
  })
  .strict();

export type BatteryReplanParams = z.input<typeof batteryReplanParams>;

/** The fixed id of the re-plan started by newly published prices: at most one runs at a time. */
export const NEW_PRICES_REPLAN_ID = 'battery-replan-new-prices';
