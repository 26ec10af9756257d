"""Data sources for the fetch jobs, chosen by environment variables (all default to the simulator).

| variable | values | feeds |
| HEA_PRICE_SOURCE | simulator, elprisetjustnu (SE1-SE4), energy-charts (any zone), csv, http | price.spot |
| HEA_WEATHER_SOURCE | simulator, open-meteo | weather.*, forecast.weather.* |
| HEA_CONSUMPTION_SOURCE | simulator, csv, http | home.consumption |
| HEA_HEAT_PUMP_SOURCE | simulator, csv, http | home.heat_pump, home.indoor_temperature |
| HEA_SOLAR_SOURCE | simulator, csv, http | solar.production |
| HEA_SOLAR_FORECAST_SOURCE | simulator, forecast-solar | (for the solar predict job) |
| HEA_CO2_SOURCE | simulator, instrat | commodity.co2 |
| HEA_COMMODITY_SOURCE | simulator, fred (monthly) | commodity.gas, commodity.coal |

csv reads HEA_<KIND>_CSV (a path, .csv.gz too), http reads HEA_<KIND>_URL (CSV or JSON), HEA_<KIND>_UNIT
states the value column's unit when its name does not (see jobs/sources/csv_import.py). A series remembers
its source: the simulator never writes into real data and real data is not mixed into simulated data
(ConfigError, exit 78) unless HEA_FORCE_SOURCE=1 (jobs/common/store.py, Store.check_source).
Each fetch function takes [start, end) as UTC timestamps and returns {series name: pd.Series}.
"""

from __future__ import annotations

import pandas as pd

from jobs.common import settings
from jobs.common.protocol import ConfigError
from jobs.common.timeutil import local_date, local_day_bounds, local_tz, now, to_utc
from jobs.simulator import WEATHER_VARS, Simulator

PRICE_SOURCES = ("simulator", "elprisetjustnu", "energy-charts", "csv", "http")
WEATHER_SOURCES = ("simulator", "open-meteo")
IMPORT_SOURCES = ("simulator", "csv", "http")
CO2_SOURCES = ("simulator", "instrat")
COMMODITY_SOURCES = ("simulator", "fred")
PRICE_PUBLISH_HOUR_LOCAL = 13  # Nord Pool publishes the next day's prices around 12:45 CET


def price_source() -> str:
    return settings.env_choice("HEA_PRICE_SOURCE", "simulator", PRICE_SOURCES)


def prices_horizon(at: pd.Timestamp | None = None) -> pd.Timestamp:
    """The end of the last local day whose prices may be known at `at`: tomorrow after 13:00 local."""
    at = to_utc(at) if at is not None else now()
    today = local_date(at)
    local_hour = at.tz_convert(local_tz()).hour
    _, end_today = local_day_bounds(today)
    if local_hour >= PRICE_PUBLISH_HOUR_LOCAL:
        return local_day_bounds(local_date(end_today + pd.Timedelta(hours=1)))[1]
    return end_today


def fetch_prices(start, end) -> dict[str, pd.Series]:
    source, zone = price_source(), settings.price_zone()
    if source == "simulator":
        return {"price.spot": Simulator.from_env().prices(start, end)}
    if source in ("csv", "http"):
        cols = {
            "price_eur_mwh": ("price.spot", None),
            "price_eur_kwh": ("price.spot", None),
            "price": ("price.spot", None),
        }
        return _import("PRICE", cols, "price", start, end)
    if source == "elprisetjustnu":
        from jobs.sources import elprisetjustnu

        return {"price.spot": elprisetjustnu.fetch_prices(start, end, zone)}
    from jobs.sources import energy_charts

    return {"price.spot": energy_charts.fetch_prices(start, end, zone)}


def weather_source() -> str:
    return settings.env_choice("HEA_WEATHER_SOURCE", "simulator", WEATHER_SOURCES)


def fetch_weather(start, end) -> dict[str, pd.Series]:
    if weather_source() == "simulator":
        frame = Simulator.from_env().weather(start, end)
    else:
        from jobs.sources import open_meteo

        frame = open_meteo.fetch_weather(start, end, settings.latitude(), settings.longitude())
    return {f"weather.{var}": frame[var].dropna() for var in WEATHER_VARS}


