"""Demand model: the occupancy HMM's filter never peeks, and the train/predict jobs end to end."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from jobs.demand.features import Occupancy, hmm_observations
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


def test_demand_trains_with_a_search_and_predicts(store_env):
    train = run_job_process("jobs.demand.train", "--production", "--trials", "2", env=store_env)
    res = check_protocol(train)
    assert [p["message"] for p in train.progress if p.get("stage") == "search"][-1].startswith("trial 2/2")
    m = res["metrics"]
    for key in ("mae", "baseline_yesterday_mae", "baseline_7day_mae", "rmae_yesterday", "rmae_7day"):
        assert m[key] is not None and m[key] >= 0, key
    assert res["search"]["trials"] == 2 and res["hmm"]["states"] == 3
    assert res["promoted"] is True and Path(res["path"]).exists()
    assert res["train_seconds"] > 0

    run = check_protocol(run_job_process("jobs.demand.predict", "--horizon-days", "1.5", env=store_env))
    assert run["forecast"] == "forecast.demand" and run["rows_written"] == 36
    assert run["predicted_hours"] > 0
    assert all(0 < v < 500 for v in run["kwh_per_day"].values())


def test_demand_errors(tmp_path):
    env = small_env(tmp_path)
    run = run_job_process("jobs.demand.predict", env=env)
    assert run.returncode == 66 and "demand.train --production" in run.stderr
    run = run_job_process("jobs.demand.train", env=env)
    assert run.returncode == 65 and "home.consumption" in run.stderr
    assert run_job_process("jobs.demand.train", "--trials", "many", env=env).returncode == 64


def test_occupancy_features_can_be_switched_off(store_env, tmp_path):
    env = {**store_env, "HEA_DEMAND_HMM_STATES": "0", "HEA_MODELS_DIR": str(tmp_path / "models")}
    res = check_protocol(run_job_process("jobs.demand.train", "--trials", "0", env=env))
    assert res["hmm"]["states"] == 0 and "search" not in res
    assert res["metrics"]["mae"] is not None and res["promoted"] is False
