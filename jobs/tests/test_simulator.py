"""The simulator: deterministic per hour, fast, and realistic enough for honest baselines."""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
import pytest

from jobs.common.store import Store
from jobs.simulator import Simulator, noise
from jobs.simulator.backfill import backfill_store
from jobs.simulator.meters import METER_TYPES, backfill_meter, known_meter, simulate_meter
from jobs.simulator.solar import sun_position

YEAR = ("2025-01-01T00:00Z", "2026-01-01T00:00Z")


@pytest.fixture(scope="module")
def sim():
    return Simulator(seed=42)


@pytest.fixture(scope="module")
def year(sim):
    s, e = YEAR
    return {"weather": sim.weather(s, e), "prices": sim.prices(s, e), "home": sim.home(s, e), "solar": sim.solar(s, e)}


def test_noise_is_a_pure_function_of_the_key():
    keys = np.arange(1000)
    assert np.array_equal(noise.normal(1, "a", keys)[500:], noise.normal(1, "a", keys[500:]))
    assert not np.allclose(noise.normal(1, "a", keys), noise.normal(2, "a", keys))
    z = noise.normal(7, "z", np.arange(200_000))
    assert abs(z.mean()) < 0.02 and abs(z.std() - 1) < 0.02
    sm = noise.smooth_noise(3, "s", np.arange(0, 24 * 400, 1.0), 24.0)
    assert 0.7 < sm.std() < 1.3
    assert np.abs(np.diff(sm)).max() < 0.5  # smooth: hour-to-hour steps are small


def test_a_window_equals_the_same_hours_of_a_longer_run(sim, year):
    s, e = "2025-03-29T20:00Z", "2025-03-31T04:00Z"  # across the spring daylight-saving change
    pd.testing.assert_frame_equal(sim.weather(s, e), year["weather"].loc[s:"2025-03-31T03:00Z"], check_freq=False)
    pd.testing.assert_series_equal(sim.prices(s, e), year["prices"].loc[s:"2025-03-31T03:00Z"], check_freq=False)
    pd.testing.assert_frame_equal(sim.home(s, e), year["home"].loc[s:"2025-03-31T03:00Z"], check_freq=False)
    pd.testing.assert_series_equal(sim.solar(s, e), year["solar"].loc[s:"2025-03-31T03:00Z"], check_freq=False)


def test_seeds_and_zones_change_the_numbers(sim):
    a = sim.prices("2025-01-01", "2025-01-08")
    assert not np.allclose(a, Simulator(seed=1).prices("2025-01-01", "2025-01-08"))
    se1 = Simulator(seed=42, zone="SE1").prices("2025-01-01", "2025-01-08")
    assert se1.mean() < a.mean()


def test_a_year_of_everything_is_fast(sim):
    t0 = time.perf_counter()
    s, e = "2024-01-01", "2025-01-01"
    sim.weather(s, e), sim.prices(s, e), sim.home(s, e), sim.solar(s, e), sim.commodities(s, e)
    assert time.perf_counter() - t0 < 3.0


def test_weather_is_plausible_for_stockholm(year):
    w = year["weather"]
    monthly = w["temperature"].groupby(w.index.month).mean()
    assert monthly[7] - monthly[1] > 12
    assert -8 < monthly[1] < 4 and 13 < monthly[7] < 22
    assert w["cloud_cover"].between(0, 100).all()
    el, _ = sun_position(w.index + pd.Timedelta(minutes=30), 59.3, 18.1)
    assert (w["irradiance"][el < -1] == 0).all()
    assert w["irradiance"].max() < 1000 and w["irradiance"][w.index.month == 6].mean() > 150
    assert 2 < w["wind_speed"].mean() < 7 and (w["wind_speed"] > 0).all()


def test_sun_position_at_solar_noon_midsummer():
    noon = pd.DatetimeIndex([pd.Timestamp("2025-06-21T10:47Z")])  # 12:00 local solar time at 18.1E
    el, az = sun_position(noon, 59.3, 18.1)
    assert el[0] == pytest.approx(90 - 59.3 + 23.44, abs=0.5)
    assert abs(az[0]) < 3


def test_prices_have_shape_spikes_and_negative_hours(year):
    p = year["prices"]
    assert 20 < p.mean() < 150
    assert 0.005 < (p < 0).mean() < 0.15
    assert p.max() > 3 * p.median()
    local_hour = p.index.tz_convert("Europe/Stockholm").hour
    by_hour = p.groupby(local_hour).mean()
    assert by_hour[18] > by_hour[3] * 1.2
    weekday = p.index.tz_convert("Europe/Stockholm").day_of_week
    assert p[weekday < 5].mean() > p[weekday >= 5].mean()


def test_seasonal_naive_is_honest_but_beatable(year):
    p, h = year["prices"], year["home"]["consumption"]
    lag24 = (p - p.shift(24)).abs().mean()
    assert 0.15 * p.abs().mean() < lag24 < 0.8 * p.abs().mean()
    # yesterday's same hour is a real but imperfect predictor of consumption
    mae = (h - h.shift(24)).abs().mean()
    assert 0.15 * h.mean() < mae < 0.6 * h.mean()


