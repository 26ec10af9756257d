"""Demand model: the occupancy HMM's filter never peeks, and the train/predict jobs end to end."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from jobs.common.store import Store
from jobs.demand import model as dm
from jobs.demand.features import Occupancy, fit_occupancy, hmm_observations
from jobs.tests.conftest import run_job_process
from jobs.tests.test_price_models import check_protocol, fill_store, small_env


@pytest.fixture(scope="module")
def store_env(tmp_path_factory):
    env = small_env(tmp_path_factory.mktemp("demand"))
    fill_store(env)
    return env


def occupancy_like(days: int = 21, seed: int = 0) -> pd.Series:
    """Low use at night and when away, high when home: the pattern the HMM should find."""
    rng = np.random.default_rng(seed)
    idx = pd.date_range("2025-02-01T00:00Z", periods=24 * days, freq="h")
    hour = idx.hour.to_numpy()
    home = ((hour >= 17) | (hour < 8)) & ~((hour >= 0) & (hour < 6))
    load = np.where(home, 1.6, 0.4) * np.exp(rng.normal(0, 0.1, len(idx)))
    return pd.Series(load, index=idx)


def test_filtered_occupancy_uses_only_the_past():
    s = occupancy_like()
    occ = Occupancy(3).fit(s)
    grid = s.index
    obs = hmm_observations(s, grid)
    probs = occ.filtered(obs)
    assert probs.shape == (len(s), 3) and np.allclose(probs.sum(axis=1), 1.0)
    later = obs.copy()
    later[-48:] = 5.0  # change the last two days
    probs2 = occ.filtered(later)
    assert np.allclose(probs[:-48], probs2[:-48])
    # states are ordered by mean, so the top state is the busy home
    assert occ.means[0] < occ.means[-1]
    home_hours = (grid.hour >= 17) & (grid.hour < 24)
    night = (grid.hour >= 1) & (grid.hour < 5)
    busy = probs[:, -1]
    assert busy[home_hours[:]].mean() > busy[night].mean()


def test_occupancy_features_look_a_day_back():
    s = occupancy_like()
    occ = Occupancy(2).fit(s)
    target = s.index[-24:]
    before = occ.features(s, target)
    changed = s.copy()
    changed.iloc[-23:] *= 10  # after the first target hour's 24-hour-old observation
    after = occ.features(changed, target)
    pd.testing.assert_series_equal(before.iloc[0], after.iloc[0])
    assert set(before.columns) == {"occ0_lag24", "occ0_slot7", "occ1_lag24", "occ1_slot7"}


def test_hmm_restarts_and_the_separation_check():
    occ = Occupancy(2, restarts=3).fit(occupancy_like())
    sep = occ.separation()
    assert sep["separated"] and sep["restarts"] == 3 and sep["min_gap_sd"] >= 0.5
    rng = np.random.default_rng(1)
    idx = pd.date_range("2025-02-01T00:00Z", periods=24 * 21, freq="h")
    flat = pd.Series(np.exp(rng.normal(0, 0.05, len(idx))), index=idx)  # one state in disguise
    model, info = fit_occupancy(flat, 3)
    assert model is None and info["used"] is False and "do not separate" in info["note"]
    model, info = fit_occupancy(occupancy_like(), 2)
    assert model is not None and info["used"] is True


def test_demand_features_use_only_what_was_measured_before_the_decision():
    s = occupancy_like(days=40)
    local = s.index.tz_convert("Europe/Stockholm")
    targets = s.index[local.normalize() == local[-30].normalize()]  # one whole local day: one decision
    cutoffs = dm.decision_times(targets, "Europe/Stockholm")
    assert len(targets) == 24 and cutoffs.nunique() == 1
    before = dm.known_features(s, targets, cutoffs, "Europe/Stockholm")
    changed = s.copy()
    changed[changed.index >= cutoffs.min()] *= 10  # everything from the decision on
    after = dm.known_features(changed, targets, cutoffs, "Europe/Stockholm")
    pd.testing.assert_frame_equal(before, after)


def test_demand_trains_and_predicts(store_env):
    train = run_job_process(
        "jobs.demand.train", "--production", "--trials", "2", env={**store_env, "HEA_DEMAND_HMM_STATES": "3"}
    )
    res = check_protocol(train)
    m = res["metrics"]
    for key in ("mae", "baseline_yesterday_mae", "baseline_7day_mae", "rmae_yesterday", "rmae_7day"):
        assert m[key] is not None and m[key] >= 0, key
    assert res["hmm"]["states"] == 3 and res["hmm"]["restarts"] >= 2 and "separated" in res["hmm"]
    assert res["inputs"]["weather"].startswith(("forecast weather", "measured weather"))
    assert res["serving"].startswith(("demand:", "naive:"))
    assert res["promoted"] is True and Path(res["path"]).exists()
    assert res["train_seconds"] > 0

    run = check_protocol(run_job_process("jobs.demand.predict", "--horizon-days", "1.5", env=store_env))
    assert run["forecast"] == "forecast.demand" and run["rows_written"] == 36
    assert run["predicted_hours"] > 0 and run["serving"] == res["serving"]
    assert all(0 < v < 500 for v in run["kwh_per_day"].values())


def test_demand_training_says_when_there_is_no_weather(tmp_path):
    env = small_env(tmp_path)
    idx = pd.date_range("2025-09-01T00:00Z", "2025-11-03T00:00Z", freq="h", inclusive="left")
    with Store.open(f"sqlite:///{env['HEA_DATA_DIR']}/energy.db") as st:
        st.upsert_series("home.consumption", occupancy_like(days=len(idx) // 24).set_axis(idx[: 24 * (len(idx) // 24)]))
    res = check_protocol(run_job_process("jobs.demand.train", env=env))
    assert res["inputs"]["weather"] == "no weather" and res["inputs"]["weather_used"] is False
