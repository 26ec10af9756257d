"""Imports that never lose or fake data: series sources, the CSV price source, aggregation by series kind,
units and coverage. The fetch and import jobs run as real subprocesses into a fresh store."""

from __future__ import annotations

import gzip

import numpy as np
import pandas as pd
import pytest

from jobs.common.protocol import ConfigError, DataError
from jobs.common.store import Store
from jobs.simulator.backfill import backfill_store
from jobs.sources import csv_import

# job_env's clock: HEA_NOW = 2025-11-03T10:30Z, 30 days of backfill.


def store_of(env) -> Store:
    return Store.open(f"sqlite:///{env['HEA_DATA_DIR']}/energy.db")


def write_prices(path, start="2025-10-01T00:00Z", hours=24 * 40, column="price_eur_mwh", scale=1.0, gz=False):
    idx = pd.date_range(start, periods=hours, freq="h", tz="UTC")
    vals = (50 + 30 * np.sin(np.arange(hours) / 24 * 2 * np.pi)) * scale
    text = pd.DataFrame({"timestamp_utc": idx.strftime("%Y-%m-%dT%H:%M:%SZ"), column: vals.round(4)}).to_csv(
        index=False
    )
    if gz:
        path.write_bytes(gzip.compress(text.encode()))
    else:
        path.write_text(text)
    return pd.Series(vals, index=idx)


def import_prices(run_job, csv, env):
    """The user's import job: `csv` into price.spot."""
    args = ("--series", "price.spot", "--source", str(csv), "--column", "price_eur_mwh")
    return run_job("jobs.sources.import_series", *args, env=env)


def test_the_simulator_never_writes_into_imported_prices(tmp_path, job_env, run_job):
    csv = tmp_path / "prices.csv.gz"
    truth = write_prices(csv, hours=24 * 30, gz=True)  # ends 2025-10-31, before the clock
    imported = import_prices(run_job, csv, job_env)
    assert imported.returncode == 0, imported.stderr
    assert imported.result["rows_written"] == len(truth) and imported.result["source"] == "csv"
    with store_of(job_env) as st:
        before = st.read_series("price.spot")
        assert st.series_meta("price.spot")["source"] == "csv"
        assert st.series_meta("price.spot")["origin"] == str(csv)

    sim = run_job("jobs.prices.fetch", env=job_env)  # HEA_PRICE_SOURCE defaults to the simulator
    assert sim.returncode == 78
    for words in ("price.spot", "real data", "'csv'", "HEA_FORCE_SOURCE=1"):
        assert words in sim.stderr + sim.stdout
    with store_of(job_env) as st:
        pd.testing.assert_series_equal(st.read_series("price.spot"), before)  # not a row touched or added
        with pytest.raises(ConfigError, match="price.spot"):
            backfill_store(st, "2025-11-01T00:00Z", "2025-11-05T00:00Z")
        assert st.count("home.consumption") == 0  # refused before anything was written

    forced = run_job("jobs.prices.fetch", env={**job_env, "HEA_FORCE_SOURCE": "1"})
    assert forced.returncode == 0, forced.stderr
    with store_of(job_env) as st:
        assert st.series_meta("price.spot")["source"] == "simulator"  # forced: it says so from now on
        assert st.count("price.spot") > len(truth)


def test_real_data_is_not_mixed_into_a_simulated_series_but_real_sources_may_follow_each_other(
    tmp_path, job_env, run_job
):
    assert run_job("jobs.prices.fetch", env=job_env).returncode == 0
    csv = tmp_path / "prices.csv"
    write_prices(csv)
    refused = import_prices(run_job, csv, job_env)
    assert refused.returncode == 78 and "simulated data" in refused.stderr and "--force" in refused.stderr
    with store_of(job_env) as st:
        st.delete_series("price.spot")  # the documented way out: start the series afresh
        assert st.series_meta("price.spot") is None
    env = {**job_env, "HEA_PRICE_SOURCE": "csv", "HEA_PRICE_CSV": str(csv)}
    assert run_job("jobs.prices.fetch", env=env).returncode == 0
    again = run_job(
        "jobs.sources.import_series",
        "--series",
        "price.spot",
        "--source",
        str(csv),
        "--column",
        "price_eur_mwh",
        env=job_env,
    )
    assert again.returncode == 0, again.stderr  # csv after csv: the same family


