"""jobs.meters.train: the meter training job, from the store and from a real InfluxDB (`influxd`).

The Influx tests start Debian's `influxd` (package `influxdb`, 1.x) on free ports with a temporary config
and data directory, wait for /ping with a deadline, and stop it afterwards; they are skipped when the
binary is not installed.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import requests

from jobs.common.protocol import ConfigError, DataError, UsageError
from jobs.meters import influx, train
from jobs.simulator.meters import simulate_meter

ROOT = Path(__file__).resolve().parents[2]

SMALL = {
    "HEA_METER_HISTORY_DAYS": "45",
    "HEA_METER_MIN_DAYS": "21",
    "HEA_METER_HOLDOUT_DAYS": "7",
    "HEA_METER_ESTIMATORS": "60",
}
STAGES = ["connecting", "fetching_data", "validating_data", "training_model", "saving_model"]


@pytest.fixture
def meter_env(job_env):
    return {**job_env, **SMALL}


def test_trains_a_simulated_meter_and_saves_it_atomically(run_job, meter_env, tmp_path):
    run = run_job(
        "jobs.meters.train",
        "--meter-id",
        "meter_test_001",
        "--meter-type",
        "electricity",
        "--task-id",
        "task-abc",
        env=meter_env,
    )
    assert run.returncode == 0, run.stderr
    stages = [p["stage"] for p in run.progress]
    assert [s for i, s in enumerate(stages) if i == 0 or stages[i - 1] != s] == STAGES
    assert [p["progress"] for p in run.progress] == sorted(p["progress"] for p in run.progress)
    res = run.result
    assert res["status"] == "success" and "Model trained and saved at" in res["message"]
    d = res["details"]
    assert d["meter_id"] == "meter_test_001" and d["meter_type"] == "electricity"
    assert d["data_points"] == 45 * 24
    model_path = Path(d["model_path"])
    assert model_path == tmp_path / "models" / "electricity" / "meter_test_001.pkl" and model_path.exists()
    meta = json.loads((tmp_path / "models" / "electricity" / "meter_test_001.json").read_text())
    assert meta["data_points"] == d["data_points"] and meta["task_id"] == "task-abc"
    m = d["metrics"]
    assert m["holdout_rows"] == 7 * 24
    for key in ("mae", "baseline_yesterday_mae", "baseline_7day_mae", "rmae_yesterday"):
        assert m[key] > 0
    assert d["data_fetch_time_seconds"] >= 0 and d["training_time_seconds"] > 0
    assert set(d["stage_seconds"]) == set(STAGES)
    # No temporary files are left next to the model.
    assert sorted(p.name for p in model_path.parent.iterdir()) == ["meter_test_001.json", "meter_test_001.pkl"]
    # Every log line carries the task and the meter.
    lines = [line for line in run.stderr.splitlines() if line.strip()]
    assert lines and all("task_id=task-abc" in line and "meter_id=meter_test_001" in line for line in lines)
    stats = json.loads((tmp_path / "data" / "meters" / "stage_times.json").read_text())
    assert stats["trainings"] == 1 and stats["stages"]["training_model"]["samples"] == 1

    # A second training replaces the model and folds its stage times into the running means.
    again = run_job("jobs.meters.train", "--meter-id", "meter_test_001", "--meter-type", "electricity", env=meter_env)
    assert again.returncode == 0, again.stderr
    assert again.result["details"]["backfilled_hours"] == 0
    stats = json.loads((tmp_path / "data" / "meters" / "stage_times.json").read_text())
    assert stats["trainings"] == 2 and stats["stages"]["saving_model"]["samples"] == 2


def test_a_model_worse_than_same_time_yesterday_is_not_a_plain_success(run_job, meter_env):
    # One shallow tree at a small learning rate barely moves from the mean: worse than yesterday's values.
    run = run_job(
        "jobs.meters.train",
        "--meter-id",
        "meter_test_002",
        "--meter-type",
        "electricity",
        env={**meter_env, "HEA_METER_ESTIMATORS": "1"},
    )
    assert run.returncode == 0, run.stderr
    res = run.result
    m = res["details"]["metrics"]
    assert m["mae"] >= m["baseline_yesterday_mae"]
    assert res["status"] == "worse_than_naive" and res["beats_naive"] is False
    assert "worse than the same-time-yesterday forecast" in res["message"]


def test_a_model_that_beats_same_time_yesterday_says_so(run_job, meter_env):
    res = run_job(
        "jobs.meters.train", "--meter-id", "meter_test_003", "--meter-type", "electricity", env=meter_env
    ).result
    assert res["beats_naive"] is True and res["status"] == "success"


@pytest.mark.parametrize(
    "meter_id, meter_type, problem",
    [
        ("meter_x_short", "heat", "not enough data"),
        ("meter_x_gappy", "water", "too many gaps"),
        ("meter_x_outlier", "electricity", "outliers"),
        ("meter_x_flat", "gas", "stuck meter"),
        ("meter_001", "steam", "meter unknown"),
    ],
)
def test_unusable_data_is_a_data_error(monkeypatch, meter_env, meter_id, meter_type, problem):
    # In-process (the exit code mapping is checked by the subprocess test below): fast.
    for key, value in meter_env.items():
        if key.startswith("HEA_"):
            monkeypatch.setenv(key, value)
    args = train.build_parser().parse_args(["--meter-id", meter_id, "--meter-type", meter_type])
    with pytest.raises(DataError, match=f"^{problem}"):
        train.main(args)
    assert not (Path(meter_env["HEA_MODELS_DIR"]) / meter_type / f"{meter_id}.pkl").exists()


def test_unknown_meter_exits_65_with_the_reason_last_on_stderr(run_job, meter_env):
    run = run_job(
        "jobs.meters.train", "--meter-id", "someone_elses_meter", "--meter-type", "electricity", env=meter_env
    )
    assert run.returncode == 65, run.stderr
    assert run.stderr.strip().splitlines()[-1].startswith("DataError: meter unknown: the store has no readings")
    assert run.result is None
    assert [p["stage"] for p in run.progress] == ["connecting", "fetching_data"]


def test_a_bad_meter_id_names_the_field_in_the_error_line(run_job, meter_env):
    run = run_job("jobs.meters.train", "--meter-id", "../etc", "--meter-type", "electricity", env=meter_env)
    assert run.returncode == 64
    [line] = [json.loads(x) for x in run.stdout.splitlines() if x.startswith('{"error"')]
    assert line["error"]["type"] == "UsageError" and line["error"]["field"] == "meter_id"
    assert "invalid meter id '../etc'" in line["error"]["message"]


@pytest.mark.parametrize("bad", ["../etc", "a/b", "", "x" * 65, "meter..1", ".hidden"])
def test_meter_ids_that_could_name_other_files_are_usage_errors(bad):
    args = train.build_parser().parse_args(["--meter-id", bad, "--meter-type", "electricity"])
    with pytest.raises(UsageError) as err:
        train.main(args)
    assert err.value.exit_code == 64


def test_outlier_detection_finds_spikes_and_negatives_only():
    idx = pd.date_range("2025-01-01", periods=24 * 30, freq="h", tz="UTC")
    rng = np.random.default_rng(0)
    values = 1.0 + 0.5 * np.sin(np.arange(len(idx)) * 2 * np.pi / 24) + 0.1 * rng.standard_normal(len(idx))
    values[[100, 300]] *= 50
    values[500] = -1.0
    found = train._outliers(pd.Series(values, index=idx))
    assert set(np.flatnonzero(found)) == {100, 300, 500}


def _outliers_by_groupby(full: pd.Series) -> np.ndarray:
    """The outlier rule as first written (a groupby by hour with a rolling median per group): the reference
    the columnwise `train._outliers` must match exactly."""
    values = full.to_numpy(dtype=float)
    by_hour = pd.DataFrame({"v": values, "h": full.index.hour}, index=full.index)
    med = by_hour.groupby("h")["v"].transform(lambda x: x.rolling(15, center=True, min_periods=5).median())
    dev = (by_hour["v"] - med).abs()
    mad = dev.groupby(by_hour["h"]).transform(lambda x: x.rolling(15, center=True, min_periods=5).median())
    level = float(np.nanmedian(values))
    scale = np.maximum(1.4826 * mad.to_numpy(), 0.05 * max(level, 1e-9))
    high = (values - med.to_numpy()) > 12.0 * scale
    high &= values > 3.0 * np.maximum(med.to_numpy(), 0.1 * level)
    return np.nan_to_num(high, nan=False).astype(bool) | (values < 0)


def test_outlier_detection_matches_the_groupby_rule_on_gappy_series():
    rng = np.random.default_rng(7)
    flagged = 0
    for trial in range(40):
        n = int(rng.integers(24 * 6, 24 * 120))
        start = pd.Timestamp("2025-03-20", tz="UTC") + pd.Timedelta(hours=int(rng.integers(0, 24)))
        # Local time too: across a daylight-saving change an hour of day repeats or is skipped.
        idx = pd.date_range(start, periods=n, freq="h").tz_convert("Europe/Berlin" if trial % 2 else "UTC")
        values = 1 + 0.5 * np.sin(np.arange(n) * 2 * np.pi / 24) + 0.2 * rng.standard_normal(n)
        values[rng.random(n) < 0.05] = np.nan
        values[rng.integers(0, n, 5)] *= 40
        values[rng.integers(0, n, 2)] = -1.0
        series = pd.Series(np.round(values, 2) if trial % 3 == 0 else values, index=idx)
        expected = _outliers_by_groupby(series)
        assert np.array_equal(train._outliers(series), expected), trial
        flagged += int(expected.sum())
    assert flagged > 40 * 5  # the series did have outliers to find


def test_longest_run():
    assert train._longest_run(np.array([], dtype=bool)) == 0
    assert train._longest_run(np.array([False, False])) == 0
    assert train._longest_run(np.array([True, False, True, True, True, False, True, True])) == 3
    assert train._longest_run(np.array([True] * 5)) == 5


def test_parallel_and_serial_fits_make_the_same_model(monkeypatch, meter_env, capsys):
    for key, value in meter_env.items():
        if key.startswith("HEA_"):
            monkeypatch.setenv(key, value)
    args = train.build_parser().parse_args(["--meter-id", "meter_test_par", "--meter-type", "heat"])
    runs = {}
    for parallel in ("true", "false"):
        monkeypatch.setenv("HEA_METER_PARALLEL_FITS", parallel)
        result = train.main(args)
        lines = [json.loads(x) for x in capsys.readouterr().out.splitlines() if x.startswith('{"progress"')]
        model = (Path(meter_env["HEA_MODELS_DIR"]) / "heat" / "meter_test_par.pkl").read_bytes()
        runs[parallel] = (
            result["details"]["metrics"],
            [(p["progress"], p["stage"], p["message"]) for p in lines],
            model,
        )
    assert train.fit_plan()[0] is False
    assert runs["true"][0] == runs["false"][0]
    assert runs["true"][1] == runs["false"][1]  # the same progress lines in the same order
    assert [p for p, _, _ in runs["true"][1]] == [5, 10, 35, 50, 80, 90]
    assert runs["true"][2] == runs["false"][2]  # the model file, byte for byte


def test_parallel_fits_split_the_threads_between_them(monkeypatch):
    cores = len(os.sched_getaffinity(0))
    monkeypatch.setenv("HEA_TRAIN_THREADS", "64")
    monkeypatch.setenv("HEA_METER_PARALLEL_FITS", "true")
    parallel, threads = train.fit_plan()
    assert (parallel, threads) == ((True, cores // 2) if cores >= 2 else (False, 64))
    monkeypatch.setenv("HEA_METER_PARALLEL_FITS", "false")
    assert train.fit_plan() == (False, 64)
    monkeypatch.setenv("HEA_METER_PARALLEL_FITS", "sometimes")
    with pytest.raises(ConfigError, match="HEA_METER_PARALLEL_FITS"):
        train.fit_plan()


def test_auto_fits_in_parallel_only_with_an_idle_core(monkeypatch):
    monkeypatch.delenv("HEA_METER_PARALLEL_FITS", raising=False)
    monkeypatch.setattr(train, "usable_cores", lambda: 4)
    monkeypatch.setattr(train, "idle_cores", lambda cores: 0)
    assert train.fit_plan()[0] is False
    monkeypatch.setattr(train, "idle_cores", lambda cores: 1)
    assert train.fit_plan()[0] is True
    assert 0 <= train.idle_cores(4) <= 3  # this thread is running: at most all cores but one are idle


# --------------------------------------------------------------------------- InfluxDB
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def influxd(tmp_path_factory):
    binary = shutil.which("influxd")
    if binary is None:
        pytest.skip("influxd is not installed (apt-get install -y influxdb)")
    base = tmp_path_factory.mktemp("influx")
    http_port, rpc_port = _free_port(), _free_port()
    conf = base / "influxdb.conf"
    conf.write_text(f"""
