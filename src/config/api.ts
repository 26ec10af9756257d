import { z } from 'zod';
import { durationMs } from './duration.js';

/** The meter training HTTP API (the Dramatiq service's replacement). */
export const apiSchema = z
  .object({
    enabled: z.boolean().default(true),
    host: z.string().min(1).default('127.0.0.1'),
    port: z.number().int().min(0).max(65_535).default(8000),
    /** When set (or HEA_API_TOKEN), mutating endpoints require `Authorization: Bearer <token>`. */
    token: z.string().min(16, 'use at least 16 characters').optional(),
    meterTypes: z
      .array(
        z
          .string()
          .regex(/^[a-z][a-z0-9_]*$/)
          .max(32, 'at most 32 characters'),
      )
      .min(1)
      .default(['electricity', 'heat', 'water', 'gas']),
    /** How many meter trainings a bulk request runs at once. */
    bulkConcurrency: z.number().int().min(1).max(64).default(2),
    /**
     * Requests per token (or per address without one) to the mutating endpoints in each window; beyond it
     * they answer 429 with Retry-After. max 0 turns the limit off.
     */
    rateLimit: z
      .object({ max: z.number().int().min(0).default(600), window: durationMs.default(60_000) })
      .strict()
      .prefault({}),
    /**
     * Meter trainings queued or running (single POSTs plus the meters of bulk requests not started yet) before
     * a new request answers 429 with Retry-After. 0: no cap.
     */
    maxQueuedTrainings: z.number().int().min(0).default(5_000),
    /** How long the count of queued trainings (a visibility query) is reused between requests. */
    queueCountTtlMs: durationMs.default(1_000),
    /**
     * How long a running training's status is reused for other pollers. 0 (the default): requests that
     * arrive together share a read, and no request gets a read that began before it arrived, so a status
     * never lags behind Temporal (a terminated training reads FAILED at once). A closed training's status
     * is read once either way.
     */
    statusCacheMs: durationMs.default(0),
  })
  .strict();

export type ApiConfig = z.output<typeof apiSchema>;
