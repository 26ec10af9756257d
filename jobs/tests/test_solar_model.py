"""Solar forecast: trains itself on first use, falls back to physics with little history."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from jobs.tests.conftest import run_job_process
from jobs.tests.test_price_models import FETCHES, check_protocol, small_env


def fetch_solar_inputs(env):
    for module in FETCHES:
        if module in ("jobs.weather.fetch", "jobs.solar.fetch_actual"):
            run = run_job_process(module, env=env)
            assert run.returncode == 0, run.stderr[-2000:]


def test_solar_predict_trains_itself_then_reuses_the_model(tmp_path):
    env = small_env(tmp_path, days=45)
    fetch_solar_inputs(env)
    first = check_protocol(run_job_process("jobs.solar.predict", "--horizon-days", "2", env=env))
    training = first["training"]
    assert training["trained"] is True and training["promoted"] is True
    m = training["metrics"]
    for key in ("mae", "baseline_yesterday_mae", "baseline_7day_mae", "baseline_physical_mae", "rmae_yesterday"):
        assert m[key] is not None, key
    assert first["rows_written"] == 48 and first["hours_without_weather_forecast"] == 0
    # what serves was decided on the holdout's weeks against the naive forecasters, and recorded
    assert first["serving"] == "physical" or first["serving"].startswith(("solar:", "naive:"))
    assert "serving" in training and first["serving_reason"]
    import json
    from pathlib import Path

    recorded = json.loads((Path(env["HEA_MODELS_DIR"]) / "solar" / "serving.json").read_text())
    assert recorded["serving"] == first["serving"]
    assert set(recorded["window_mae"]) == {"model", "physical", "yesterday", "7day", "blend"}
    assert all(0 <= v <= 6.0 * 24 for v in first["kwh_per_day"].values())

    second = check_protocol(run_job_process("jobs.solar.predict", "--horizon-days", "1", env=env))
    assert second["training"]["trained"] is False and "days old" in second["training"]["reason"]
    assert second["serving"] == first["serving"]

    # eight days on, retrained: the champion (if it stays) is scored on the holdout hours it never saw
    later = {**env, "HEA_NOW": (pd.Timestamp(env["HEA_NOW"]) + pd.Timedelta(days=8)).isoformat()}
    fetch_solar_inputs(later)
    third = check_protocol(run_job_process("jobs.solar.predict", "--retrain", "--horizon-days", "1", env=later))[
        "training"
    ]
    assert third["trained"] is True
    if third["promoted"]:
        assert third["serving_model_scored"] == "the model fitted before the holdout"
    else:
        assert third["serving_model_scored"].startswith(f"champion {training['version']} on the 1")

    from jobs.common.store import Store

    store = Store(Path(env["HEA_DATA_DIR"]) / "energy.db")
    fc = store.read_forecast("forecast.solar")
    store.close()
    assert len(fc) == 24 and (fc >= 0).all()
    # nothing at night: early November in Stockholm, 20:00-03:00 UTC is dark
    night = fc[(fc.index.hour >= 20) | (fc.index.hour < 3)]
    assert len(night) and np.allclose(night.to_numpy(), 0.0)


@pytest.mark.parametrize(
    "days, holdout", [(10, "7"), (30, "28")]
)  # below the 21-day minimum; too little for a 28-day holdout
def test_solar_with_little_history_uses_the_physical_estimate(tmp_path, days, holdout):
    env = {**small_env(tmp_path, days=days), "HEA_HOLDOUT_DAYS": holdout}
    fetch_solar_inputs(env)
    res = check_protocol(run_job_process("jobs.solar.predict", env=env))
    assert res["training"]["trained"] is False and "physical" in res["training"]["reason"]
    assert res["model_version"] == "physical" and res["rows_written"] == 48


def test_solar_bad_horizon_is_a_usage_error(tmp_path):
    env = small_env(tmp_path, days=10)
    assert run_job_process("jobs.solar.predict", "--horizon-days", "0", env=env).returncode == 64


def test_solar_without_weather_serves_the_best_naive_forecaster_and_says_so(tmp_path):
    # production history but no weather source at all: the model and the physical estimate cannot run
    env = small_env(tmp_path, days=45)
    run = run_job_process("jobs.solar.fetch_actual", env=env)
    assert run.returncode == 0, run.stderr[-2000:]
    res = check_protocol(run_job_process("jobs.solar.predict", "--horizon-days", "1", env=env))
    assert res["training"]["trained"] is False and "weather" in res["training"]["reason"]
    assert res["serving"] in ("naive:yesterday", "naive:7day", "naive:blend")
    assert "no weather forecast" in res["serving_reason"] and res["model_version"] is None
    assert res["rows_written"] == 24 and res["hours_without_weather_forecast"] == 24

    from pathlib import Path

    from jobs.common.store import Store

    with Store(Path(env["HEA_DATA_DIR"]) / "energy.db") as store:
        fc = store.read_forecast("forecast.solar")
    assert fc.attrs["model"] == res["serving"] and len(fc) == 24 and (fc >= 0).all()
