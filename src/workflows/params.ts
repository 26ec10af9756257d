// Workflow parameters, checked again inside the workflow. The schemas are the flows' contract
// (src/contracts/flowParams.ts); re-exported here for the workflows.
import { ApplicationFailure } from '@temporalio/common';
import type { z } from 'zod';

export * from '../contracts/flowParams.js';

/** Parse inside a workflow: a bad parameter fails the run at once, not retried. */
export function parseParams<T extends z.ZodType>(schema: T, input: unknown): z.output<T> {
  const parsed = schema.safeParse(input ?? {});
  if (!parsed.success) {
    throw ApplicationFailure.create({
      type: 'InvalidParameters',
      message: parsed.error.issues.map((i) => `${i.path.join('.') || '(params)'}: ${i.message}`).join('; '),
      nonRetryable: true,
    });
  }
  return parsed.data;
}
