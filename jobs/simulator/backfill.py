"""Fill a store with simulated history in-process (tests, benchmarks, a quick demo).

    from jobs.simulator.backfill import backfill_store
    rows = backfill_store(store, start, end)    # every series the fetch jobs write, plus forecast issues

Writes exactly what the fetch jobs would with HEA_*_SOURCE=simulator (same names, same values), without
starting seven processes: price.spot through `end` (callers decide about tomorrow), weather actuals,
forecast.weather.* issues made in [start, end), home.*, solar.production, commodity.*.
"""

from __future__ import annotations

from jobs.common.timeutil import to_utc
from jobs.simulator.core import WEATHER_VARS, Simulator


def backfill_store(store, start, end, sim: Simulator | None = None, forecasts: bool = True) -> dict[str, int]:
    sim = sim or Simulator.from_env()
    start, end = to_utc(start), to_utc(end)
    rows: dict[str, int] = {}
    rows["price.spot"] = store.upsert_series("price.spot", sim.prices(start, end))
    weather = sim.weather(start, end)
    for var in WEATHER_VARS:
        rows[f"weather.{var}"] = store.upsert_series(f"weather.{var}", weather[var])
    home = sim.home(start, end)
    for col, name in (("consumption", "home.consumption"), ("heat_pump", "home.heat_pump"),
                      ("indoor_temperature", "home.indoor_temperature")):
        rows[name] = store.upsert_series(name, home[col])
    rows["solar.production"] = store.upsert_series("solar.production", sim.solar(start, end))
    com = sim.commodities(start, end)
    for col in ("gas", "coal", "co2"):
        rows[f"commodity.{col}"] = store.upsert_series(f"commodity.{col}", com[col])
    if forecasts:
        frame = sim.weather_forecasts(start, end)
        for var, part in frame.groupby("var"):
            rows[f"forecast.weather.{var}"] = store.write_forecasts(
                f"forecast.weather.{var}", part[["issued_at", "ts", "value"]], model="simulator")
    return rows
