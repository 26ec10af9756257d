import { degradations, type RollingAccuracy } from '../../src/activities/accuracy.js';
import { summarizeScores, type ScoreRow } from '../../src/cli/accuracy.js';

const roll = (over: Partial<RollingAccuracy>): RollingAccuracy => ({
  kind: 'price',
  serving: 'price_trend',
  version: 'v1',
  window_days: 7,
  days: 7,
  serving_mae: 10,
  best_naive: 'naive_yesterday',
  best_naive_mae: 10,
  ratio: 1,
  ...over,
});

test('degraded only past the threshold and with enough days; one episode id per serving version', () => {
  const rule = { degradationThreshold: 0.1, minDays: 3 };
  expect(degradations([roll({ serving_mae: 10.9 })], rule)).toEqual([]);
  expect(degradations([roll({ serving_mae: 12, days: 2 })], rule)).toEqual([]);
  const [d] = degradations([roll({ serving_mae: 12 }), roll({ kind: 'demand', serving: 'demand', serving_mae: 1 })], rule);
  expect(d).toMatchObject({ kind: 'price', episode: 'retrain-early-price-price_trend-v1', threshold: 0.1 });
  expect(degradations([roll({ serving_mae: 12, version: '2026-11-21T06:00:00Z/abc' })], rule)[0]!.episode).toBe(
    'retrain-early-price-price_trend-2026-11-21T06-00-00Z-abc',
  );
});

test('the summary weighs days by their hours and compares with the best naive forecaster', () => {
  const rows: ScoreRow[] = [
    { kind: 'price', forecaster: 'price_trend', day: '2025-11-02', mae: 10, rmse: 12, n: 24, serving: true },
    { kind: 'price', forecaster: 'price_trend', day: '2025-11-01', mae: 20, rmse: 22, n: 8, serving: true },
    { kind: 'price', forecaster: 'naive_yesterday', day: '2025-11-02', mae: 25, rmse: 30, n: 32, serving: false },
    { kind: 'price', forecaster: 'naive_7day', day: '2025-11-02', mae: 50, rmse: 60, n: 32, serving: false },
  ];
  const [serving, best, worst] = summarizeScores(rows);
  expect(serving).toMatchObject({ forecaster: 'price_trend', serving: true, days: 2, mae: 12.5, vsBestNaive: 0.5 });
  expect(best).toMatchObject({ forecaster: 'naive_yesterday', vsBestNaive: 1 });
  expect(worst!.vsBestNaive).toBe(2);
});
