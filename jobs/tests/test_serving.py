"""Promotion and serving with naive candidates over several windows (jobs/common/registry.decide)."""

import numpy as np
import pandas as pd

from jobs.common import registry
from jobs.common.metrics import naive_forecasts, weekly_windows


def scores(**kw):
    return {k: list(v) for k, v in kw.items()}


def test_model_promoted_only_when_it_beats_champion_and_best_naive_in_most_windows():
    s = scores(
        new=[1.0, 1.0, 2.5, 1.0],
        old=[2.0, 2.0, 1.0, 2.0],
        yesterday=[1.5, 1.5, 1.5, 1.5],
        **{"7day": [2, 2, 2, 2], "blend": [1.8, 1.8, 1.8, 1.8]},
    )
    d = registry.decide(s, challenger="new", champion="old")
    assert d["promoted"] and d["wins"] == 3 and d["champion"] == "new"
    assert d["serving"] == "new" and d["best_naive"] == "yesterday"
    assert d["margin"] < 1 and "3 of 4" in d["reason"]


def test_one_lucky_window_is_not_enough():
    # lowest summed MAE thanks to one window, but it wins only 1 of 4: not promoted
    s = scores(new=[0.1, 1.6, 1.6, 1.6], yesterday=[1.5] * 4, **{"7day": [2.0] * 4, "blend": [1.7] * 4})
    d = registry.decide(s, challenger="new", champion=None)
    assert not d["promoted"] and d["wins"] == 1
    assert d["serving"] == "yesterday" and d["serving_is_naive"]


def test_champion_worse_than_naive_is_not_served_and_the_reason_says_so():
    s = scores(old=[2.0, 2.1, 2.2, 2.0], yesterday=[1.9] * 4, **{"7day": [1.5] * 4, "blend": [1.6] * 4})
    d = registry.decide(s, challenger=None, champion="old")
    assert d["champion"] == "old" and d["serving"] == "7day"
    assert "did worse than naive" in d["reason"]
    assert abs(d["margin"] - 6.0 / 6.4) < 1e-9


def test_challenger_must_beat_the_champion_too():
    s = scores(new=[1.0] * 4, old=[0.9] * 4, yesterday=[1.5] * 4, **{"7day": [2.0] * 4, "blend": [1.7] * 4})
    d = registry.decide(s, challenger="new", champion="old")
    assert not d["promoted"] and d["champion"] == "old" and d["serving"] == "old"


def test_window_scores_on_synthetic_series_with_decision_time_naive():
    # hourly series with a daily cycle and a level drift; a "model" that knows the cycle beats the naive ones
    idx = pd.date_range("2024-01-01", periods=24 * 70, freq="h", tz="UTC")
    rng = np.random.default_rng(0)
    cycle = 10 * np.sin(2 * np.pi * idx.hour / 24)
    actual = pd.Series(50 + cycle + rng.normal(0, 3, len(idx)) + np.arange(len(idx)) * 0.01, index=idx)
    target = idx[idx >= idx[0] + pd.Timedelta(days=42)]
    naive = naive_forecasts(actual, target)
    good = pd.Series(50 + cycle[-len(target) :] + np.arange(len(idx))[-len(target) :] * 0.01, index=target)
    wins = weekly_windows(target, "UTC")
    assert len(wins) == 4 and all(len(w) == 168 for w in wins)
    s = registry.window_maes(actual, {"model": good, **naive}, wins)
    d = registry.decide(s, challenger="model")
    assert d["promoted"] and d["serving"] == "model" and d["vs_best_naive"] < 0.9


def test_naive_at_decision_time_never_uses_unknown_hours():
    idx = pd.date_range("2024-01-01", periods=24 * 20, freq="h", tz="UTC")
    history = pd.Series(np.arange(len(idx), dtype=float), index=idx)
    decision = pd.Timestamp("2024-01-15T06:00Z")
    target = pd.date_range("2024-01-16", periods=24, freq="h", tz="UTC")
    f = naive_forecasts(history, target, known_until=decision)
    src = f["yesterday"].to_numpy()
    # hours before 06:00 come from the 15th, later ones from the 14th (the 15th's were not known at 06:00)
    assert (history.index[src.astype(int)] < decision).all()
    assert history.index[int(src[0])] == pd.Timestamp("2024-01-15T00:00Z")
    assert history.index[int(src[6])] == pd.Timestamp("2024-01-14T06:00Z")
    assert np.isfinite(f["7day"]).all() and np.allclose(f["blend"], 0.5 * (f["yesterday"] + f["7day"]))
