"""Price models: features that never peek, and the train/run_model jobs end to end on simulated data."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from jobs.common import features as fc
from jobs.tests.conftest import FIXED_NOW, run_job_process

FETCHES = [
    "jobs.prices.fetch",
    "jobs.commodities.fetch",
    "jobs.weather.fetch",
    "jobs.demand.fetch_consumption",
    "jobs.demand.fetch_heat_pump",
    "jobs.solar.fetch_actual",
]


def small_env(base: Path, days: int = 45) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HEA_")}
    env.update(
        HEA_DATA_DIR=str(base / "data"),
        HEA_MODELS_DIR=str(base / "models"),
        HEA_NOW=FIXED_NOW,
        HEA_BACKFILL_DAYS=str(days),
        HEA_HOLDOUT_DAYS="7",
        PYTHONUNBUFFERED="1",
    )
    return env


def fill_store(env: dict) -> None:
    for module in FETCHES:
        run = run_job_process(module, env=env)
        assert run.returncode == 0, f"{module}: {run.stderr[-2000:]}"


@pytest.fixture(scope="module")
def store_env(tmp_path_factory):
    env = small_env(tmp_path_factory.mktemp("prices"))
    fill_store(env)
    return env


def check_protocol(run):
    assert run.returncode == 0, run.stderr[-3000:]
    assert run.progress and all(0 <= p["progress"] <= 100 for p in run.progress)
    assert run.result is not None
    return run.result


# --------------------------------------------------------------------------- pure parts
def test_lag_features_only_look_a_day_back_or_more():
    idx = pd.date_range("2025-03-01T00:00Z", periods=24 * 20, freq="h")
    s = pd.Series(np.random.default_rng(1).normal(50, 10, len(idx)), index=idx)
    target = idx[-24:]
    before = fc.lag_features(s, target, "p")
    changed = s.copy()
    changed.iloc[-47:] += 1000.0  # everything later than 24 hours before the first target hour
    after = fc.lag_features(changed, target, "p")
    first = target[0]
    # the first target hour must not see any of the changed values
    pd.testing.assert_series_equal(before.loc[first], after.loc[first])
    assert before.notna().all().all()


def test_recursive_forecast_feeds_each_day_from_the_previous_one():
    idx = pd.date_range("2025-03-01T00:00Z", periods=24 * 10, freq="h")
    history = pd.Series(np.tile(np.arange(24.0), 10), index=idx)
    target = pd.date_range(idx[-1] + fc.HOUR, periods=60, freq="h")
    calls = []

    def same_as_yesterday(ext, block):
        calls.append(len(block))
        values = ext.reindex(block - fc.DAY).to_numpy()
        assert np.isfinite(values).all()  # the previous block was filled in before this one
        return values + 1.0

    out = fc.recursive_forecast(history, target, same_as_yesterday)
    assert calls == [24, 24, 12]
    assert np.allclose(out.iloc[:24], np.arange(24.0) + 1)
    assert np.allclose(out.iloc[24:48], np.arange(24.0) + 2)


def test_quarter_hour_prices_average_to_the_hour():
    idx = pd.date_range("2025-10-01T00:00Z", periods=8, freq="15min")
    s = pd.Series([1, 2, 3, 4, 10, 10, 10, 10], index=idx, dtype=float)
    out = fc.to_hourly(s)
    assert list(out) == [2.5, 10.0]
    assert out.index.freqstr in ("h", "60min") or list(out.index) == [idx[0], idx[4]]


# --------------------------------------------------------------------------- jobs
def test_trend_model_trains_reports_baselines_and_forecasts(store_env):
    res = check_protocol(run_job_process("jobs.prices.train", "--model", "trend", "--production", env=store_env))
    metrics = res["metrics"]
    for key in (
        "mae",
        "baseline_yesterday_mae",
        "baseline_7day_mae",
        "rmae_yesterday",
        "rmae_7day",
        "rank_corr_within_day",
    ):
        assert metrics[key] is not None, key
    # no champion yet: promoted only if it beat the best naive forecaster in most holdout weeks
    assert isinstance(res["promoted"], bool) and "windows" in res["reason"]
    assert res["serving"] == (f"price_trend:{res['version']}" if res["promoted"] else res["serving"])
    assert res["serving"].startswith(("price_trend:", "naive:"))
    assert set(res["window_mae"]) == {"model", "yesterday", "7day", "blend"}
    assert res["seconds"] > 0 and res["rows"] > 24 * 40
    assert Path(res["path"]).exists() and Path(res["path"]).parent.name == "price_trend"
    # the model is not worse than a lazy forecast by a wide margin even on 60 days
    assert metrics["rmae_7day"] < 1.3

    run = check_protocol(
        run_job_process("jobs.prices.run_model", "--model", "trend", "--horizon-days", "2.0", env=store_env)
    )
    assert run["forecast"] == "forecast.price" and run["rows_written"] == 48
    assert run["known_hours"] + run["predicted_hours"] == 48
    assert run["predicted_hours"] > 0
    assert -500 < run["min"] <= run["mean"] <= run["max"] < 5000

    from jobs.common.store import Store

    store = Store(Path(store_env["HEA_DATA_DIR"]) / "energy.db")
    fcast = store.read_forecast("forecast.price")
    # the issue names what served it: the model, or the naive forecaster that beat it
    assert run["serving"] == res["serving"] and len(fcast) == 48 and fcast.attrs["model"] == res["serving"]
    known = store.read_series("price.spot", fcast.index.min(), fcast.index.max() + fc.HOUR)
    # published day-ahead prices are passed through, not re-forecast
    assert np.allclose(fcast.reindex(known.index).to_numpy(), known.to_numpy())
    store.close()

    # training again: the new version is compared with the champion too (when there is one)
    again = check_protocol(run_job_process("jobs.prices.train", "--model", "trend", "--production", env=store_env))
    assert again["version"] != res["version"]
    assert ("champion" in again["window_mae"]) == res["promoted"]


def test_a_naive_forecaster_that_serves_is_named_in_the_forecast(store_env):
    check_protocol(run_job_process("jobs.prices.train", "--model", "trend", "--production", env=store_env))
    import os

    from jobs.common import registry

    saved = os.environ.get("HEA_MODELS_DIR")
    os.environ["HEA_MODELS_DIR"] = store_env["HEA_MODELS_DIR"]
    try:
        registry.save_serving(
            "price_trend",
            {
                "serving": "naive:7day",
                "forecaster": "7day",
                "naive": True,
                "reason": "serving 7day: the model did worse than naive",
            },
        )
    finally:
        if saved is None:
            os.environ.pop("HEA_MODELS_DIR")
        else:
            os.environ["HEA_MODELS_DIR"] = saved
    run = check_protocol(
        run_job_process("jobs.prices.run_model", "--model", "trend", "--horizon-days", "2.0", env=store_env)
    )
    assert run["serving"] == "naive:7day" and "worse than naive" in run["serving_reason"]
    from jobs.common.store import Store

    store = Store(Path(store_env["HEA_DATA_DIR"]) / "energy.db")
    fcast = store.read_forecast("forecast.price")
    prices = store.read_series("price.spot")
    store.close()
    assert fcast.attrs["model"] == "naive:7day"
    unknown = fcast.index[fcast.index > prices.index.max()]
    first = unknown[0]
    expected = np.mean([prices[first - pd.Timedelta(days=k)] for k in range(1, 8)])
    assert abs(fcast[first] - expected) < 1e-6


def test_peak_model_picks_k_hours_per_day(store_env):
    res = check_protocol(run_job_process("jobs.prices.train", "--model", "peak", "--production", env=store_env))
    m = res["metrics"]
    assert m["k_hours"] == 4 and 0 <= m["precision"] <= 1
    assert "baseline_yesterday_precision" in m and "rank_corr_within_day" in m
    run = check_protocol(
        run_job_process("jobs.prices.run_model", "--model", "peak", "--horizon-days", "1", env=store_env)
    )
    assert run["forecast"] == "forecast.price.peak" and run["rows_written"] == 24
    assert all(len(hours) <= 4 for hours in run["hours"].values())
    # today's prices are published: its peak is the exact answer, not the model's guess
    assert run["exact_days"] == ["2025-11-03"]
    from jobs.common.store import Store

    store = Store(Path(store_env["HEA_DATA_DIR"]) / "energy.db")
    day = store.read_series("price.spot", "2025-11-02T23:00Z", "2025-11-03T23:00Z")
    store.close()
    top = set(day.sort_values().index[-4:].tz_convert("Europe/Stockholm").strftime("%H:%M"))
    assert set(run["hours"]["2025-11-03"]) == {h for h in top if h >= "11:00"}


def test_peak_falls_back_to_the_naive_path_without_a_trend_model_but_a_broken_one_fails(store_env, tmp_path):
    import shutil

    from jobs.common.store import Store

    # a copy of the module's store, so the broken champion below stays here
    (tmp_path / "data").mkdir()
    shutil.copy(Path(store_env["HEA_DATA_DIR"]) / "energy.db", tmp_path / "data" / "energy.db")
    env = {**store_env, "HEA_DATA_DIR": str(tmp_path / "data"), "HEA_MODELS_DIR": str(tmp_path / "models")}
    check_protocol(run_job_process("jobs.prices.train", "--model", "peak", "--production", env=env))
    run = check_protocol(run_job_process("jobs.prices.run_model", "--model", "peak", "--horizon-days", "1", env=env))
    assert run["price_path"] == "7-day same-slot average"

    broken = tmp_path / "models" / "price_trend" / "broken.pkl"
    broken.parent.mkdir(parents=True)
    broken.write_bytes(b"not a pickle")
    store = Store(tmp_path / "data" / "energy.db")
    store.register_model("price_trend", "broken", broken, {}, None, promoted=True)
    store.close()
    failed = run_job_process("jobs.prices.run_model", "--model", "peak", "--horizon-days", "1", env=env)
    # an unreadable trend model is a fault to report, not a reason to quietly forecast from the naive path
    assert failed.returncode == 1 and failed.result is None
    error = json.loads(failed.stdout.splitlines()[-1])["error"]
    assert error["type"] == "UnpicklingError", failed.stderr[-2000:]


def test_evaluation_only_saves_nothing(store_env, tmp_path):
    env = {**store_env, "HEA_MODELS_DIR": str(tmp_path / "models")}
    res = check_protocol(run_job_process("jobs.prices.train", "--model", "valley", env=env))
    assert res["promoted"] is False and "evaluation only" in res["reason"]
    assert not (tmp_path / "models").exists()


def test_missing_model_and_bad_usage_are_not_retried(tmp_path):
    env = small_env(tmp_path)
    run = run_job_process("jobs.prices.run_model", "--model", "valley", env=env)
    assert run.returncode == 66 and "prices.train --model valley --production" in run.stderr
    assert run_job_process("jobs.prices.train", "--model", "sideways", env=env).returncode == 64
    # an empty store is bad data, not a crash
    run = run_job_process("jobs.prices.train", "--model", "trend", env=env)
    assert run.returncode == 65 and "price.spot" in run.stderr


def test_quarter_hour_prices_in_the_store_train_and_forecast_hourly(tmp_path):
    env = small_env(tmp_path, days=45)
    for module in ("jobs.prices.fetch", "jobs.commodities.fetch", "jobs.weather.fetch"):
        assert run_job_process(module, env=env).returncode == 0
    from jobs.common.store import Store

    store = Store(Path(env["HEA_DATA_DIR"]) / "energy.db")
    hourly = store.read_series("price.spot")
    recent = hourly[hourly.index >= hourly.index.max() - pd.Timedelta(days=20)]
    # since 2025-10-01 the market settles quarter-hours: replace the last 20 days by 15-minute prices
    quarters = recent.reindex(
        pd.date_range(recent.index.min(), recent.index.max() + pd.Timedelta(minutes=45), freq="15min"), method="ffill"
    )
    wiggle = np.tile([-3.0, -1.0, 1.0, 3.0], len(quarters) // 4)
    store.delete_series("price.spot", recent.index.min())
    store.upsert_series("price.spot", quarters + wiggle)
    store.close()
    res = check_protocol(run_job_process("jobs.prices.train", "--model", "trend", "--production", env=env))
    assert res["rows"] == len(hourly)  # averaged back to one row per hour
    run = check_protocol(run_job_process("jobs.prices.run_model", "--horizon-days", "1", env=env))
    assert run["rows_written"] == 24
    store = Store(Path(env["HEA_DATA_DIR"]) / "energy.db")
    fcast = store.read_forecast("forecast.price")
    store.close()
    assert (fcast.index.minute == 0).all()
    known = fcast.index[fcast.index.isin(recent.index)]
    # a published hour is the mean of its four quarters (the wiggle averages out)
    assert np.allclose(fcast.reindex(known).to_numpy(), recent.reindex(known).to_numpy())
