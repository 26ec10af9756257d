"""The accuracy scoring job and the report jobs on a simulated store (jobs/tests/accuracy_seed.py)."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from jobs.common.store import Store
from jobs.tests.accuracy_seed import seed


@pytest.fixture
def seeded(job_env, tmp_path):
    job_env["HEA_REPORTS_DIR"] = str(tmp_path / "reports")
    job_env["HEA_STORE_URL"] = f"sqlite:///{tmp_path / 'data' / 'energy.db'}"
    import os

    saved = {k: os.environ.get(k) for k in ("HEA_NOW", "HEA_STORE_URL")}
    os.environ.update(HEA_NOW=job_env["HEA_NOW"], HEA_STORE_URL=job_env["HEA_STORE_URL"])
    with Store.open() as store:
        seed(store, days=10)
    for k, v in saved.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v
    return job_env


def test_scores_yesterday_and_compares_the_serving_model_with_the_naive_ones(seeded, run_job, tmp_path):
    run = run_job("jobs.accuracy.score", env=seeded)
    assert run.returncode == 0, run.stderr
    r = run.result
    assert r["day"] == "2025-11-02"  # HEA_NOW is 2025-11-03
    by = {(s["kind"], s["forecaster"]): s for s in r["scores"]}
    assert set(by) >= {
        ("price", "price_trend"),
        ("price", "naive_yesterday"),
        ("price", "naive_7day"),
        ("price", "naive_blend"),
        ("demand", "demand"),
        ("solar", "solar"),
    }
    assert by[("price", "price_trend")]["serving"] == 1 and by[("price", "naive_7day")]["serving"] == 0
    assert by[("price", "price_trend")]["n"] == 24
    # the seeded price model is 60% high: far worse than yesterday's prices
    assert by[("price", "price_trend")]["mae"] > 2 * by[("price", "naive_yesterday")]["mae"]
    rows = (
        sqlite3.connect(str(tmp_path / "data" / "energy.db"))
        .execute(
            "SELECT kind, forecaster, day, mae, rmse, n, serving, scored_at FROM forecast_scores WHERE day = '2025-11-02'"
        )
        .fetchall()
    )
    assert len(rows) == len(r["scores"])
    # a week of scores: the rolling comparison covers the days scored so far
    # (in-process: a subprocess per day costs seconds of imports)
    import os

    from jobs.accuracy import score

    saved = {k: os.environ.get(k) for k in ("HEA_NOW", "HEA_STORE_URL")}
    os.environ.update(HEA_NOW=seeded["HEA_NOW"], HEA_STORE_URL=seeded["HEA_STORE_URL"])
    try:
        for day in ["2025-10-27", "2025-10-28", "2025-10-29", "2025-10-30", "2025-10-31", "2025-11-01"]:
            score.main(score.build_parser().parse_args(["--day", day]))
    finally:
        for k, v in saved.items():
            os.environ.pop(k, None) if v is None else os.environ.__setitem__(k, v)
    again = run_job("jobs.accuracy.score", env=seeded).result
    roll = {x["kind"]: x for x in again["rolling"]}
    assert roll["price"]["days"] == 7 and roll["price"]["ratio"] > 1.5
    assert roll["demand"]["ratio"] < 1.0
    # scoring a day again replaces its rows
    assert sqlite3.connect(str(tmp_path / "data" / "energy.db")).execute(
        "SELECT COUNT(*) FROM forecast_scores WHERE day = '2025-11-02'"
    ).fetchone()[0] == len(r["scores"])


def test_a_bad_day_is_a_usage_error(seeded, run_job):
    assert run_job("jobs.accuracy.score", "--day", "yesterday", env=seeded).returncode == 64


def test_daily_report_writes_the_plan_table_and_svg_charts(seeded, run_job, tmp_path):
    run = run_job("jobs.reports.daily", "--report-name", "dailyEnergyPipeline-x", env=seeded)
    assert run.returncode == 0, run.stderr
    section = run.result["report"]
    table = section["tables"][0]
    assert table["title"].startswith("Battery plan for 2025-11-03 and 2025-11-04 (Europe/Stockholm)")
    assert table["columns"][:8] == [
        "time (local)",
        "price (EUR/kWh)",
        "action",
        "kWh",
        "SoC (%)",
        "SoC (kWh)",
        "cost (EUR)",
        "cost without battery (EUR)",
    ]
    assert len(table["rows"]) == 24 and table["rows"][0][0] == "2025-11-03 12:00"  # 11:00Z is 12:00 local
    assert {row[2] for row in table["rows"]} == {"charge", "discharge", "idle"}
    folder = tmp_path / "reports" / "dailyEnergyPipeline-x"
    for image in section["images"]:
        svg = (tmp_path / "reports" / image["file"]).read_text()
        assert svg.lstrip().startswith("<?xml") and "<svg" in svg
    assert [Path(i["file"]).name for i in section["images"]] == ["plan.svg", "forecasts.svg"]
    plan = json.loads((folder / "plan.json").read_text())
    assert len(plan["hours"]) == 24 and plan["hours"][0]["why"] == ""
    assert run.result["now"] == "2025-11-03T10:30:00Z"


def test_daily_report_without_a_plan_still_charts_the_forecasts(job_env, run_job, tmp_path):
    job_env["HEA_REPORTS_DIR"] = str(tmp_path / "reports")
    run = run_job("jobs.reports.daily", "--report-name", "r1", env=job_env)
    assert run.returncode == 0, run.stderr
    assert run.result["plan"] is None
    assert [Path(i["file"]).name for i in run.result["report"]["images"]] == ["forecasts.svg"]
    assert run_job("jobs.reports.daily", "--report-name", "../escape", env=job_env).returncode == 64


def test_training_report_charts_the_metric_history_and_the_holdout(seeded, run_job, tmp_path):
    import os

    os.environ.update(HEA_NOW=seeded["HEA_NOW"], HEA_STORE_URL=seeded["HEA_STORE_URL"])
    try:
        with Store.open() as store:
            for i, (v, mae, promoted) in enumerate([("v0", 30.0, True), ("v1", 25.0, True), ("v2", 40.0, False)]):
                os.environ["HEA_NOW"] = f"2025-11-0{i + 1}T02:00:00Z"
                store.register_model(
                    "price_trend",
                    v,
                    f"/m/{v}.pkl",
                    {"mae": mae, "baseline_yesterday_mae": 28.0, "baseline_7day_mae": 33.0},
                    {"start": "2025-10-27T23:00:00Z", "end": "2025-11-02T22:00:00Z", "days": 6},
                    promoted,
                )
    finally:
        os.environ.pop("HEA_NOW", None)
        os.environ.pop("HEA_STORE_URL", None)
    run = run_job(
        "jobs.reports.training", "--report-name", "weekly-x", "--model", "price_trend", "--model", "demand", env=seeded
    )
    assert run.returncode == 0, run.stderr
    r = run.result
    assert r["models"]["price_trend"]["serving"] == "v1"
    assert r["models"]["price_trend"]["holdout"]["forecast_hours"] > 100
    assert r["models"]["demand"] == {"versions": 0}
    table = r["report"]["tables"][0]
    assert table["columns"] == [
        "version",
        "trained at (UTC)",
        "promoted",
        "",
        "mae",
        "baseline_7day_mae",
        "baseline_yesterday_mae",
    ]
    assert [row[3] for row in table["rows"]] == ["", "serving", ""]
    assert [Path(i["file"]).name for i in r["report"]["images"]] == [
        "history-price_trend.svg",
        "holdout-price_trend.svg",
    ]
    models = json.loads((tmp_path / "reports" / "weekly-x" / "models.json").read_text())
    assert len(models["price_trend"]) == 3
