// Steps with dependencies: each starts as soon as the steps it needs have succeeded; when one of them
// did not, it is skipped (and so, in turn, are the steps that need it). Deterministic: promises only.
import type { StepReport } from '../contracts/report.js';
import type { RunRecorder } from './run.js';

export interface DagStep {
  step: string;
  job: string;
  args?: string[];
  /** Names (`step`) of the steps whose success this one needs; steps not in the plan are ignored. */
  needs?: string[];
}

/** What runDag needs of a run: a RunRecorder in a workflow (a plain object in its unit test). */
export type StepRunner = Pick<RunRecorder, 'step' | 'skip'>;

/** Runs the plan; resolves with each step's report line, in plan order. */
export async function runDag(run: StepRunner, steps: DagStep[]): Promise<StepReport[]> {
  const planned = new Map(steps.map((s) => [s.step, s]));
  const outcomes = new Map<string, Promise<StepReport>>();
  const start = (s: DagStep): Promise<StepReport> => {
    const existing = outcomes.get(s.step);
    if (existing) return existing;
    const promise = (async () => {
      const needs = (s.needs ?? []).filter((n) => planned.has(n));
      const deps = await Promise.all(needs.map((n) => start(planned.get(n)!)));
      const blocked = deps.filter((d) => d.status !== 'success');
      if (blocked.length > 0) {
        return run.skip(s.step, s.job, `skipped: ${blocked.map((b) => `${b.step} ${b.status}`).join(', ')}`);
      }
      return run.step(s.step, s.job, s.args ?? []);
    })();
    outcomes.set(s.step, promise);
    return promise;
  };
  return Promise.all(steps.map(start));
}
