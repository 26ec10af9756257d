"""What serves the PV forecast: decided on the holdout's weeks against the naive forecasters."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from jobs.solar import serving

TZ = "Europe/Stockholm"


def sunny_history(days: int = 42, seed: int = 0) -> pd.Series:
    """A bell-shaped day scaled by a random clearness per day (what a roof without weather looks like)."""
    rng = np.random.default_rng(seed)
    idx = pd.date_range("2024-05-01", periods=24 * days, freq="h", tz="UTC")
    bell = np.clip(np.sin((idx.hour.to_numpy() - 4) / 16 * np.pi), 0, None)
    clear = np.repeat(rng.uniform(0.3, 1.0, days), 24)
    return pd.Series(3.0 * bell * clear, index=idx)


def holdout(history: pd.Series, days: int = 28) -> pd.Series:
    return history[history.index >= history.index[-1] - pd.Timedelta(days=days) + pd.Timedelta(hours=1)]


@pytest.mark.parametrize(
    "model_noise, physical_noise, expected",
    [
        (0.05, 0.5, "model"),  # a good model beats the physical estimate and every naive forecaster
        (0.5, 0.05, "physical"),  # the physical estimate did better on the same weeks
        (5.0, 5.0, "naive"),  # both worse than naive: a naive forecaster serves, and the reason says so
    ],
)
def test_the_forecaster_with_the_lowest_weekly_error_serves(model_noise, physical_noise, expected):
    history = sunny_history()
    actual = holdout(history)
    rng = np.random.default_rng(1)
    noisy = {
        k: (actual + rng.normal(0, s, len(actual))).clip(lower=0)
        for k, s in (("model", model_noise), ("physical", physical_noise))
    }
    d = serving.decide(actual, noisy["model"], noisy["physical"], history, TZ)
    assert d["windows"] >= 4 and set(d["window_mae"]) == {"model", "physical", "yesterday", "7day", "blend"}
    if expected == "naive":
        assert d["serving_is_naive"] and d["serving"] in ("yesterday", "7day", "blend")
        assert "did worse than naive" in d["reason"]
    else:
        assert d["serving"] == expected and not d["serving_is_naive"]


def test_without_a_model_the_physical_estimate_competes_alone():
    history = sunny_history()
    actual = holdout(history)
    d = serving.decide(actual, None, actual * 1.01, history, TZ)
    assert d["serving"] == "physical" and "model" not in d["window_mae"]


def test_the_decision_is_recorded_with_what_the_result_reports(tmp_path, monkeypatch):
    monkeypatch.setenv("HEA_MODELS_DIR", str(tmp_path))
    history = sunny_history()
    actual = holdout(history)
    d = serving.decide(actual, actual * 3, actual * 3, history, TZ)
    out = serving.save(d, "20240601T000000Z")
    assert out["serving"] == f"naive:{d['serving']}" and out["serving_reason"] == d["reason"]
    d = serving.decide(actual, actual, actual * 3, history, TZ)
    assert serving.save(d, "20240601T000000Z")["serving"] == "solar:20240601T000000Z"


def test_the_no_weather_fallback_uses_only_what_was_measured_before_now():
    history = sunny_history(days=42)
    now = history.index[-1] - pd.Timedelta(days=3)
    window = pd.date_range(now, periods=48, freq="h")
    values, name, reason = serving.naive_fallback(history, window, now, TZ)
    assert name in ("yesterday", "7day", "blend") and reason.startswith("no weather forecast covers the window")
    # the future hours of `history` (after now) must not change the forecast
    again, _, _ = serving.naive_fallback(history[history.index < now], window, now, TZ)
    pd.testing.assert_series_equal(values, again)
    assert values.notna().all() and (values >= 0).all()
    # with under a week of measurements there is nothing to choose on: the 7-day mean
    short = history[history.index < history.index[0] + pd.Timedelta(days=5)]
    _, name, reason = serving.naive_fallback(short, window[:24], short.index[-1] + pd.Timedelta(hours=1), TZ)
    assert name == "7day" and "too little" in reason
