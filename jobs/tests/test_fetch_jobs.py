"""The fetch jobs and store_status as real subprocesses (protocol lines, exit codes, idempotence, a kill
half-way), and with real-source adapters in-process against recorded responses."""

from __future__ import annotations

import json
import signal
import subprocess
import sys

import pandas as pd
import pytest

from jobs.common.store import Store
from jobs.tests.conftest import REPO_ROOT, fixture_path, parse_protocol

# HEA_NOW = 2025-11-03T10:30Z (11:30 local, before prices are published), 30 days of backfill
JOBS = [
    ("jobs.prices.fetch", {"price.spot": 733}),  # 720 hours + today's until local midnight
    ("jobs.commodities.fetch", {"commodity.gas": 21, "commodity.coal": 21, "commodity.co2": 21}),
    (
        "jobs.weather.fetch",
        {"weather.temperature": 720, "weather.cloud_cover": 720, "weather.irradiance": 720, "weather.wind_speed": 720},
    ),
    ("jobs.demand.fetch_consumption", {"home.consumption": 720}),
    ("jobs.demand.fetch_heat_pump", {"home.heat_pump": 720, "home.indoor_temperature": 720}),
    ("jobs.solar.fetch_actual", {"solar.production": 720}),
]


def counts(env) -> dict:
    with Store.open(f"sqlite:///{env['HEA_DATA_DIR']}/energy.db") as st:
        return {k: v["rows"] for k, v in st.series_status().items()}


@pytest.mark.parametrize("module,expected", JOBS, ids=[m for m, _ in JOBS])
def test_fetch_backfills_then_resumes_without_duplicates(module, expected, job_env, run_job):
    first = run_job(module, env=job_env)
    assert first.returncode == 0, first.stderr
    assert first.progress and all(0 <= p["progress"] <= 100 for p in first.progress)
    pcts = [p["progress"] for p in first.progress]
    assert pcts == sorted(pcts)
    res = first.result
    assert {"rows_written", "series", "first", "last", "source"} <= set(res)
    assert res["source"] == "simulator" and res["rows_written"] == sum(expected.values())
    assert counts(job_env) == expected
    again = run_job(module, env=job_env)
    assert again.returncode == 0, again.stderr
    assert again.result["rows_written"] <= len(expected)  # only the last interval is fetched again
    assert counts(job_env) == expected


def test_weather_fetch_stores_forecast_issues(job_env, run_job):
    run = run_job("jobs.weather.fetch", env=job_env)
    assert run.returncode == 0, run.stderr
    assert run.result["forecast_issues_written"] == 31  # daily at 06:00 UTC, 2025-10-04 .. 2025-11-03
    with Store.open(f"sqlite:///{job_env['HEA_DATA_DIR']}/energy.db") as st:
        f = st.read_forecast("forecast.weather.temperature")
        assert f.attrs["issued_at"] == pd.Timestamp("2025-11-03T06:00Z") and len(f) == 168
    job_env["HEA_NOW"] = "2025-11-04T07:00Z"
    later = run_job("jobs.weather.fetch", env=job_env)
    assert later.result["forecast_issues_written"] == 1 and later.result["rows_written"] == 4 * 22


def test_prices_include_tomorrow_after_publication(job_env, run_job):
    job_env["HEA_NOW"] = "2025-11-03T12:30Z"  # 13:30 local
    run = run_job("jobs.prices.fetch", "--backfill-days", "2", env=job_env)
    assert run.returncode == 0, run.stderr
    assert (
        run.result["last"] == "2025-11-04T22:00:00Z" and run.result["rows_written"] == 83
    )  # 2025-11-01T12:00Z .. 2025-11-04T23:00Z


def test_store_status_job(job_env, run_job):
    run_job("jobs.demand.fetch_consumption", "--backfill-days", "2", env=job_env)
    run = run_job("jobs.store.status", env=job_env)
    assert run.returncode == 0, run.stderr
    assert run.result["series"]["home.consumption"] == {
        "rows": 48,
        "first": "2025-11-01T10:00:00Z",
        "latest": "2025-11-03T09:00:00Z",
        "source": "simulator",
    }


@pytest.mark.parametrize("args", [["--backfill-days", "abc"], ["--backfill-days", "0"], ["--bogus"]])
def test_usage_errors_exit_64(args, job_env, run_job):
    run = run_job("jobs.prices.fetch", *args, env=job_env)
    assert run.returncode == 64, (run.returncode, run.stderr)


