// Request and response shapes of the meter training API (zod: validation, types and the OpenAPI document).
import { z } from 'zod';
import { METER_ID_MAX, METER_ID_PATTERN } from '../contracts/trainings.js';

/** A meter id names a model file (models/<type>/<id>.pkl): no separators, no "..", bounded length. */
export const meterIdSchema = z
  .string()
  .min(1, 'meter_id must not be empty')
  .max(METER_ID_MAX, `meter_id must be at most ${METER_ID_MAX} characters`)
  .regex(METER_ID_PATTERN, 'meter_id may contain letters, digits, "_", "." and "-" only, and must start with a letter or digit')
  .refine((v) => !v.includes('..'), 'meter_id must not contain ".."')
  .describe('The meter to train a model for; it names the model file.')
  .meta({ example: 'meter_test_001' });

export function meterTypeSchema(types: readonly string[]) {
  return z
    .enum(types as [string, ...string[]], { error: `meter_type must be one of: ${types.join(', ')}` })
    .describe('The kind of meter (configured in api.meterTypes).')
    .meta({ example: types[0] });
}

export function trainRequestSchema(types: readonly string[]) {
  return z.object({ meter_id: meterIdSchema, meter_type: meterTypeSchema(types) });
}

export function bulkRequestSchema(types: readonly string[], maxConcurrency: number) {
  return z.object({
    meters: z.array(trainRequestSchema(types)).min(1, 'give at least one meter').max(1000, 'at most 1000 meters per request'),
    concurrency: z
      .number()
      .int()
      .min(1)
      .max(maxConcurrency, `concurrency must be at most ${maxConcurrency}`)
      .optional()
      .describe('Trainings at once (default: api.bulkConcurrency).'),
  });
}

export const STATUSES = ['PENDING', 'STARTED', 'CONNECTING', 'FETCHING_DATA', 'VALIDATING_DATA', 'TRAINING_MODEL', 'SAVING_MODEL', 'SUCCESS', 'FAILED'] as const;
export type TaskStatusName = (typeof STATUSES)[number];

export const errorSchema = z.object({ type: z.string(), message: z.string(), attempts: z.number().optional() });

export const taskStatusSchema = z.object({
  task_id: z.string(),
  status: z.enum(STATUSES),
  progress: z.number().nullable(),
  message: z.string(),
  meter_id: z.string(),
  meter_type: z.string(),
  started_at: z.string().nullable(),
  updated_at: z.string().nullable(),
  finished_at: z.string().nullable().optional(),
  estimated_completion: z.string().nullable(),
  attempt: z.number().optional(),
  bulk_id: z.string().optional(),
  result: z.record(z.string(), z.unknown()).optional(),
  error: errorSchema.optional(),
});
export type TaskStatus = z.infer<typeof taskStatusSchema>;

export const acceptedSchema = z.object({
  task_id: z.string(),
  status: z.enum(STATUSES),
  progress: z.number().nullable(),
  message: z.string(),
  meter_id: z.string().optional(),
  meter_type: z.string().optional(),
  status_url: z.string().optional(),
  duplicate: z.boolean().optional(),
});

export const detailSchema = z.object({ detail: z.unknown() });

export const bulkItemSchema = z.object({
  meter_id: z.string(),
  meter_type: z.string(),
  status: z.string(),
  task_id: z.string().optional(),
  stage: z.string().optional(),
  progress: z.number().nullable().optional(),
  started_at: z.string().optional(),
  finished_at: z.string().optional(),
  message: z.string().optional(),
  error: errorSchema.optional(),
  model_path: z.string().optional(),
  data_points: z.number().optional(),
  mae: z.number().nullable().optional(),
  rmae_yesterday: z.number().nullable().optional(),
});

export const bulkStatusSchema = z.object({
  bulk_id: z.string(),
  status: z.enum(['PENDING', 'RUNNING', 'COMPLETED', 'FAILED']),
  progress: z.number(),
  message: z.string(),
  total: z.number().nullable(),
  concurrency: z.number().nullable(),
  counts: z.record(z.string(), z.number()),
  started_at: z.string().nullable(),
  updated_at: z.string().nullable(),
  finished_at: z.string().nullable().optional(),
  items: z.array(bulkItemSchema),
});
export type BulkStatus = z.infer<typeof bulkStatusSchema>;

export const bulkAcceptedSchema = z.object({
  bulk_id: z.string(),
  status: z.literal('PENDING'),
  total: z.number(),
  concurrency: z.number(),
  message: z.string(),
  status_url: z.string(),
});

export const healthSchema = z.object({
  status: z.enum(['healthy', 'unhealthy']),
  timestamp: z.string(),
  uptime_seconds: z.number(),
  temporal: z.object({
    status: z.enum(['connected', 'unreachable']),
    namespace: z.string(),
    task_queue: z.string(),
    server_version: z.string().optional(),
    error: z.string().optional(),
  }),
});

export const workerHealthSchema = z.object({
  status: z.enum(['healthy', 'unhealthy']),
  timestamp: z.string(),
  task_queue: z.string(),
  message: z.string(),
  workers: z.array(z.object({ identity: z.string(), last_access_time: z.string().nullable(), polls: z.array(z.string()) })),
});
