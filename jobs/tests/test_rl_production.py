"""rl_control: tomorrow's plan from forecasts (or named fallbacks) with the controller the last evaluation chose."""

import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from jobs.battery import imitation
from jobs.battery.config import BatteryConfig, Tariff
from jobs.battery.scenario import build_scenario
from jobs.battery.synthetic import make_frame
from jobs.common import registry
from jobs.common.store import Store
from jobs.simulator.backfill import backfill_store

NOW = "2025-06-16T10:30:00Z"
PLAN_START = pd.Timestamp("2025-06-16T11:00:00Z")
PLAN_END = pd.Timestamp("2025-06-17T22:00:00Z")  # end of tomorrow, Stockholm summer time
HOURS = 35


def _store(env) -> Store:
    os.makedirs(env["HEA_DATA_DIR"], exist_ok=True)
    return Store.open(f"sqlite:///{Path(env['HEA_DATA_DIR']) / 'energy.db'}")


@pytest.fixture
def env(job_env):
    job_env["HEA_NOW"] = NOW
    end = pd.Timestamp(NOW).floor("h")
    with _store(job_env) as store:
        backfill_store(store, end - pd.Timedelta(days=10), end, forecasts=False)
    return job_env


def _register(env, best, path="/nonexistent/agent.pkl"):
    with _store(env) as store:
        store.register_model(
            "battery_controller",
            "v1",
            path,
            {"best_controller": best, "shares": {best: 0.8}},
            {"hours": 48},
            promoted=True,
        )


def test_without_evaluation_rule_based_with_named_fallbacks(run_job, env):
    run = run_job("jobs.rl.run_production_agent", env=env)
    assert run.returncode == 0, run.stderr
    res = run.result
    assert res["controller"] == "rule_based" and "no battery evaluation" in res["reason"]
    assert res["rows_written"] == HOURS
    assert res["start"] == "2025-06-16T11:00:00Z" and res["end"] == "2025-06-17T22:00:00Z"
    assert any(f.startswith("spot:") for f in res["fallbacks"])
    assert any("forecast.demand" in f for f in res["fallbacks"])
    with _store(env) as store:
        plan = store.read_plan()
    assert plan.attrs["controller"] == "rule_based"
    assert len(plan) == HOURS and plan.index[0] == PLAN_START
    assert set(plan["mode"]) == {"self_consumption"}
    cfg = BatteryConfig()
    assert plan["soc_kwh"].between(cfg.e_min - 1e-9, cfg.e_max + 1e-9).all()
    assert res["soc_source"] == "initial" and set(plan["soc_source"]) == {"initial"}
    assert plan["energy_kwh"].tolist() == pytest.approx(plan["power_kw"].tolist())
    assert plan["soc_pct"].tolist() == pytest.approx((100 * plan["soc_kwh"] / cfg.capacity_kwh).tolist())
    assert set(plan["action"]) <= {"charge", "discharge", "idle"} and plan["why"].str.len().min() > 10
    balance = (
        plan["grid_import_kwh"]
        - plan["grid_export_kwh"]
        - (plan["load_kwh"] - plan["pv_kwh"] + plan["charge_kw"] - plan["discharge_kw"])
    )
    assert balance.abs().max() < 1e-9


def test_uses_forecasts_and_the_evaluated_mpc(run_job, env):
    idx = pd.date_range(PLAN_START - pd.Timedelta(hours=2), PLAN_END + pd.Timedelta(hours=12), freq="h")
    issued = pd.Timestamp("2025-06-16T06:00:00Z")
    hour = idx.hour.to_numpy()
    price = pd.Series(np.where((hour >= 15) & (hour <= 18), 300.0, 20.0), index=idx)  # a big evening peak
    with _store(env) as store:
        store.write_forecast("forecast.price", issued, price, model="test")
        store.write_forecast("forecast.demand", issued, pd.Series(1.0, index=idx), model="test")
        store.write_forecast("forecast.solar", issued, pd.Series(0.0, index=idx), model="test")
    _register(env, "mpc")
    run = run_job("jobs.rl.run_production_agent", env={**env, "HEA_BATTERY_SOC_NOW": "0.2"}, timeout=120)
    assert run.returncode == 0, run.stderr
    res = run.result
    assert res["controller"] == "mpc"
    assert res["fallbacks"] == []
    assert res["inputs"]["spot"] == {"forecast.price": HOURS}
    assert res["inputs"]["load"] == {"forecast.demand": HOURS}
    assert res["soc_start"] == pytest.approx(0.2) and res["soc_source"] == "measured"
    assert res["soc_source_detail"] == "HEA_BATTERY_SOC_NOW"
    with _store(env) as store:
        plan = store.read_plan()
    # MPC charges in cheap hours and discharges into the evening peak.
    peak = plan[(plan.index.hour >= 15) & (plan.index.hour <= 18)]
    assert peak["discharge_kw"].sum() > 3.0
    assert set(peak[peak["discharge_kw"] > 0.5]["action"]) == {"discharge"}
    charging = plan[plan["action"] == "charge"]
    assert not charging.empty and charging["why"].str.contains("for later hours that cost up to").all()
    assert (plan["price_buy_eur_kwh"] > plan["price_sell_eur_kwh"]).all()
    assert set(plan["soc_source"]) == {"measured"}
    assert plan["charge_kw"].sum() > 3.0
    assert res["expected_savings_eur"] > 0.5


def test_agent_used_when_it_earned_it_and_mpc_when_its_file_is_gone(run_job, env):
    cfg, tariff = BatteryConfig(), Tariff()
    sc = build_scenario(make_frame(6, seed=3), tariff)
    agent = imitation.train(sc, cfg, tariff, rounds=0, max_hours=100)
    path = Path(env["HEA_MODELS_DIR"]) / "rl" / "v-test.pkl"
    registry.write_model(path, agent)
    _register(env, "rl_agent", str(path))
    run = run_job("jobs.rl.run_production_agent", env=env)
    assert run.returncode == 0, run.stderr
    assert run.result["controller"] == "rl_agent" and run.result["notes"] == []
    path.unlink()
    run = run_job("jobs.rl.run_production_agent", env=env)
    assert run.returncode == 0, run.stderr
    assert run.result["controller"] == "mpc"
    assert "could not be loaded" in run.result["notes"][0]


def test_empty_store_is_a_data_error(run_job, job_env):
    job_env["HEA_NOW"] = NOW
    run = run_job("jobs.rl.run_production_agent", env=job_env)
    assert run.returncode == 65
    assert "home.consumption" in run.stderr or "price.spot" in run.stderr


def test_bad_soc_setting_is_a_config_error(run_job, env):
    run = run_job("jobs.rl.run_production_agent", env={**env, "HEA_BATTERY_SOC_NOW": "1.5"})
    assert run.returncode == 78


def test_mpc_plans_a_window_longer_than_the_default_horizon(run_job, job_env):
    """Early morning in winter the window runs to tomorrow night: 40 hours, past the 36-hour horizon."""
    job_env["HEA_NOW"] = "2025-11-21T06:30:00Z"
    end = pd.Timestamp(job_env["HEA_NOW"]).floor("h")
    with _store(job_env) as store:
        backfill_store(store, end - pd.Timedelta(days=10), end, forecasts=False)
    _register(job_env, "mpc")
    run = run_job("jobs.rl.run_production_agent", env=job_env, timeout=120)
    assert run.returncode == 0, run.stderr
    res = run.result
    assert res["controller"] == "mpc"
    assert res["rows_written"] == 40
    assert res["start"] == "2025-11-21T07:00:00Z" and res["end"] == "2025-11-22T23:00:00Z"
