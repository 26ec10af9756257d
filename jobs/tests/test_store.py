"""The SQLite store and the time helpers: idempotent upserts, mixed resolutions, forecasts, plans,
the model registry, concurrent writers, daylight-saving days."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import numpy as np
import pandas as pd
import pytest

from jobs.common import timeutil
from jobs.common.protocol import ConfigError
from jobs.common.store import Store
from jobs.tests.conftest import REPO_ROOT


@pytest.fixture
def store(tmp_path):
    s = Store(tmp_path / "energy.db")
    yield s
    s.close()


def hourly(start, n, values=None, freq="h"):
    idx = pd.date_range(start, periods=n, freq=freq, tz="UTC")
    return pd.Series(np.arange(n, dtype=float) if values is None else values, index=idx)


def test_upsert_is_idempotent_and_replaces_values(store):
    s = hourly("2025-01-01", 48)
    assert store.upsert_series("price.spot", s) == 48
    assert store.upsert_series("price.spot", s) == 48
    assert store.count("price.spot") == 48
    store.upsert_series("price.spot", s.iloc[:2] + 100)
    back = store.read_series("price.spot")
    assert back.iloc[0] == 100.0 and back.iloc[2] == 2.0 and len(back) == 48


def test_read_series_is_half_open_utc_float_sorted(store):
    store.upsert_series("x", hourly("2025-01-01", 24).iloc[::-1])
    out = store.read_series("x", "2025-01-01T05:00Z", pd.Timestamp("2025-01-01T07:00", tz="Europe/Stockholm"))
    # 07:00 Stockholm is 06:00 UTC: [05:00, 06:00) holds one hour
    assert list(out.index) == [pd.Timestamp("2025-01-01T05:00Z")]
    assert str(out.index.tz) == "UTC" and out.dtype == float and out.name == "x"
    full = store.read_series("x")
    assert full.index.is_monotonic_increasing


def test_mixed_resolutions_share_a_series(store):
    store.upsert_series("price.spot", hourly("2025-09-30T20:00Z", 2))
    store.upsert_series("price.spot", hourly("2025-09-30T22:00Z", 8, freq="15min"))
    out = store.read_series("price.spot")
    assert len(out) == 10
    assert out.index[-1] == pd.Timestamp("2025-09-30T23:45Z")
    assert store.latest("price.spot") == pd.Timestamp("2025-09-30T23:45Z")


def test_local_timestamps_are_converted_and_naive_rejected(store):
    local = pd.Series([1.0], index=pd.DatetimeIndex([pd.Timestamp("2025-07-01T12:00", tz="Europe/Stockholm")]))
    store.upsert_series("x", local)
    assert store.read_series("x").index[0] == pd.Timestamp("2025-07-01T10:00Z")
    with pytest.raises(ValueError, match="tz-aware"):
        store.upsert_series("x", pd.Series([1.0], index=pd.DatetimeIndex(["2025-07-01"])))


def test_nan_values_are_not_stored_and_duplicates_keep_the_last(store):
    s = hourly("2025-01-01", 4, [1.0, np.nan, 3.0, np.nan])
    assert store.upsert_series("x", s) == 2
    dup = pd.Series([1.0, 2.0], index=pd.DatetimeIndex(["2025-01-01T00:00Z", "2025-01-01T00:00Z"]))
    store.upsert_series("y", dup)
    assert store.read_series("y").tolist() == [2.0]


def test_empty_reads(store):
    assert store.read_series("none").empty
    assert store.latest("none") is None
    assert store.read_forecast("none").empty
    assert store.read_plan().empty
    assert store.champion("none") is None and store.models("none") == []


def test_series_status(store):
    store.upsert_series("a", hourly("2025-01-01", 3))
    status = store.series_status()
    assert status == {
        "a": {"rows": 3, "first": "2025-01-01T00:00:00Z", "latest": "2025-01-01T02:00:00Z", "source": None}
    }


def test_forecasts_by_issue_and_as_of(store):
    t0 = pd.Timestamp("2025-01-01T06:00Z")
    store.write_forecast("forecast.price", t0, hourly("2025-01-01T06:00Z", 48), model="trend:v1")
    store.write_forecast(
        "forecast.price", t0 + pd.Timedelta(days=1), hourly("2025-01-02T06:00Z", 48) + 1000, model="trend:v2"
    )
    latest = store.read_forecast("forecast.price")
    assert latest.attrs["issued_at"] == t0 + pd.Timedelta(days=1) and latest.attrs["model"] == "trend:v2"
    assert latest.iloc[0] == 1000.0
    first = store.read_forecast("forecast.price", t0 + pd.Timedelta(hours=5))
    assert first.attrs["issued_at"] == t0 and len(first) == 48
    frame = store.read_forecast_frame("forecast.price")
    assert set(frame.columns) == {"issued_at", "ts", "value", "lead_hours"}
    # for 2025-01-02T10:00 the day-1 issue has lead 28 h, the day-2 issue 4 h
    asof = store.read_forecast_asof("forecast.price", "2025-01-02T10:00Z", "2025-01-02T11:00Z", min_lead_hours=12)
    assert asof.tolist() == [
        pytest.approx(frame[(frame.ts == pd.Timestamp("2025-01-02T10:00Z")) & (frame.issued_at == t0)].value.iloc[0])
    ]
    nolead = store.read_forecast_asof("forecast.price", "2025-01-02T10:00Z", "2025-01-02T11:00Z")
    assert nolead.iloc[0] >= 1000
    # re-writing an issue replaces it as a whole, also when the horizon shrinks
    store.write_forecast("forecast.price", t0, hourly("2025-01-01T06:00Z", 24))
    assert len(store.read_forecast("forecast.price", t0)) == 24
    assert store.forecast_issues("forecast.price") == [t0, t0 + pd.Timedelta(days=1)]


def test_plans(store):
    idx = pd.date_range("2025-01-02", periods=3, freq="h", tz="UTC")
    plan = pd.DataFrame({"charge_kw": [1.0, 0.0, -2.0], "soc": [0.2, 0.3, 0.1]}, index=idx)
    store.write_plan("2025-01-01T12:00Z", plan, "mpc")
    store.write_plan("2025-01-01T12:00Z", plan.iloc[:2], "mpc")  # replaces the same issue
    back = store.read_plan()
    assert back.attrs["controller"] == "mpc" and len(back) == 2
    pd.testing.assert_frame_equal(back, plan.iloc[:2], check_names=False, check_freq=False, check_index_type=False)


def test_model_registry_champion(store):
    store.register_model("price.trend", "v1", "/m/v1.json", {"mae": 10.0}, {"start": "2025-01-01"}, promoted=True)
    store.register_model("price.trend", "v2", "/m/v2.json", {"mae": 12.0}, {"start": "2025-01-01"}, promoted=False)
    assert store.champion("price.trend")["version"] == "v1"
    store.register_model("price.trend", "v3", "/m/v3.json", {"mae": 9.0}, None, promoted=True)
    champ = store.champion("price.trend")
    assert champ["version"] == "v3" and champ["metrics"] == {"mae": 9.0} and champ["promoted"] is True
    assert [m["version"] for m in store.models("price.trend")] == ["v1", "v2", "v3"]
    # re-promoting an older version makes it the champion again
    store.register_model("price.trend", "v1", "/m/v1.json", {"mae": 10.0}, None, promoted=True)
    assert store.champion("price.trend")["version"] == "v1"


def test_store_url_parsing(tmp_path, monkeypatch):
    monkeypatch.setenv("HEA_STORE_URL", f"sqlite:///{tmp_path}/sub/x.db")
    with Store.open() as s:
        assert s.path == tmp_path / "sub" / "x.db" and s.path.exists()
        assert s.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    monkeypatch.setenv("HEA_STORE_URL", "postgres://db/energy")
    with pytest.raises(ConfigError):
        Store.open()
    monkeypatch.delenv("HEA_STORE_URL")
    monkeypatch.setenv("HEA_DATA_DIR", str(tmp_path / "d"))
    with Store.open() as s:
        assert s.path == tmp_path / "d" / "energy.db"


def test_concurrent_writers_do_not_fail(tmp_path):
    db = tmp_path / "energy.db"
    code = textwrap.dedent(
        f"""
        import sys, numpy as np, pandas as pd
        from jobs.common.store import Store
        name = sys.argv[1]
        st = Store({str(db)!r})
        for i in range(30):
            idx = pd.date_range("2025-01-01", periods=500, freq="h", tz="UTC") + pd.Timedelta(hours=500 * i)
            st.upsert_series(name, pd.Series(np.ones(500), index=idx))
        print(st.count(name))
        """
    )
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", code, name], cwd=REPO_ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        for name in ("a", "b", "c")
    ]
    outs = [p.communicate(timeout=120) for p in procs]
    assert all(p.returncode == 0 for p in procs), [o[1][-500:] for o in outs]
    assert [o[0].strip() for o in outs] == ["15000"] * 3


@pytest.mark.parametrize(
    "day,freq,n",
    [
        ("2025-03-30", "h", 23),
        ("2025-10-26", "h", 25),
        ("2025-06-01", "h", 24),
        ("2026-03-29", "15min", 92),
        ("2025-10-26", "15min", 100),
        ("2025-11-03", "15min", 96),
    ],
)
def test_local_days_have_the_right_length(day, freq, n):
    idx = timeutil.local_day_index(day, freq, "Europe/Stockholm")
    assert len(idx) == n
    assert idx[0] == timeutil.local_midnight(day, "Europe/Stockholm")
    assert idx[0].tz_convert("Europe/Stockholm").hour == 0


def test_now_honours_hea_now(monkeypatch):
    monkeypatch.setenv("HEA_NOW", "2025-01-15T12:00:00+01:00")
    assert timeutil.now() == pd.Timestamp("2025-01-15T11:00Z")
    monkeypatch.setenv("HEA_NOW", "2025-01-15 12:00")
    assert timeutil.now() == pd.Timestamp("2025-01-15T12:00Z")
    monkeypatch.setenv("HEA_NOW", "yesterday-ish")
    # A bad setting is a ConfigError (exit 78, not retried), not a crash that would be retried.
    with pytest.raises(ConfigError, match="HEA_NOW"):
        timeutil.now()
    monkeypatch.delenv("HEA_NOW")
    assert abs(timeutil.now() - pd.Timestamp.now(tz="UTC")) < pd.Timedelta(minutes=1)


def test_epoch_roundtrip_and_iso():
    idx = pd.date_range("2024-02-28", periods=3, freq="D", tz="UTC")
    assert timeutil.from_epoch_seconds(timeutil.to_epoch_seconds(idx)).equals(idx.as_unit("us"))
    assert timeutil.iso(pd.Timestamp("2025-01-01T01:00", tz="Europe/Stockholm")) == "2025-01-01T00:00:00Z"
    assert timeutil.iso(None) is None