reporting-disabled = true
bind-address = "127.0.0.1:{rpc_port}"
[meta]
  dir = "{base}/meta"
[data]
  dir = "{base}/data"
  wal-dir = "{base}/wal"
  query-log-enabled = false
[http]
  bind-address = "127.0.0.1:{http_port}"
  log-enabled = false
[monitor]
  store-enabled = false
[continuous_queries]
  enabled = false
""")
    log = open(base / "influxd.log", "wb")
    proc = subprocess.Popen([binary, "-config", str(conf)], stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{http_port}"
    deadline = time.monotonic() + 30
    try:
        while True:
            if proc.poll() is not None:
                raise RuntimeError(
                    f"influxd exited with {proc.returncode}: {(base / 'influxd.log').read_text()[-2000:]}"
                )
            try:
                if requests.get(f"{url}/ping", timeout=1).status_code == 204:
                    break
            except requests.RequestException:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("influxd did not answer /ping within 30 s")
            time.sleep(0.1)
        requests.post(f"{url}/query", params={"q": "CREATE DATABASE meters"}, timeout=10).raise_for_status()
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def _load(url: str, meter_type: str, meter_id: str, end: pd.Timestamp, days: int) -> pd.Series:
    """Writes a simulated meter as 15-minute readings (a quarter of each hour each), as a real meter would."""
    hourly = simulate_meter(meter_type, meter_id, end - pd.Timedelta(days=days), end)
    client = influx.InfluxClient(influx.InfluxSettings(url=url, database="meters"))
    lines = []
    for ts, v in hourly.items():
        for q in range(4):
            lines.append(
                influx.line(
                    "consumption",
                    {"meter_id": meter_id, "meter_type": meter_type},
                    v / 4,
                    ts + pd.Timedelta(minutes=15 * q),
                )
            )
    for i in range(0, len(lines), 5000):
        client.write_lines(lines[i : i + 5000])
    return hourly


def test_influx_source_reads_hourly_sums_and_trains(run_job, meter_env, influxd, tmp_path):
    end = pd.Timestamp(meter_env["HEA_NOW"]).floor("h")
    hourly = _load(influxd, "heat", "meter_influx_1", end, 45)
    client = influx.InfluxClient(influx.InfluxSettings(url=influxd, database="meters"))
    got = client.read_meter("heat", "meter_influx_1", end - pd.Timedelta(days=45), end)
    assert len(got) == len(hourly)
    np.testing.assert_allclose(got.to_numpy(), hourly.to_numpy(), rtol=1e-6, atol=1e-9)
    assert (got.index == hourly.index).all()

    env = {**meter_env, "HEA_METER_SOURCE": "influx", "HEA_INFLUX_URL": influxd, "HEA_INFLUX_DB": "meters"}
    run = run_job("jobs.meters.train", "--meter-id", "meter_influx_1", "--meter-type", "heat", env=env)
    assert run.returncode == 0, run.stderr
    d = run.result["details"]
    assert d["source"] == "influx" and d["data_points"] == 45 * 24
    assert (tmp_path / "models" / "heat" / "meter_influx_1.pkl").exists()
    # The store was not used for the readings.
    assert not (tmp_path / "data" / "energy.db").exists()


def test_influx_config_file_and_failures(run_job, meter_env, influxd, tmp_path):
    cfg = tmp_path / "influxdb_config.json"
    cfg.write_text(json.dumps({"url": influxd, "database": "meters", "measurement": "consumption"}))
    env = {**meter_env, "HEA_METER_SOURCE": "influx", "HEA_INFLUX_CONFIG": str(cfg)}
    unknown = run_job("jobs.meters.train", "--meter-id", "meter_nobody", "--meter-type", "heat", env=env)
    assert unknown.returncode == 65
    assert "DataError: meter unknown: InfluxDB has no readings" in unknown.stderr

    no_db = run_job(
        "jobs.meters.train", "--meter-id", "meter_nobody", "--meter-type", "heat", env={**env, "HEA_INFLUX_DB": "nope"}
    )
    assert no_db.returncode == 78 and "no database 'nope'" in no_db.stderr

    down = run_job(
        "jobs.meters.train",
        "--meter-id",
        "meter_nobody",
        "--meter-type",
        "heat",
        env={**env, "HEA_INFLUX_URL": f"http://127.0.0.1:{_free_port()}", "HEA_INFLUX_TIMEOUT": "2"},
    )
    assert down.returncode == 1 and "TransientError: InfluxDB ping: cannot reach" in down.stderr


def test_influxql_quotes_identifiers_and_strings():
    s = influx.InfluxSettings(measurement='we"ird', meter_tag="id")
    q = influx.InfluxClient(s).meter_query(
        "heat", "a'b", pd.Timestamp("2025-01-01", tz="UTC"), pd.Timestamp("2025-01-02", tz="UTC")
    )
    assert 'FROM "we\\"ird"' in q and "\"id\" = 'a\\'b'" in q
    assert "time >= 1735689600s AND time < 1735776000s" in q


def test_timing_tool_prints_every_phase(job_env):
    env = {**job_env, **SMALL, "HEA_METER_ESTIMATORS": "20"}
    cmd = [sys.executable, "-m", "jobs.meters.timing", "--meter-id", "meter_timing_t", "--repeat", "1", "--json"]
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["days"] == 45 and out["rows"] > 0 and out["backfilled_hours"] == 45 * 24
    phases = ["import third-party", "import jobs.*", "read", "validate", "features", "fit holdout", "fit final"]
    assert all(out["seconds"][p] >= 0 for p in [*phases, "predict + score", "write"])
    assert any(k.startswith("fits as the job runs them") for k in out["seconds"])
    bad = subprocess.run([*cmd, "--meter-type", "Bad/Type"], cwd=ROOT, env=env, capture_output=True, text=True)
    assert bad.returncode == 2 and "--meter-type" in bad.stderr
