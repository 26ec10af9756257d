"""Demand serving goes through registry.decide: a naive forecaster that beats the model serves, under its
own name (`naive:<name>`), with no model needed; and the decision times are forecasting's."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from jobs.common import features as fc
from jobs.common.store import Store
from jobs.demand import model as dm
from jobs.tests.conftest import run_job_process
from jobs.tests.test_price_models import check_protocol, small_env


def write_consumption(env: dict, values: np.ndarray, idx: pd.DatetimeIndex) -> None:
    with Store.open(f"sqlite:///{env['HEA_DATA_DIR']}/energy.db") as st:
        st.upsert_series("home.consumption", pd.Series(values, index=idx))


def hours_until_now(days: int) -> pd.DatetimeIndex:
    end = pd.Timestamp("2025-11-03T10:00Z")  # the hour before conftest's FIXED_NOW
    return pd.date_range(end - pd.Timedelta(days=days), end, freq="h", inclusive="left")


def test_a_naive_forecaster_that_beats_the_model_serves_under_its_own_name(tmp_path):
    env = small_env(tmp_path)
    idx = hours_until_now(60)
    # the same day every day: "yesterday" and the 7-day mean are exact, no model can beat them
    local_hour = idx.tz_convert("Europe/Stockholm").hour.to_numpy()
    write_consumption(env, 0.3 + 0.1 * local_hour, idx)
    res = check_protocol(run_job_process("jobs.demand.train", "--production", env=env))
    assert res["promoted"] is False and res["serving"] == "naive:yesterday"
    assert res["metrics"]["baseline_yesterday_mae"] == 0 and res["metrics"]["mae"] > 0
    assert "not promoted" in res["reason"] and set(res["window_mae"]) == {"model", "yesterday", "7day", "blend"}
    decision = json.loads((Path(env["HEA_MODELS_DIR"]) / "demand" / "serving.json").read_text())
    assert decision["serving"] == "naive:yesterday" and decision["naive"] is True

    run = check_protocol(run_job_process("jobs.demand.predict", "--horizon-days", "1.5", env=env))
    assert run["serving"] == "naive:yesterday" and run["version"] is None and "did worse" not in run["serving_reason"]
    with Store.open(f"sqlite:///{env['HEA_DATA_DIR']}/energy.db") as st:
        frame = st.read_forecast_frame("forecast.demand")
        models = {m for (m,) in st.conn.execute("SELECT DISTINCT model FROM forecasts WHERE name = 'forecast.demand'")}
    assert models == {"naive:yesterday"}
    # the served values are yesterday's: the pattern itself
    values = frame.set_index("ts")["value"]
    expected = 0.3 + 0.1 * pd.DatetimeIndex(values.index).tz_convert("Europe/Stockholm").hour.to_numpy()
    assert np.allclose(values.to_numpy(), expected)


def test_the_model_serves_under_its_version_when_it_beats_the_naive_ones(tmp_path):
    env = small_env(tmp_path)
    idx = hours_until_now(70)
    rng = np.random.default_rng(3)
    local = idx.tz_convert("Europe/Stockholm")
    hour, weekend = local.hour.to_numpy(), (local.day_of_week.to_numpy() >= 5)
    # a daily shape, a weekend shape and noise: the 7-day mean mixes the two, "yesterday" repeats noise
    shape = np.where(weekend, 1.2 + 0.8 * np.sin(np.pi * hour / 24), 0.4 + 0.3 * (hour >= 17))
    write_consumption(env, shape * np.exp(rng.normal(0, 0.15, len(idx))), idx)
    res = check_protocol(run_job_process("jobs.demand.train", "--production", env=env))
    assert res["promoted"] is True and res["serving"] == f"demand:{res['version']}", res["reason"]
    run = check_protocol(run_job_process("jobs.demand.predict", "--horizon-days", "1.0", env=env))
    assert run["serving"] == res["serving"] and run["predicted_hours"] > 0


def test_demand_decides_at_forecastings_decision_times():
    assert dm.decision_times is fc.decision_times
    t = pd.DatetimeIndex([pd.Timestamp("2025-06-10T12:00Z")])
    assert dm.decision_times(t, "Europe/Stockholm")[0] == pd.Timestamp("2025-06-09T04:00Z")


def test_the_profile_share_is_learned_on_other_weeks_only():
    from jobs.demand.train import learn_mix

    idx = pd.date_range("2025-03-03T00:00Z", periods=24 * 28, freq="h")  # four Monday-to-Sunday weeks (UTC)
    rng = np.random.default_rng(0)
    level = np.full(len(idx), 0.5)
    prof = 0.5 + 0.3 * rng.random(len(idx))
    trees = 0.5 + 0.3 * rng.random(len(idx))

    class Trees(dm.DemandModel):
        def predict_trees(self, frame):
            return trees

    hold = pd.DataFrame({dm.PROFILE: prof / level, "level": level}, index=idx)
    week = np.arange(len(idx)) // (24 * 7)
    hold["y"] = np.where(week < 2, prof, trees)  # two weeks follow the profile, two the trees
    weight, forecast = learn_mix(Trees(features=[], estimator=None), hold, "UTC")
    # each week is forecast with the share learned on the other three, never on itself: the majority of
    # the others wins under absolute error
    assert np.allclose(forecast.to_numpy()[week == 0], trees[week == 0])
    assert np.allclose(forecast.to_numpy()[week == 3], prof[week == 3])
    assert weight in dm.WEIGHT_GRID
    assert dm.learn_profile_weight(trees, prof, prof) == 1.0 and dm.learn_profile_weight(trees, prof, trees) == 0.0
