// The benchmark's workflow bundle: the project's workflows plus one with a single in-process activity, to
// measure Temporal itself (start, one activity, result) apart from the job runner.
import { proxyActivities } from '@temporalio/workflow';

export * from '../src/workflows/index.js';

interface BenchActivities {
  noop(i: number): Promise<number>;
}

const { noop } = proxyActivities<BenchActivities>({ startToCloseTimeout: '10s', retry: { maximumAttempts: 1 } });

/** Start, one trivial activity, result. */
export async function benchNoop(i: number): Promise<number> {
  return noop(i);
}
