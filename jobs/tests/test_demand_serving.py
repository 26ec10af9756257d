"""Demand serving goes through registry.decide: a naive forecaster that beats the model serves, under its
own name (`naive:<name>`), with no model needed; and the decision times are forecasting's."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from jobs.common import forecasting as fc
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
