"""bench:real's output contract on a small synthetic data dir (the figures themselves come from real data)."""

import json

import numpy as np
import pandas as pd

from jobs.bench import real


def hourly_file(path, days: int, tz: str, column: str, values) -> None:
    """An hourly CSV of `days` days from 2024-01-01 UTC; `values(local_hour, rng)` gives the column."""
    idx = pd.date_range("2024-01-01", periods=24 * days, freq="h", tz="UTC")
    path.parent.mkdir(parents=True, exist_ok=True)
    column_values = values(idx.tz_convert(tz).hour, np.random.default_rng(len(idx)))
    pd.DataFrame({"timestamp_utc": idx.strftime("%Y-%m-%dT%H:%M:%SZ"), column: column_values.round(4)}).to_csv(
        path, index=False
    )


def test_bench_real_writes_one_object_per_forecaster_and_one_serving_row(tmp_path, monkeypatch):
    monkeypatch.delenv("HEA_STORE_URL", raising=False)
    hourly_file(
        tmp_path / "prices" / "price_SE3.csv",
        130,
        "Europe/Stockholm",
        "price_eur_mwh",
        lambda hour, rng: 60 + 25 * np.sin(2 * np.pi * (hour - 6) / 24) + rng.normal(0, 5, len(hour)),
    )
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
    hourly_file(
        tmp_path / "prices" / "price_SE3.csv",
        70,
        "Europe/Stockholm",
        "price_eur_mwh",
        lambda hour, rng: 60 + 25 * np.sin(2 * np.pi * (hour - 6) / 24) + rng.normal(0, 5, len(hour)),
    )
    docs = tmp_path / "models.md"
    docs.write_text(f"# Models\n\n{real.BEGIN}\nthe full run's table\n{real.END}\n")
    monkeypatch.setattr(real, "DEFAULT_DATA_DIR", tmp_path)
    monkeypatch.setattr(real, "DOCS", docs)
    assert real.main(["--windows", "1", "--kinds", "price"]) == 0
    assert "the full run's table" in docs.read_text()
