"""Fill a store with simulated history in-process (tests, benchmarks, a quick demo).

    from jobs.simulator.backfill import backfill_store
    rows = backfill_store(store, start, end)    # every series the fetch jobs write, plus forecast issues

Writes exactly what the fetch jobs would with HEA_*_SOURCE=simulator (same names, same values), without
starting seven processes: price.spot through `end` (callers decide about tomorrow), weather actuals,
forecast.weather.* issues made in [start, end), home.*, solar.production, commodity.*.
Every series is written as source `simulator`, so a series holding real data is refused (ConfigError)
before anything is written, as the fetch jobs refuse it.
"""

from __future__ import annotations

from jobs.common.store import SIMULATOR
from jobs.common.timeutil import to_utc
from jobs.simulator.core import WEATHER_VARS, Simulator


def backfill_store(store, start, end, sim: Simulator | None = None, forecasts: bool = True) -> dict[str, int]:
    sim = sim or Simulator.from_env()
    start, end = to_utc(start), to_utc(end)
    rows: dict[str, int] = {}
    names = [
        "price.spot",
        *[f"weather.{v}" for v in WEATHER_VARS],
        "home.consumption",
        "home.heat_pump",
        "home.indoor_temperature",
        "solar.production",
        "commodity.gas",
        "commodity.coal",
        "commodity.co2",
    ]
    for name in names:
        store.check_source(name, SIMULATOR)

    def upsert(name, values):
        return store.upsert_series(name, values, source=SIMULATOR)

    rows["price.spot"] = upsert("price.spot", sim.prices(start, end))
    weather = sim.weather(start, end)
    for var in WEATHER_VARS:
        rows[f"weather.{var}"] = upsert(f"weather.{var}", weather[var])
    home = sim.home(start, end)
    for col, name in (
        ("consumption", "home.consumption"),
        ("heat_pump", "home.heat_pump"),
        ("indoor_temperature", "home.indoor_temperature"),
    ):
        rows[name] = upsert(name, home[col])
    rows["solar.production"] = upsert("solar.production", sim.solar(start, end))
    com = sim.commodities(start, end)
    for col in ("gas", "coal", "co2"):
        rows[f"commodity.{col}"] = upsert(f"commodity.{col}", com[col])
    if forecasts:
        frame = sim.weather_forecasts(start, end)
        for var, part in frame.groupby("var"):
            rows[f"forecast.weather.{var}"] = store.write_forecasts(
                f"forecast.weather.{var}", part[["issued_at", "ts", "value"]], model="simulator"
            )
    return rows
