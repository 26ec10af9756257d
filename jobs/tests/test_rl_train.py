"""The rl_train job end to end on a simulated store: sanity check, the agent, evaluation, registry, exit codes."""

import os
from pathlib import Path

import pandas as pd
import pytest

from jobs.common.store import Store
from jobs.simulator.backfill import backfill_store

# Early summer: PV surplus and price spreads give the optimum something to save in a two-day holdout
# (in November, with wear costs, a battery on the simulated market rightly saves almost nothing).
NOW = "2025-06-16T10:30:00Z"
SMALL = ["--sanity-check-steps", "20", "--total-timesteps", "100", "--holdout-days", "2", "--iterations", "1"]


def _store(env: dict) -> Store:
    return Store.open(f"sqlite:///{Path(env['HEA_DATA_DIR']) / 'energy.db'}")


def _backfill(env: dict, days: int) -> None:
    os.makedirs(env["HEA_DATA_DIR"], exist_ok=True)
    end = pd.Timestamp(NOW).floor("h")
    with _store(env) as store:
        backfill_store(store, end - pd.Timedelta(days=days), end, forecasts=False)


@pytest.fixture
def small_env(job_env):
    job_env["HEA_RL_EPISODE_HOURS"] = "48"
    job_env["HEA_NOW"] = NOW
    return job_env


def test_train_evaluates_all_controllers_and_registers(run_job, small_env):
    _backfill(small_env, 12)
    run = run_job("jobs.rl.train", *SMALL, env=small_env)
    assert run.returncode == 0, run.stderr
    res = run.result
    assert set(res["shares"]) == {"optimum", "no_battery", "rule_based", "mpc", "rl_agent"}
    assert res["shares"]["optimum"] == pytest.approx(1.0)
    assert res["shares"]["no_battery"] == pytest.approx(0.0)
    for name in ("rule_based", "mpc", "rl_agent"):
        assert res["costs_eur"][name] >= res["costs_eur"]["optimum"] - 0.01
    assert res["best_controller"] in ("rule_based", "mpc", "rl_agent")
    assert res["holdout"]["hours"] == 48
    assert res["train"]["kind"] == "imitation+rollout-pi"
    assert res["train"]["expert_states"] == 2 * 100 and res["train"]["rounds"] == 1
    assert res["sanity_check"]["steps"] == 20
    assert Path(res["model_path"]).is_file()
    assert Path(res["model_path"]).parent == Path(small_env["HEA_MODELS_DIR"]) / "rl"
    stages = [p.get("stage") for p in run.progress]
    assert stages.index("sanity_check") < stages.index("training") < stages.index("evaluation")
    with _store(small_env) as store:
        champ = store.champion("battery_controller")
    assert champ["metrics"]["best_controller"] == res["best_controller"]
    assert champ["path"] == res["model_path"]


def test_date_range_flags(run_job, small_env):
    _backfill(small_env, 16)
    run = run_job("jobs.rl.train", *SMALL, "--start-date", "2025-06-02", "--end-date", "2025-06-11", env=small_env)
    assert run.returncode == 0, run.stderr
    assert run.result["history"]["start"] == "2025-06-01T22:00:00Z"  # local midnight, CEST
    assert run.result["holdout"]["end"] == "2025-06-11T22:00:00Z"


def test_empty_store_is_a_data_error(run_job, small_env):
    run = run_job("jobs.rl.train", *SMALL, env=small_env)
    assert run.returncode == 65
    assert "price.spot" in run.stderr


def test_too_little_history_is_a_data_error(run_job, small_env):
    _backfill(small_env, 5)
    run = run_job("jobs.rl.train", "--holdout-days", "14", env=small_env)
    assert run.returncode == 65
    assert "holdout days" in run.stderr


@pytest.mark.parametrize(
    "args", [["--total-timesteps", "many"], ["--start-date", "yesterday-ish"], ["--holdout-days", "0"]]
)
def test_bad_flags_are_usage_errors(run_job, small_env, args):
    _backfill(small_env, 3)
    run = run_job("jobs.rl.train", *args, env=small_env)
    assert run.returncode == 64, run.stderr
