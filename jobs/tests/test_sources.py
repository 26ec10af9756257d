"""Source adapters against recorded responses (no network): formats, units, daylight-saving days, errors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import requests

from jobs import sources
from jobs.common.protocol import ConfigError, DataError, NoInputError, TransientError
from jobs.sources import csv_import, elprisetjustnu, energy_charts, forecast_solar, fred, instrat, open_meteo
from jobs.tests.conftest import FakeResponse, fixture_json, fixture_path

# ------------------------------------------------------------------ elprisetjustnu


def test_elpris_hourly_day_in_eur_per_mwh():
    s = elprisetjustnu.parse_day(fixture_json("elprisetjustnu_2025-01-15_SE3.json"), pd.Timestamp("2025-01-15").date())
    assert len(s) == 24
    assert s.index[0] == pd.Timestamp("2025-01-14T23:00Z")  # local midnight in winter (+01:00)
    assert s.iloc[0] == pytest.approx(0.03 * 1000)


@pytest.mark.parametrize(
    "day,n,first_utc",
    [
        ("2025-03-30", 23, "2025-03-29T23:00Z"),
        ("2025-10-26", 100, "2025-10-25T22:00Z"),
        ("2026-03-29", 92, "2026-03-28T23:00Z"),
    ],
)
def test_elpris_daylight_saving_days(day, n, first_utc):
    s = elprisetjustnu.parse_day(fixture_json(f"elprisetjustnu_{day}_SE3.json"), pd.Timestamp(day).date())
    assert len(s) == n and s.index.is_unique and s.index.is_monotonic_increasing
    assert s.index[0] == pd.Timestamp(first_utc)
    step = "15min" if n > 25 else "1h"
    assert (np.diff(s.index.asi8) == pd.Timedelta(step).value // 1000).all()  # no hole, no repeat in UTC


def test_elpris_negative_price_kept():
    s = elprisetjustnu.parse_day(fixture_json("elprisetjustnu_2025-10-26_SE3.json"), pd.Timestamp("2025-10-26").date())
    assert s.min() == pytest.approx(-1.23)


def test_elpris_rejects_wrong_row_count_and_bad_rows():
    rows = fixture_json("elprisetjustnu_2025-01-15_SE3.json")
    with pytest.raises(DataError, match="23 rows"):
        elprisetjustnu.parse_day(rows[:23], pd.Timestamp("2025-01-15").date())
    with pytest.raises(DataError, match="malformed"):
        elprisetjustnu.parse_day([{"time_start": "x"}] * 24, pd.Timestamp("2025-01-15").date())
    with pytest.raises(DataError):
        elprisetjustnu.parse_day({"error": "x"}, pd.Timestamp("2025-01-15").date())
    with pytest.raises(DataError, match="outside"):
        elprisetjustnu.parse_day(rows, pd.Timestamp("2025-01-16").date())


def test_elpris_tomorrow_404_means_not_yet(fake_http, monkeypatch):
    monkeypatch.setenv("HEA_NOW", "2025-01-15T10:00Z")
    fake_http.add_fixture("/2025/01-15_SE3.json", "elprisetjustnu_2025-01-15_SE3.json")
    s = elprisetjustnu.fetch_prices("2025-01-14T23:00Z", "2025-01-17T23:00Z", "SE3")  # today and later
    assert len(s) == 24
    assert [c[0].rsplit("/", 1)[1] for c in fake_http.calls] == ["01-15_SE3.json", "01-16_SE3.json"]


def test_elpris_past_404_is_skipped_not_fatal(fake_http, monkeypatch, capsys):
    monkeypatch.setenv("HEA_NOW", "2025-01-16T10:00Z")
    fake_http.add_fixture("/2025/01-15_SE3.json", "elprisetjustnu_2025-01-15_SE3.json")
    s = elprisetjustnu.fetch_prices("2025-01-13T23:00Z", "2025-01-17T23:00Z", "SE3")
    assert len(s) == 24
    assert [c[0].rsplit("/", 1)[1] for c in fake_http.calls] == ["01-14_SE3.json", "01-15_SE3.json", "01-16_SE3.json"]
    assert "01-14 (404); skipped" in capsys.readouterr().out


def test_elpris_errors(fake_http):
    fake_http.add("01-15_SE3", FakeResponse(503, "busy"))
    with pytest.raises(TransientError, match="503"):
        elprisetjustnu.fetch_day(pd.Timestamp("2025-01-15").date(), "SE3")
    fake_http.add("01-15_SE3", requests.Timeout("read timed out"))
    with pytest.raises(TransientError, match="timed out"):
        elprisetjustnu.fetch_day(pd.Timestamp("2025-01-15").date(), "SE3")
    fake_http.add("01-15_SE3", requests.ConnectionError("refused"))
    with pytest.raises(TransientError):
        elprisetjustnu.fetch_day(pd.Timestamp("2025-01-15").date(), "SE3")
    fake_http.add("01-15_SE3", FakeResponse(200, "<html>maintenance</html>", "text/html"))
    with pytest.raises(DataError, match="not JSON"):
        elprisetjustnu.fetch_day(pd.Timestamp("2025-01-15").date(), "SE3")
    fake_http.add("01-15_SE3", FakeResponse(400, "bad"))
    with pytest.raises(ConfigError):
        elprisetjustnu.fetch_day(pd.Timestamp("2025-01-15").date(), "SE3")
    with pytest.raises(ConfigError, match="energy-charts"):
        elprisetjustnu.fetch_day(pd.Timestamp("2025-01-15").date(), "DE-LU")


# ------------------------------------------------------------------ energy-charts


def test_energy_charts_nulls_unit_and_trim(fake_http):
    fake_http.add_fixture("api.energy-charts.info/price", "energy_charts_price_SE3.json")
    s = energy_charts.fetch_prices("2025-10-24T22:00Z", "2025-10-26T23:00Z", "SE3")
    assert len(s) == 96 + 100 - 2  # a 24-hour and the 25-hour local day, two nulls skipped
    assert s.index.min() == pd.Timestamp("2025-10-24T22:00Z") and s.index.max() == pd.Timestamp("2025-10-26T22:45Z")
    assert pd.Timestamp("2025-10-24T23:15Z") not in s.index
    assert fake_http.calls[0][1]["bzn"] == "SE3"


def test_energy_charts_unit_is_checked():
    payload = fixture_json("energy_charts_price_SE3.json")
    payload["unit"] = "EUR / kWh"
    assert energy_charts.parse(payload).iloc[0] == pytest.approx(
        fixture_json("energy_charts_price_SE3.json")["price"][0] * 1000
    )
    payload["unit"] = "SEK / MWh"
    with pytest.raises(DataError, match="unit"):
        energy_charts.parse(payload)
    with pytest.raises(DataError):
        energy_charts.parse({"unix_seconds": [1, 2], "price": [1.0]})


# ------------------------------------------------------------------ open-meteo


def test_open_meteo_parse_unixtime_and_radiation_shift():
    payload = fixture_json("open_meteo_hourly.json")
    f = open_meteo.parse(payload)
    assert list(f.columns) == ["temperature", "cloud_cover", "irradiance", "wind_speed"]
    assert str(f.index.tz) == "UTC" and len(f) == 72
    # radiation at API time T is the mean of [T-1h, T): it belongs to the interval starting T-1h
    t = pd.Timestamp("2025-03-30T09:00Z")
    i = payload["hourly"]["time"].index(int((t + pd.Timedelta(hours=1)).timestamp()))
    assert f.loc[t, "irradiance"] == payload["hourly"]["shortwave_radiation"][i]
    assert np.isnan(f["temperature"].iloc[10])
    assert np.isnan(f["irradiance"].iloc[-1])


def test_open_meteo_rejects_string_times_and_errors():
    payload = fixture_json("open_meteo_hourly.json")
    payload["hourly"]["time"] = ["2025-03-30T02:00"] * len(payload["hourly"]["time"])
    with pytest.raises(DataError, match="unixtime"):
        open_meteo.parse(payload)
    with pytest.raises(DataError, match="Latitude must be"):
        open_meteo.parse({"error": True, "reason": "Latitude must be in range of -90 to 90°."})


def test_open_meteo_archive_for_old_days_forecast_for_recent(fake_http, monkeypatch):
    monkeypatch.setenv("HEA_NOW", "2025-03-31T12:00Z")
    fake_http.add_fixture("archive-api.open-meteo.com", "open_meteo_hourly.json")
    fake_http.add_fixture("api.open-meteo.com/v1/forecast", "open_meteo_hourly.json")
    f = open_meteo.fetch_weather("2025-03-20T00:00Z", "2025-03-31T12:00Z", 59.3, 18.1)
    urls = [c[0] for c in fake_http.calls]
    assert any("archive-api" in u for u in urls) and any(u.startswith("https://api.open-meteo.com") for u in urls)
    params = fake_http.calls[0][1]
    assert params["timeformat"] == "unixtime" and params["wind_speed_unit"] == "ms"
    assert f.index.is_unique and f.index.max() < pd.Timestamp("2025-03-31T12:00Z")


def test_open_meteo_historical_forecasts_become_daily_issues(fake_http):
    fake_http.add_fixture("historical-forecast-api", "open_meteo_hourly.json")
    f = open_meteo.fetch_historical_forecasts("2025-03-29T06:00Z", "2025-03-31T06:00Z", 59.3, 18.1)
    assert set(f["var"]) == {"temperature", "cloud_cover", "irradiance", "wind_speed"}
    assert sorted(f["issued_at"].unique()) == [pd.Timestamp("2025-03-29T06:00Z"), pd.Timestamp("2025-03-30T06:00Z")]
    lead = (f["ts"] - f["issued_at"]) / pd.Timedelta(hours=1)
    assert lead.min() == 0 and lead.max() == 23


# ------------------------------------------------------------------ forecast.solar, Instrat, FRED


def test_forecast_solar_local_keys_to_utc_hours():
    payload = fixture_json("forecast_solar_estimate.json")
    s = forecast_solar.parse(payload)
    day = s[s.index.tz_convert("Europe/Stockholm").date == pd.Timestamp("2025-06-21").date()]
    assert day.sum() == pytest.approx(payload["result"]["watt_hours_day"]["2025-06-21"] / 1000)
    # the period ending 04:00 local (+02:00) belongs to the hour starting 01:00 UTC
    assert s.index[0] == pd.Timestamp("2025-06-21T01:00Z")
    with pytest.raises(DataError):
        forecast_solar.parse({"message": {"code": 429}})


def test_forecast_solar_url(fake_http):
    fake_http.add_fixture("api.forecast.solar/estimate/59.3000/18.1000/35/0/6", "forecast_solar_estimate.json")
    assert len(forecast_solar.fetch_estimate(59.3, 18.1, 35, 0, 6)) > 0


def test_instrat_co2(fake_http):
    fake_http.add_fixture("energy-api.instrat.pl/api/prices/co2", "instrat_co2.json")
    s = instrat.fetch_co2("2025-01-10", "2025-02-01")
    assert s.index.min() >= pd.Timestamp("2025-01-10T00:00Z") and s.index.max() < pd.Timestamp("2025-02-01T00:00Z")
    assert (s.index == s.index.normalize()).all() and 60 < s.mean() < 80
    with pytest.raises(DataError):
        instrat.parse([{"day": "2025-01-01"}])


def test_fred_both_headers_missing_values_and_gas_conversion(fake_http):
    new = fred.parse_csv(fixture_path("fred_PNGASEUUSDM.csv").read_text(), "PNGASEUUSDM")
    old = fred.parse_csv(fixture_path("fred_PCOALAUUSDM.csv").read_text(), "PCOALAUUSDM")  # DATE header
    assert len(new) == 17 and len(old) == 18  # one "." month dropped
    with pytest.raises(DataError, match="observation_date"):
        fred.parse_csv("when,value\n2024-01-01,1\n", "PNGASEUUSDM")
    for sid in ("PNGASEUUSDM", "PCOALAUUSDM", "EXUSEU"):
        fake_http.add_fixture(f"id={sid}", f"fred_{sid}.csv")
    out = fred.fetch_gas_coal("2025-01-15", "2025-07-01")
    gas, coal = out["commodity.gas"], out["commodity.coal"]
    assert gas.index[0] == pd.Timestamp("2025-01-01T00:00Z")  # the month containing the start is kept
    usd_mmbtu = new.loc["2025-01-01T00:00Z"]
    assert gas.iloc[0] == pytest.approx(
        usd_mmbtu / fred.MWH_PER_MMBTU / 1.08 / (1 + 0.01 * np.sin(12) / 1.08), rel=0.02
    )
    assert coal.index[-1] == pd.Timestamp("2025-06-01T00:00Z")


# ------------------------------------------------------------------ CSV / JSON / HTTP imports

COLS = {"consumption": ("home.consumption", "sum")}


def test_csv_local_15min_across_autumn_dst(monkeypatch):
    monkeypatch.setenv("HEA_CSV_TIMEZONE", "Europe/Stockholm")
    out = csv_import.import_series(
        str(fixture_path("consumption_local_15min.csv")), "HEA_CONSUMPTION_CSV", COLS, "consumption"
    )
    s = out["home.consumption"]
    day = s[(s.index >= pd.Timestamp("2025-10-25T22:00Z")) & (s.index < pd.Timestamp("2025-10-26T23:00Z"))]
    assert len(day) == 25  # the 25-hour day
    assert day.iloc[0] == pytest.approx(0.3 + 3 * 0.25)  # four quarter-hours summed
    assert s.index.is_unique


def test_csv_naive_utc_default_and_errors(tmp_path, monkeypatch):
    monkeypatch.delenv("HEA_CSV_TIMEZONE", raising=False)
    p = tmp_path / "c.csv"
    p.write_text("ts,value\n2025-01-01 00:00,1.5\n2025-01-01 01:00,2\n")
    s = csv_import.import_series(str(p), "X", COLS, "consumption")["home.consumption"]
    assert s.index[0] == pd.Timestamp("2025-01-01T00:00Z") and s.tolist() == [1.5, 2.0]
    p.write_text("when,value\n2025-01-01,1\n")
    with pytest.raises(DataError, match="timestamp column"):
        csv_import.import_series(str(p), "X", COLS, "consumption")
    p.write_text("timestamp,value\n2025-01-01T00:00Z,1\n2025-01-02T00:00Z,1\n2025-01-03T00:00Z,1\n")
    with pytest.raises(DataError, match="hourly or finer"):
        csv_import.import_series(str(p), "X", COLS, "consumption")
    with pytest.raises(NoInputError):
        csv_import.import_series(str(tmp_path / "missing.csv"), "X", COLS, "consumption")
    with pytest.raises(ConfigError, match="HEA_CONSUMPTION_CSV"):
        csv_import.import_series("", "HEA_CONSUMPTION_CSV", COLS, "consumption")


def test_json_heat_pump_import():
    cols = {"heat_pump": ("home.heat_pump", "sum"), "indoor_temperature": ("home.indoor_temperature", "mean")}
    out = csv_import.import_series(
        str(fixture_path("heat_pump.json")), "X", cols, "heat_pump", start="2025-01-15T12:00Z"
    )
    assert len(out["home.heat_pump"]) == 36 and len(out["home.indoor_temperature"]) == 36


def test_http_import_from_a_local_server(fixture_server, monkeypatch):
    monkeypatch.setenv("HEA_HEAT_PUMP_SOURCE", "http")
    monkeypatch.setenv("HEA_HEAT_PUMP_URL", f"{fixture_server}/heat_pump.json")
    out = sources.fetch_heat_pump(pd.Timestamp("2025-01-15T00:00Z"), pd.Timestamp("2025-01-16T00:00Z"))
    assert len(out["home.heat_pump"]) == 24
    monkeypatch.setenv("HEA_HEAT_PUMP_URL", f"{fixture_server}/missing.csv")
    with pytest.raises(ConfigError, match="404"):
        sources.fetch_heat_pump(pd.Timestamp("2025-01-15T00:00Z"), pd.Timestamp("2025-01-16T00:00Z"))


# ------------------------------------------------------------------ selection


def test_source_selection_by_env(monkeypatch):
    monkeypatch.setenv("HEA_PRICE_SOURCE", "nordpool")
    with pytest.raises(ConfigError, match="HEA_PRICE_SOURCE"):
        sources.price_source()
    monkeypatch.setenv("HEA_SOLAR_SOURCE", "forecast-solar")
    with pytest.raises(ConfigError, match="estimates"):
        sources.solar_source()
    monkeypatch.delenv("HEA_PRICE_SOURCE")
    assert sources.price_source() == "simulator"


@pytest.mark.parametrize(
    "now,end",
    [
        ("2025-01-15T11:00Z", "2025-01-15T23:00Z"),  # 12:00 local: today only
        ("2025-01-15T12:00Z", "2025-01-16T23:00Z"),  # 13:00 local: tomorrow published
        ("2025-10-25T12:00Z", "2025-10-26T23:00Z"),
    ],  # tomorrow has 25 hours, ends 00:00+01:00
)
def test_prices_horizon(now, end):
    assert sources.prices_horizon(pd.Timestamp(now)) == pd.Timestamp(end)
