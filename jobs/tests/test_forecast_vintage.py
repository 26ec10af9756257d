"""Training inputs have the vintage production will have: weather issued by the decision time, never measured."""

import numpy as np
import pandas as pd

from jobs.common import features as fc
from jobs.common.store import Store


def test_training_uses_issues_made_by_the_decision_time_and_never_measured_weather(tmp_path, monkeypatch):
    monkeypatch.setenv("HEA_TIMEZONE", "UTC")
    store = Store(tmp_path / "s.db")
    hours = pd.date_range("2025-01-01", "2025-01-06", freq="h", tz="UTC", inclusive="left")
    store.upsert_series("weather.temperature", pd.Series(100.0, index=hours))  # measured: must not leak
    rows = []
    for d, issued in enumerate(pd.date_range("2025-01-01T06:00Z", periods=4, freq="D")):
        for t in pd.date_range(issued.floor("D"), periods=72, freq="h"):
            rows.append({"issued_at": issued, "ts": t, "value": float(d)})  # value = issue number
    store.write_forecasts("forecast.weather.temperature", pd.DataFrame(rows))
    target = pd.date_range("2025-01-03", periods=24, freq="h", tz="UTC")
    vals, cov = fc.weather_forecast(store, "temperature", target)
    # decision time for Jan 3 is Jan 2 06:00: the Jan 2 06:00 issue (number 1), not Jan 3's (number 2)
    assert np.allclose(vals, 1.0) and cov == 1.0
    # the first day has no issue made by its decision time: left empty, not filled with measurements
    first = pd.date_range("2025-01-01", periods=24, freq="h", tz="UTC")
    vals, cov = fc.weather_forecast(store, "temperature", first)
    assert cov == 0.0 and np.isnan(vals).all()
    # predicting at a time: past hours may take the measurement, future ones only a forecast issued by then
    now = pd.Timestamp("2025-01-05T12:00Z")
    window = pd.date_range("2025-01-05T10:00Z", periods=48, freq="h")
    vals, _ = fc.weather_forecast(store, "temperature", window, issued_before=now)
    known = window < now
    assert np.allclose(vals[window < pd.Timestamp("2025-01-06T00:00Z")], 3.0)
    assert np.isnan(vals[(~known) & (window >= pd.Timestamp("2025-01-07T00:00Z"))]).all()
    store.close()


def test_decision_time_is_six_local_the_day_before(monkeypatch):
    monkeypatch.setenv("HEA_TIMEZONE", "Europe/Stockholm")
    t = pd.DatetimeIndex([pd.Timestamp("2025-06-10T21:30Z")])  # 23:30 local on June 10
    assert fc.decision_times(t)[0] == pd.Timestamp("2025-06-09T04:00Z")  # 06:00 CEST June 9
