import type { AppConfig } from '../config/load.js';

/** One kind's rolling comparison, as jobs/accuracy/score.py reports it. */
export interface RollingAccuracy {
  kind: string;
  serving: string;
  version?: string | null;
  window_days: number;
  days: number;
  serving_mae: number;
  best_naive: string;
  best_naive_mae: number;
  ratio: number | null;
}

export interface Degradation extends RollingAccuracy {
  threshold: number;
  /** The workflow id of this episode's early retraining: one per serving model version, so it runs once. */
  episode: string;
}

const idPart = (s: string) => s.replace(/[^A-Za-z0-9_.-]+/g, '-');

/** Pure: the kinds whose serving model's rolling error is worse than the best naive's by more than the threshold. */
export function degradations(rolling: RollingAccuracy[], rule: { degradationThreshold: number; minDays: number }): Degradation[] {
  return rolling
    .filter((r) => r.days >= rule.minDays && r.serving_mae > r.best_naive_mae * (1 + rule.degradationThreshold))
    .map((r) => ({
      ...r,
      threshold: rule.degradationThreshold,
      episode: `retrain-early-${idPart(r.kind)}-${idPart(r.serving)}-${idPart(r.version ?? 'unversioned')}`,
    }));
}

export function createAccuracyActivities(config: AppConfig) {
  return {
    /** Applies the configured threshold (config `accuracy`) to the scoring job's rolling figures. */
    async judgeAccuracy(rolling: RollingAccuracy[]): Promise<Degradation[]> {
      return degradations(rolling, config.accuracy);
    },
  };
}