def test_bad_source_is_a_config_error(job_env, run_job):
    job_env["HEA_WEATHER_SOURCE"] = "yr.no"
    run = run_job("jobs.weather.fetch", env=job_env)
    assert run.returncode == 78 and "HEA_WEATHER_SOURCE" in run.stderr and run.result is None


def test_a_fetch_killed_half_way_leaves_each_row_once(job_env):
    job_env["HEA_BACKFILL_DAYS"] = "300"
    proc = subprocess.Popen(
        [sys.executable, "-m", "jobs.weather.fetch"],
        cwd=REPO_ROOT,
        env=job_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    killed = False
    for line in proc.stdout:  # the forecast issues come after the actuals: kill in their middle
        if '"stage":"forecasts"' in line:
            proc.send_signal(signal.SIGKILL)
            killed = True
            break
    proc.wait(timeout=60)
    proc.stdout.close()
    proc.stderr.close()
    assert killed and proc.returncode == -signal.SIGKILL
    with Store.open(f"sqlite:///{job_env['HEA_DATA_DIR']}/energy.db") as st:
        partial_issues = len(st.forecast_issues("forecast.weather.temperature"))
    assert 0 < partial_issues < 300
    rerun = subprocess.run(
        [sys.executable, "-m", "jobs.weather.fetch"],
        cwd=REPO_ROOT,
        env=job_env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert rerun.returncode == 0, rerun.stderr
    hours = 300 * 24
    assert counts(job_env)["weather.temperature"] == hours
    with Store.open(f"sqlite:///{job_env['HEA_DATA_DIR']}/energy.db") as st:
        issues = st.forecast_issues("forecast.weather.temperature")
        assert len(issues) == 301 and len(set(issues)) == 301
        n = st.conn.execute("SELECT COUNT(*) FROM forecasts WHERE name = 'forecast.weather.temperature'").fetchone()[0]
        assert n == 301 * 168


def test_two_jobs_at_once_on_one_store(job_env):
    job_env["HEA_BACKFILL_DAYS"] = "120"
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", m],
            cwd=REPO_ROOT,
            env=job_env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for m in ("jobs.weather.fetch", "jobs.demand.fetch_heat_pump", "jobs.prices.fetch")
    ]
    outs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0], [o[1][-400:] for o in outs]
    c = counts(job_env)
    assert c["weather.temperature"] == c["home.heat_pump"] == 120 * 24


def test_consumption_from_a_local_csv_across_dst(job_env, run_job):
    job_env.update(
        HEA_CONSUMPTION_SOURCE="csv",
        HEA_CONSUMPTION_CSV=str(fixture_path("consumption_local_15min.csv")),
        HEA_CSV_TIMEZONE="Europe/Stockholm",
        HEA_NOW="2025-10-27T00:00Z",
        HEA_BACKFILL_DAYS="3",
    )
    run = run_job("jobs.demand.fetch_consumption", env=job_env)
    assert run.returncode == 0, run.stderr
    assert run.result["source"] == "csv" and run.result["rows_written"] == 26  # a 25-hour day and one more hour
    assert run.result["first"] == "2025-10-25T22:00:00Z"


def test_heat_pump_over_http_from_a_local_server(job_env, run_job, fixture_server):
    job_env.update(
        HEA_HEAT_PUMP_SOURCE="http",
        HEA_HEAT_PUMP_URL=f"{fixture_server}/heat_pump.json",
        HEA_NOW="2025-01-17T00:00Z",
        HEA_BACKFILL_DAYS="5",
    )
    run = run_job("jobs.demand.fetch_heat_pump", env=job_env)
    assert run.returncode == 0, run.stderr
    assert run.result["rows_by_series"] == {"home.heat_pump": 48, "home.indoor_temperature": 48}
    job_env["HEA_HEAT_PUMP_URL"] = "http://127.0.0.1:9/nothing.csv"  # discard port: connection refused
    down = run_job("jobs.demand.fetch_heat_pump", env=job_env)
    assert down.returncode == 1 and "TransientError" in down.stderr


# ------------------------------------------------------------------ real sources in-process


def run_main_inprocess(module, argv, capsys):
    mod = __import__(module, fromlist=["main", "build_parser"])
    args = mod.build_parser().parse_args(argv)
    res = mod.main(args)
    progress, _, _ = parse_protocol(capsys.readouterr().out)
    return res, progress


