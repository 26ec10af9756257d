"""Metrics and seasonal-naive baselines (jobs/common/metrics.py)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from jobs.common import metrics as m


def hourly(start: str, hours: int, values=None) -> pd.Series:
    idx = pd.date_range(pd.Timestamp(start, tz="UTC"), periods=hours, freq="h")
    vals = np.arange(hours, dtype=float) if values is None else np.asarray(values, dtype=float)
    return pd.Series(vals, index=idx)


def test_mae_skips_missing_pairs_and_checks_shapes():
    assert m.mae([1.0, 2.0, np.nan], [2.0, np.nan, 5.0]) == 1.0
    assert math.isnan(m.mae([np.nan], [1.0]))
    with pytest.raises(ValueError):
        m.mae([1.0, 2.0], [1.0])


def test_same_time_yesterday_and_seven_day_average_look_back_whole_days():
    s = hourly("2025-01-01", 24 * 10)
    idx = s.index[-24:]
    yday = m.same_time_yesterday(s, idx)
    assert np.allclose(yday.to_numpy(), s.to_numpy()[-48:-24])
    week = m.seven_day_same_slot(s, idx)
    # values are the hour number, so the mean of 1..7 days back is the value 4 days back
    assert np.allclose(week.to_numpy(), s.to_numpy()[-24:] - 4 * 24)
    # where history is missing the baseline is NaN rather than a made-up number
    assert m.same_time_yesterday(s, s.index[:24]).isna().all()


def test_forecast_report_scores_the_model_and_both_baselines_on_the_same_rows():
    rng = np.random.default_rng(0)
    hours = 24 * 21
    daily = 10 + 5 * np.sin(2 * np.pi * np.arange(hours) / 24)
    s = hourly("2025-03-01", hours, daily + rng.normal(0, 1, hours))
    hold = s.iloc[-24 * 7 :]
    perfect = m.forecast_report(hold, hold.to_numpy(), s)
    assert perfect["mae"] == 0.0 and perfect["rmae_yesterday"] == 0.0
    assert perfect["holdout_rows"] == len(hold)
    truth_shape = m.forecast_report(hold, daily[-24 * 7 :], s)
    # knowing the true daily shape beats both noisy seasonal-naive forecasts
    assert truth_shape["rmae_yesterday"] < 1.0 and truth_shape["rmae_7day"] < 1.0
    # a week's average is less noisy than a single day
    assert truth_shape["baseline_7day_mae"] < truth_shape["baseline_yesterday_mae"]


def test_forecast_report_drops_rows_a_baseline_cannot_score_from_all_three_maes():
    hours = 24 * 21
    s = hourly("2025-03-01", hours, np.arange(hours, dtype=float))
    history = s.copy()
    # The day right before the holdout is missing: "same time yesterday" cannot score the first day.
    history.iloc[-24 * 8 : -24 * 7] = np.nan
    hold = s.iloc[-24 * 7 :]
    pred = hold.to_numpy() + 1.0  # always 1 off
    report = m.forecast_report(hold, pred, history)
    assert report["holdout_rows"] == 24 * 6  # the first holdout day has no "same time yesterday"
    assert report["mae"] == pytest.approx(1.0)
    # Scored on the same rows as the model: yesterday's value is exactly 24 below.
    assert report["baseline_yesterday_mae"] == pytest.approx(24.0)


def test_within_day_rank_correlation_sign_and_constant_days():
    s = hourly("2025-06-01T22:00", 48, np.tile(np.arange(24.0), 2))
    assert m.within_day_rank_correlation(s, s.to_numpy()) == pytest.approx(1.0)
    assert m.within_day_rank_correlation(s, -s.to_numpy()) == pytest.approx(-1.0)
    # a flat forecast has no ranking: skipped, not counted as 0
    assert math.isnan(m.within_day_rank_correlation(s, np.ones(48)))


def test_top_k_per_day_uses_local_days_including_a_25_hour_day():
    # 2025-10-26 in Stockholm has 25 hours (22:00 UTC on the 25th to 23:00 UTC on the 26th)
    idx = pd.date_range("2025-10-25T22:00Z", "2025-10-27T23:00Z", freq="h", inclusive="left")
    s = pd.Series(np.arange(len(idx), dtype=float) % 25, index=idx)
    mask = m.top_k_per_day(s, 3, "Europe/Stockholm")
    days = m.local_days(idx, "Europe/Stockholm")
    per_day = pd.Series(mask.to_numpy()).groupby(days).sum()
    assert list(per_day) == [3, 3]
    assert (days == days[0]).sum() == 25
    low = m.top_k_per_day(s, 2, "Europe/Stockholm", largest=False)
    assert not (low & mask).any()


def test_precision_recall():
    out = m.precision_recall([1, 1, 0, 0], [1, 0, 1, 0])
    assert out == {"precision": 0.5, "recall": 0.5, "f1": 0.5}
    assert math.isnan(m.precision_recall([1, 0], [0, 0])["precision"])


def test_rounded_makes_nan_null():
    assert m.rounded({"a": 1.234567, "b": float("nan"), "c": {"d": 2.0}}, 2) == {"a": 1.23, "b": None, "c": {"d": 2.0}}