def fetch_weather_forecasts(first_issue, until, backfill: bool) -> pd.DataFrame:
    """Forecast issues made in [first_issue, until): long frame var, issued_at, ts, value.

    The simulator issues daily at 06:00 UTC. Open-Meteo gives today's forecast as one issue (at the
    current hour) and, when `backfill`, archived forecasts cut into daily issues for the earlier days.
    """
    if weather_source() == "simulator":
        return Simulator.from_env().weather_forecasts(first_issue, until)
    from jobs.sources import open_meteo

    lat, lon = settings.latitude(), settings.longitude()
    parts = []
    issued, current = open_meteo.fetch_forecast(lat, lon)
    if backfill:
        hist_end = min(to_utc(until), issued.floor("D"))
        if to_utc(first_issue) < hist_end:
            parts.append(open_meteo.fetch_historical_forecasts(first_issue, hist_end, lat, lon))
    for var in WEATHER_VARS:
        parts.append(
            pd.DataFrame({"var": var, "issued_at": issued, "ts": current.index, "value": current[var].to_numpy()})
        )
    return pd.concat(parts, ignore_index=True).dropna(subset=["value"])


def _import(kind: str, columns: dict[str, tuple[str, str]], main: str, start, end) -> dict[str, pd.Series]:
    from jobs.sources import csv_import

    source = settings.env_str(f"HEA_{kind}_SOURCE", "simulator").lower()
    env_name = f"HEA_{kind}_CSV" if source == "csv" else f"HEA_{kind}_URL"
    unit = csv_import.normalise_unit(settings.env_str(f"HEA_{kind}_UNIT", ""))
    return csv_import.import_series(settings.env_str(env_name, ""), env_name, columns, main, start, end, unit)


def consumption_source() -> str:
    return settings.env_choice("HEA_CONSUMPTION_SOURCE", "simulator", IMPORT_SOURCES)


def fetch_consumption(start, end) -> dict[str, pd.Series]:
    if consumption_source() == "simulator":
        return {"home.consumption": Simulator.from_env().home(start, end)["consumption"]}
    cols = {"consumption": ("home.consumption", None), "kwh": ("home.consumption", None)}
    return _import("CONSUMPTION", cols, "consumption", start, end)


def heat_pump_source() -> str:
    return settings.env_choice("HEA_HEAT_PUMP_SOURCE", "simulator", IMPORT_SOURCES)


def fetch_heat_pump(start, end) -> dict[str, pd.Series]:
    if heat_pump_source() == "simulator":
        home = Simulator.from_env().home(start, end)
        return {"home.heat_pump": home["heat_pump"], "home.indoor_temperature": home["indoor_temperature"]}
    cols = {"heat_pump": ("home.heat_pump", None), "indoor_temperature": ("home.indoor_temperature", None)}
    return _import("HEAT_PUMP", cols, "heat_pump", start, end)


def solar_source() -> str:
    value = settings.env_str("HEA_SOLAR_SOURCE", "simulator").lower()
    if value == "forecast-solar":
        raise ConfigError(
            "HEA_SOLAR_SOURCE=forecast-solar: forecast.solar gives estimates, not production; "
            "use it as HEA_SOLAR_FORECAST_SOURCE and import actuals with csv or http"
        )
    return settings.env_choice("HEA_SOLAR_SOURCE", "simulator", IMPORT_SOURCES)


def fetch_solar(start, end) -> dict[str, pd.Series]:
    if solar_source() == "simulator":
        return {"solar.production": Simulator.from_env().solar(start, end)}
    cols = {
        "solar": ("solar.production", None),
        "production": ("solar.production", None),
        "pv_kwh": ("solar.production", None),
    }
    return _import("SOLAR", cols, "solar", start, end)


def co2_source() -> str:
    return settings.env_choice("HEA_CO2_SOURCE", "simulator", CO2_SOURCES)


def commodity_source() -> str:
    return settings.env_choice("HEA_COMMODITY_SOURCE", "simulator", COMMODITY_SOURCES)


def fetch_commodities(start, end) -> dict[str, pd.Series]:
    out: dict[str, pd.Series] = {}
    sim_frame = None
    if co2_source() == "simulator" or commodity_source() == "simulator":
        sim_frame = Simulator.from_env().commodities(start, end)
    if co2_source() == "simulator":
        out["commodity.co2"] = sim_frame["co2"]
    else:
        from jobs.sources import instrat

        out["commodity.co2"] = instrat.fetch_co2(start, end)
    if commodity_source() == "simulator":
        out["commodity.gas"] = sim_frame["gas"]
        out["commodity.coal"] = sim_frame["coal"]
    else:
        from jobs.sources import fred

        out.update(fred.fetch_gas_coal(start, end))
    return out
