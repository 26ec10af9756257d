import { z } from 'zod';

/** The meter training HTTP API (the Dramatiq service's replacement). */
export const apiSchema = z
  .object({
    enabled: z.boolean().default(true),
    host: z.string().min(1).default('127.0.0.1'),
    port: z.number().int().min(0).max(65_535).default(8000),
    /** When set (or HEA_API_TOKEN), mutating endpoints require `Authorization: Bearer <token>`. */
    token: z.string().min(16, 'use at least 16 characters').optional(),
    meterTypes: z.array(z.string().regex(/^[a-z][a-z0-9_]*$/).max(32, 'at most 32 characters')).min(1).default(['electricity', 'heat', 'water', 'gas']),
    /** How many meter trainings a bulk request runs at once. */
    bulkConcurrency: z.number().int().min(1).max(64).default(2),
  })
  .strict();

export type ApiConfig = z.output<typeof apiSchema>;