def test_csv_price_source_reports_the_hours_it_could_not_cover(tmp_path, job_env, run_job):
    csv = tmp_path / "prices.csv"
    # ends 2025-11-01, while the fetch asks for 30 days back through tomorrow (2025-11-04, local)
    truth = write_prices(csv, start="2025-10-10T00:00Z", hours=24 * 22)
    run = run_job("jobs.prices.fetch", env={**job_env, "HEA_PRICE_SOURCE": "csv", "HEA_PRICE_CSV": str(csv)})
    assert run.returncode == 0, run.stderr
    cov = run.result["coverage"]["price.spot"]
    assert cov["hours_present"] == len(truth[truth.index >= pd.Timestamp(cov["requested_start"])])
    assert cov["missing_hours"] == cov["hours_expected"] - cov["hours_present"] > 24 * 8
    assert run.result["warnings"] and "price.spot" in run.result["warnings"][0]
    with store_of(job_env) as st:
        got = st.read_series("price.spot")
        assert np.allclose(got.to_numpy(), truth.reindex(got.index).to_numpy(), atol=1e-3)


def test_aggregation_follows_the_series_kind():
    idx = pd.date_range("2025-01-01T00:00Z", periods=8, freq="15min")
    frame = pd.DataFrame(
        {
            "ts": idx.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "price_eur_mwh": [10, 20, 30, 40, 1, 1, 1, 1],
            "kwh": [0.1, 0.2, 0.3, 0.4, 1, 1, 1, 1],
        }
    )
    prices = csv_import.to_hourly(frame, {"price_eur_mwh": ("price.spot", None)})["price.spot"]
    energy = csv_import.to_hourly(frame, {"kwh": ("home.consumption", None)})["home.consumption"]
    assert prices.tolist() == [25.0, 1.0]  # a price is averaged over the hour
    assert energy.round(6).tolist() == [1.0, 4.0]  # energy adds up
    with pytest.raises(DataError, match="--how sum or --how mean"):
        csv_import.to_hourly(frame, {"kwh": ("custom.thing", None)})  # unknown kind: no guess
    assert csv_import.to_hourly(frame, {"kwh": ("custom.thing", "sum")})["custom.thing"].round(6).tolist() == [1.0, 4.0]
    with pytest.raises(DataError, match="aggregates by mean"):
        csv_import.to_hourly(frame, {"price_eur_mwh": ("price.spot", "sum")})


def test_units_are_converted_or_refused(tmp_path, job_env, run_job):
    idx = pd.date_range("2025-01-01T00:00Z", periods=2, freq="h")
    frame = pd.DataFrame(
        {
            "ts": idx.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "price_eur_kwh": [0.05, 0.10],
            "energy_wh": [500.0, 1500.0],
            "value": [1.0, 2.0],
        }
    )
    assert csv_import.to_hourly(frame, {"price_eur_kwh": ("price.spot", None)})["price.spot"].tolist() == [50.0, 100.0]
    assert csv_import.to_hourly(frame, {"energy_wh": ("home.consumption", None)})["home.consumption"].tolist() == [
        0.5,
        1.5,
    ]
    assert csv_import.to_hourly(frame, {"value": ("price.spot", None)}, unit="EUR/kWh")["price.spot"].tolist() == [
        1000.0,
        2000.0,
    ]
    with pytest.raises(DataError, match="does not convert"):
        csv_import.to_hourly(frame, {"value": ("home.consumption", None)}, unit="EUR/MWh")
    with pytest.raises(DataError, match="says EUR/kWh"):
        csv_import.to_hourly(frame, {"price_eur_kwh": ("price.spot", None)}, unit="EUR/MWh")
    with pytest.raises(ConfigError, match="unit"):
        csv_import.normalise_unit("furlongs")

    # No unit in the name, EUR/kWh values into a series of EUR/MWh prices: refused as a likely mix-up.
    mwh, kwh = tmp_path / "mwh.csv", tmp_path / "kwh.csv"
    write_prices(mwh, column="price_eur_mwh")
    write_prices(kwh, start="2025-11-10T00:00Z", hours=48, column="price", scale=0.001)
    assert (
        run_job(
            "jobs.sources.import_series",
            "--series",
            "price.spot",
            "--source",
            str(mwh),
            "--column",
            "price_eur_mwh",
            env=job_env,
        ).returncode
        == 0
    )
    bad = run_job(
        "jobs.sources.import_series", "--series", "price.spot", "--source", str(kwh), "--column", "price", env=job_env
    )
    assert bad.returncode == 65 and "unit mix-up" in bad.stderr
    ok = run_job(
        "jobs.sources.import_series",
        "--series",
        "price.spot",
        "--source",
        str(kwh),
        "--column",
        "price",
        "--unit",
        "EUR/kWh",
        "--start",
        "2025-11-10T00:00Z",
        "--end",
        "2025-11-13T00:00Z",
        env=job_env,
    )
    assert ok.returncode == 0, ok.stderr
    assert ok.result["unit"] == "EUR/MWh"
    assert ok.result["coverage"]["price.spot"]["missing_hours"] == 24 and ok.result["warnings"]
