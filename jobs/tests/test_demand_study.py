"""The demand study tool (jobs.bench.demand_study) on small synthetic households: it scores what bench:real
scores, its oracles are oracles, and its pooled figures are pooled sums."""

import json

import numpy as np
import pandas as pd
import pytest

from jobs.bench import demand_study as ds
from jobs.bench import real

DAYS = 130  # two windows after the warm-up and bench:real's 42 days of history


def household_file(path, tz: str, scale: float, noise: float, seed: int) -> None:
    """An hourly household CSV from 2024-01-10 (across the spring clock changes): a morning and an evening
    peak, a daily level that wanders, multiplicative noise, and a few missing hours."""
    rng = np.random.default_rng(seed)
    idx = pd.date_range("2024-01-10", periods=24 * DAYS, freq="h", tz="UTC")
    local = idx.tz_convert(tz)
    hour, weekend = local.hour.to_numpy(), local.day_of_week.to_numpy() >= 5
    shape = 0.3 + 0.5 * np.exp(-(((hour - 8) / 1.5) ** 2)) + 0.9 * np.exp(-(((hour - 19) / 2.0) ** 2))
    shape = shape + 0.3 * (weekend & (hour >= 10) & (hour < 16))
    level = np.repeat(np.exp(np.cumsum(rng.normal(0, 0.1, DAYS))), 24)
    kwh = scale * level * shape * rng.gamma(1 / noise**2, noise**2, len(idx))
    keep = np.ones(len(idx), bool)
    keep[rng.choice(len(idx), 40, replace=False)] = False  # gaps: some hours have no truth or no naive value
    path.parent.mkdir(parents=True, exist_ok=True)
    pd.DataFrame({"timestamp_utc": idx[keep].strftime("%Y-%m-%dT%H:%M:%SZ"), "kwh": kwh[keep].round(4)}).to_csv(
        path, index=False
    )


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    base = tmp_path_factory.mktemp("households")
    # two very different homes (level and noise), so a mean of ratios and a ratio of sums differ
    household_file(base / "households" / "household_london_a.csv", "Europe/London", 0.4, 0.15, 1)
    household_file(base / "households" / "household_ausgrid_b.csv.gz", "Australia/Sydney", 3.0, 0.6, 2)
    return base


@pytest.fixture(scope="module")
def results(data_dir):
    out = {}
    for path in sorted((data_dir / "households").iterdir()):
        name = real.dataset_name(path)
        out[name] = ds.study_dataset(
            name, ds.load_household(path), ["production", "oracle-day-level", "oracle-timing"], windows=2
        )
    return out


def test_the_production_study_scores_what_bench_real_scores_on_its_windows(data_dir, tmp_path, monkeypatch):
    monkeypatch.delenv("HEA_STORE_URL", raising=False)
    out = tmp_path / "real.json"
    argv = ["--data-dir", str(data_dir), "--only", "london", "--kinds", "demand", "--windows", "1"]
    assert real.main([*argv, "--out", str(out), "--no-docs"]) == 0
    bench = next(r for r in json.loads(out.read_text()) if r["forecaster"] == "model")
    details = json.loads((tmp_path / "real.json.details.json").read_text())["datasets"][0]

    path = data_dir / "households" / "household_london_a.csv"
    consumption = ds.load_household(path)
    plan = ds.windows_of(consumption, "Europe/London", 1)
    assert [(str(s.date()), str(e.date())) for s, e in plan[1:]] == [tuple(w) for w in details["demand_windows"]]
    per = ds.study_dataset("household_london_a", consumption, ["production"], windows=1)
    (errors,) = per["production"]
    assert round(errors.rmae_7day, 4) == bench["rmae_vs_7day"]
    assert round(errors.rmae_yesterday, 4) == bench["rmae_vs_yesterday"]


def test_the_windows_are_bench_real_plan_without_the_warm_up(data_dir):
    path = data_dir / "households" / "household_ausgrid_b.csv.gz"
    consumption = ds.load_household(path)
    tz = real.timezone_for(real.dataset_name(path))
    plan = real.plan_windows(consumption.index.min(), consumption.index.max(), tz, 2, 42)
    assert len(plan) == 3 and ds.windows_of(consumption, tz, 2) == plan
    win = ds.Window("b", 1, *plan[1], tz=tz, consumption=consumption)
    # every hour of the window's local days (23- and 25-hour days included), none of the warm-up's
    first, after = real.day_hours(plan[1][0], tz)[0], real.day_hours(plan[1][1], tz)[0]
    assert win.hours.equals(pd.date_range(first, after, freq="h", inclusive="left"))
    assert not win.scored.all() and win.scored.any()  # the gaps are left out, the rest is scored


def test_the_oracles_never_lose_to_the_forecast_they_rearrange(results):
    for per in results.values():
        assert len(per["production"]) == 2
        for oracle in ("oracle-day-level", "oracle-timing"):
            for o, p in zip(per[oracle], per["production"]):
                assert o.vs_7day == p.vs_7day  # the same hours scored
                assert o.model <= p.model + 1e-9
            assert sum(per[oracle], ds.Errors()).rmae_7day < sum(per["production"], ds.Errors()).rmae_7day


def test_pooled_figures_are_ratios_of_summed_errors_not_means_of_ratios(results):
    table = ds.markdown(results)
    for row in ("production", "oracle-timing"):
        errors = [e for per in results.values() for e in per[row]]
        pooled = sum(e.model for e in errors) / sum(e.vs_7day for e in errors)
        mean_of_ratios = np.mean([sum(per[row], ds.Errors()).rmae_7day for per in results.values()])
        assert abs(pooled - mean_of_ratios) > 0.002  # the data tells the two apart
        assert f"| {row} | all (2) | {pooled:.4f} |" in table
        for name, per in results.items():
            ratio = sum(e.model for e in per[row]) / sum(e.vs_7day for e in per[row])
            assert abs(ratio - np.mean([e.rmae_7day for e in per[row]])) > 1e-6
            assert f"| {row} | {name} | {ratio:.4f} |" in table


def test_an_unknown_study_is_a_usage_error(data_dir, capsys):
    assert ds.main(["--data-dir", str(data_dir), "--studies", "production,psychic"]) == 2
    assert "--studies" in capsys.readouterr().err
