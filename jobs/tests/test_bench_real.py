"""bench:real's output contract on a small synthetic data dir (the figures themselves come from real data)."""

import json

import numpy as np
import pandas as pd
import pytest

from jobs.bench import real


def hourly_file(path, days: int, tz: str, column: str, values) -> None:
    """An hourly CSV of `days` days from 2024-01-01 UTC; `values(local_hour, rng)` gives the column."""
    idx = pd.date_range("2024-01-01", periods=24 * days, freq="h", tz="UTC")
    path.parent.mkdir(parents=True, exist_ok=True)
    column_values = values(idx.tz_convert(tz).hour, np.random.default_rng(len(idx)))
    pd.DataFrame({"timestamp_utc": idx.strftime("%Y-%m-%dT%H:%M:%SZ"), column: column_values.round(4)}).to_csv(
        path, index=False
    )


def daily_cycle_prices(base, days: int) -> None:
    """A Swedish price file with a clean daily cycle and noise: the model should beat "same time yesterday"."""
    hourly_file(
        base / "prices" / "price_SE3.csv",
        days,
        "Europe/Stockholm",
        "price_eur_mwh",
        lambda hour, rng: 60 + 25 * np.sin(2 * np.pi * (hour - 6) / 24) + rng.normal(0, 5, len(hour)),
    )


def test_bench_real_writes_one_object_per_forecaster_and_one_serving_row(tmp_path, monkeypatch):
    monkeypatch.delenv("HEA_STORE_URL", raising=False)
    daily_cycle_prices(tmp_path, 130)
    out = tmp_path / "real.json"
    assert real.main(["--data-dir", str(tmp_path), "--out", str(out), "--windows", "2", "--no-docs"]) == 0
    rows = json.loads(out.read_text())
    keys = {
        "dataset",
        "kind",
        "forecaster",
        "serving",
        "windows",
        "mae",
        "rmae_vs_yesterday",
        "rmae_vs_7day",
        "rmae_vs_blend",
        "rank_corr",
    }
    assert all(keys <= set(r) for r in rows)
    assert {r["forecaster"] for r in rows} == {"model", "yesterday", "7day", "blend", "served"}
    assert sum(r["serving"] for r in rows) == 1 and all(r["windows"] == 2 for r in rows)
    by = {r["forecaster"]: r for r in rows}
    assert by["yesterday"]["rmae_vs_yesterday"] == 1.0 and by["7day"]["rmae_vs_7day"] == 1.0
    # a clean daily cycle: the model and what served beat "same time yesterday"
    assert by["model"]["rmae_vs_yesterday"] < 1.0 and by["served"]["rmae_vs_yesterday"] < 1.0
    assert len(by["served"]["served_by"]) == 2


def test_bench_real_serves_demand_as_the_train_job_decided(tmp_path, monkeypatch):
    monkeypatch.delenv("HEA_STORE_URL", raising=False)
    # an evening peak and noise: the model or a naive forecaster may serve, the bench must follow the job
    hourly_file(
        tmp_path / "households" / "household_london_test.csv",
        110,
        "Europe/London",
        "kwh",
        lambda hour, rng: (0.3 + 0.5 * ((hour >= 17) & (hour < 22))) * np.exp(rng.normal(0, 0.2, len(hour))),
    )
    out = tmp_path / "real.json"
    assert real.main(["--data-dir", str(tmp_path), "--out", str(out), "--windows", "1", "--no-docs"]) == 0
    by = {r["forecaster"]: r for r in json.loads(out.read_text())}
    assert set(by) == {"model", "yesterday", "7day", "blend", "served"} and by["served"]["serving"] is True
    (choice,) = by["served"]["served_by"]
    assert by["served"]["mae"] == by[choice]["mae"]  # the window served what the train job chose
    details = json.loads((tmp_path / "real.json.details.json").read_text())
    trainings = details["datasets"][0]["demand_training"]
    assert len(trainings) == 2 and all(t["serving"].startswith(("demand:", "naive:")) for t in trainings)
    last = trainings[-1]["serving"]
    assert choice == (last.split(":", 1)[1] if last.startswith("naive:") else "model")


def test_a_partial_bench_real_run_leaves_the_full_table_in_the_docs(tmp_path, monkeypatch):
    monkeypatch.delenv("HEA_STORE_URL", raising=False)
    daily_cycle_prices(tmp_path, 70)
    docs = tmp_path / "models.md"
    docs.write_text(f"# Models\n\n{real.BEGIN}\nthe full run's table\n{real.END}\n")
    monkeypatch.setattr(real, "DEFAULT_DATA_DIR", tmp_path)
    monkeypatch.setattr(real, "DOCS", docs)
    assert real.main(["--windows", "1", "--kinds", "price"]) == 0
    assert "the full run's table" in docs.read_text()


@pytest.mark.parametrize("lat, lon", [(52.0, 13.0), (-33.9, 151.2), (40.0, -75.0)])
def test_a_pv_roof_from_an_unknown_place_is_located_from_its_production(lat, lon):
    from jobs.simulator.solar import clear_sky_ghi, interval_mid, pv_power_kw, sun_position

    # a south-facing roof (north-facing south of the equator) under random daily cloud, a year of hours
    idx = pd.date_range("2023-01-01", "2024-01-01", freq="h", tz="UTC", inclusive="left")
    clear = clear_sky_ghi(sun_position(interval_mid(idx), lat, lon)[0])
    cloud = np.repeat(np.random.default_rng(0).uniform(0.2, 1.0, len(idx) // 24), 24)
    kw = pv_power_kw(idx, clear * cloud, np.full(len(idx), 15.0), lat, lon, azimuth=0.0 if lat > 0 else 180.0)
    got_lat, got_lon = real.infer_place(pd.Series(kw, index=idx))
    assert abs(got_lon - lon) <= 5 and abs(got_lat - lat) <= 8, (got_lat, got_lon)


def test_the_time_zone_comes_from_the_file_name_or_is_unknown():
    assert (
        real.timezone_for("price_DK1") == "Europe/Copenhagen" and real.timezone_for("price_GB_2025") == "Europe/London"
    )
    assert real.timezone_for("household_london_MAC000060") == "Europe/London"
    assert real.timezone_for("household_somewhere_42") is None and real.timezone_for("price_XX") is None