def test_home_load_follows_cold_and_occupancy(year):
    home, w = year["home"], year["weather"]
    assert 7000 < home["consumption"].sum() < 20000
    assert (home["consumption"] >= home["heat_pump"]).all()
    daily_hp = home["heat_pump"].resample("D").sum()
    daily_t = w["temperature"].resample("D").mean()
    assert daily_hp.corr(daily_t) < -0.8
    cop = home["cop"]
    assert cop[w["temperature"] < -5].mean() < cop[w["temperature"] > 10].mean()
    occ = home["occupancy"]
    assert set(occ.unique()) == {0, 1, 2}
    household = home["consumption"] - home["heat_pump"]
    assert household[occ == 1].mean() > 2 * household[occ == 0].mean()
    night = home.index.tz_convert("Europe/Stockholm").hour == 3
    assert (occ[night] != 1).mean() > 0.95


def test_pv_yield_and_night(year, sim):
    pv = year["solar"]
    per_kwp = pv.sum() / sim.kwp
    assert 700 < per_kwp < 1300
    assert pv.max() <= sim.kwp
    local_hour = pv.index.tz_convert("Europe/Stockholm").hour
    assert pv[(local_hour < 2) | (local_hour >= 23)].max() == 0
    assert pv[pv.index.month == 6].sum() > 5 * pv[pv.index.month == 12].sum()


def test_commodities_are_daily_on_weekdays(sim):
    c = sim.commodities("2025-01-01", "2025-02-01")
    assert (c.index.day_of_week < 5).all() and len(c) == 23
    assert (c.index == c.index.normalize()).all()
    assert set(c.columns) == {"gas", "coal", "co2"} and (c > 0).all().all()


def test_weather_forecast_errors_grow_with_lead(sim):
    f = sim.weather_forecasts("2025-01-01", "2025-03-01")
    assert set(f["var"]) == {"temperature", "cloud_cover", "irradiance", "wind_speed"}
    assert (f["issued_at"].dt.hour == 6).all()
    t = f[f["var"] == "temperature"].copy()
    actual = sim.weather(t["ts"].min(), t["ts"].max() + pd.Timedelta(hours=1))["temperature"]
    t["err"] = t["value"].to_numpy() - actual.reindex(t["ts"]).to_numpy()
    lead = (t["ts"] - t["issued_at"]) / pd.Timedelta(hours=1)
    short = t["err"][lead < 24].abs().mean()
    long = t["err"][lead >= 120].abs().mean()
    assert 0.2 < short < 2.0 and long > 1.8 * short
    # one issue is reproducible on its own
    one = sim.weather_forecast("2025-01-10T06:00Z")
    again = f[(f["var"] == "temperature") & (f["issued_at"] == pd.Timestamp("2025-01-10T06:00Z"))]["value"].to_numpy()
    assert np.array_equal(one["temperature"].to_numpy(), again)


def test_meters_rule_and_profiles():
    assert known_meter("electricity", "meter_001")
    assert not known_meter("electricity", "house_1")
    assert not known_meter("steam", "meter_001")
    assert not known_meter("heat", "meter_../x")
    assert not known_meter("heat", "meter_" + "a" * 80)
    s, e = "2025-01-01", "2025-03-01"
    for t in METER_TYPES:
        m = simulate_meter(t, "meter_001", s, e)
        assert len(m) == 59 * 24 and m.name == f"meter.{t}.meter_001" and (m >= 0).all() and m.std() > 0
        pd.testing.assert_series_equal(
            m.loc["2025-02-01T00:00Z":"2025-02-01T23:00Z"],
            simulate_meter(t, "meter_001", "2025-02-01", "2025-02-02"),
            check_freq=False,
        )
    assert not np.allclose(simulate_meter("heat", "meter_001", s, e), simulate_meter("heat", "meter_002", s, e))
    with pytest.raises(ValueError, match="unknown meter"):
        simulate_meter("heat", "boiler", s, e)


def test_meters_that_exercise_validation():
    s, e = "2025-01-01", "2025-03-01"
    assert len(simulate_meter("heat", "meter_short_1", s, e)) == 240
    gappy = simulate_meter("heat", "meter_gappy_1", s, e)
    assert 0.6 * 1416 < len(gappy) < 0.95 * 1416
    out = simulate_meter("electricity", "meter_outlier_1", s, e)
    assert out.max() > 20 * out.median()
    assert simulate_meter("water", "meter_flat_1", s, e).max() == 0


def test_backfill_meter_is_incremental(tmp_path):
    with Store(tmp_path / "e.db") as st:
        assert backfill_meter(st, "gas", "meter_x", days=30, end="2025-02-01T00:00Z") == 720
        assert backfill_meter(st, "gas", "meter_x", days=30, end="2025-02-01T00:00Z") == 0
        assert backfill_meter(st, "gas", "meter_x", days=30, end="2025-02-01T05:00Z") == 5
        assert st.count("meter.gas.meter_x") == 725


def test_backfill_store_writes_every_series(tmp_path):
    with Store(tmp_path / "e.db") as st:
        rows = backfill_store(st, "2025-01-01", "2025-01-08")
        assert rows["price.spot"] == 168 and rows["home.consumption"] == 168
        assert rows["forecast.weather.temperature"] == 7 * 168
        assert set(st.series_status()) >= {
            "price.spot",
            "weather.irradiance",
            "home.heat_pump",
            "solar.production",
            "commodity.gas",
            "commodity.coal",
            "commodity.co2",
            "home.indoor_temperature",
        }