def test_prices_fetch_from_elprisetjustnu(tmp_path, monkeypatch, fake_http, capsys):
    monkeypatch.setenv("HEA_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("HEA_NOW", "2025-01-15T10:00Z")
    monkeypatch.setenv("HEA_PRICE_SOURCE", "elprisetjustnu")
    with Store.open() as st:
        st.upsert_series("price.spot", pd.Series([50.0], index=pd.DatetimeIndex(["2025-01-14T22:00Z"])))
    fake_http.add_fixture("/2025/01-15_SE3.json", "elprisetjustnu_2025-01-15_SE3.json")
    res, progress = run_main_inprocess("jobs.prices.fetch", [], capsys)
    assert res["source"] == "elprisetjustnu" and res["rows_written"] == 24 and res["zone"] == "SE3"
    assert res["last"] == "2025-01-15T22:00:00Z"  # tomorrow answered 404: not yet published
    assert any(c[0].endswith("01-16_SE3.json") for c in fake_http.calls)


def test_weather_fetch_from_open_meteo(tmp_path, monkeypatch, fake_http, capsys):
    monkeypatch.setenv("HEA_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("HEA_NOW", "2025-03-31T12:00Z")
    monkeypatch.setenv("HEA_WEATHER_SOURCE", "open-meteo")
    for host in ("archive-api.open-meteo.com", "https://api.open-meteo.com", "historical-forecast-api"):
        fake_http.add_fixture(host, "open_meteo_hourly.json")
    res, _ = run_main_inprocess("jobs.weather.fetch", ["--backfill-days", "2"], capsys)
    assert res["source"] == "open-meteo"
    assert res["rows_by_series"]["weather.wind_speed"] == 48
    assert res["forecast_issues_written"] >= 2
    with Store.open() as st:
        cur = st.read_forecast("forecast.weather.temperature")
        assert cur.attrs["issued_at"] == pd.Timestamp("2025-03-31T12:00Z") and cur.attrs["model"] == "open-meteo"
    again, _ = run_main_inprocess("jobs.weather.fetch", [], capsys)
    assert again["forecast_issues_written"] == 0  # one Open-Meteo issue per 6 hours, not one per run
    monkeypatch.setenv("HEA_NOW", "2025-03-31T18:00Z")
    later, _ = run_main_inprocess("jobs.weather.fetch", [], capsys)
    assert later["forecast_issues_written"] == 1


def test_commodities_from_instrat_and_fred_say_monthly(tmp_path, monkeypatch, fake_http, capsys):
    monkeypatch.setenv("HEA_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("HEA_NOW", "2025-02-20T12:00Z")
    monkeypatch.setenv("HEA_CO2_SOURCE", "instrat")
    monkeypatch.setenv("HEA_COMMODITY_SOURCE", "fred")
    fake_http.add_fixture("energy-api.instrat.pl", "instrat_co2.json")
    for sid in ("PNGASEUUSDM", "PCOALAUUSDM", "EXUSEU"):
        fake_http.add_fixture(f"id={sid}", f"fred_{sid}.csv")
    res, _ = run_main_inprocess("jobs.commodities.fetch", ["--backfill-days", "30"], capsys)
    assert "monthly" in res["resolution"]["commodity.gas"] and res["resolution"]["commodity.co2"] == "daily"
    assert res["rows_by_series"]["commodity.co2"] > 10 and res["rows_by_series"]["commodity.gas"] >= 1
    assert json.dumps(res)  # the result is plain JSON


def test_import_series_job_for_a_real_meter(job_env, run_job, fixture_server):
    url = f"{fixture_server}/heat_pump.json"
    args = ["--series", "meter.heat.building_7", "--source", url, "--column", "heat_pump"]
    run = run_job("jobs.sources.import_series", *args, env=job_env)
    assert run.returncode == 0, run.stderr
    assert run.result["rows_written"] == 48 and run.result["first"] == "2025-01-15T00:00:00Z"
    assert run_job("jobs.sources.import_series", *args, env=job_env).returncode == 0
    assert counts(job_env)["meter.heat.building_7"] == 48
    bad = run_job("jobs.sources.import_series", "--series", "../x", "--source", url, env=job_env)
    assert bad.returncode == 64
    missing = run_job("jobs.sources.import_series", "--series", "meter.heat.x", "--source", "/nope.csv", env=job_env)
    assert missing.returncode == 66
