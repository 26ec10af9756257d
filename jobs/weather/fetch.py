"""weather_data: fetch hourly weather actuals and the weather forecast issues.

    .venv/bin/python -m jobs.weather.fetch [--backfill-days N]

Actuals: `weather.temperature` degC, `weather.cloud_cover` %, `weather.irradiance` W/m2 (GHI mean over
the hour), `weather.wind_speed` m/s, up to the last complete hour. Forecasts: `forecast.weather.<var>`,
one issue per day (simulator: 06:00 UTC, 168 h ahead; Open-Meteo: the current forecast, plus archived
forecasts cut into daily issues on a backfill), so models train on forecasts, not on actuals.

Environment: HEA_WEATHER_SOURCE (simulator | open-meteo), HEA_LATITUDE (59.3), HEA_LONGITUDE (18.1),
HEA_WEATHER_ISSUE_HOURS (6: with Open-Meteo, the least time between two stored forecast issues),
HEA_BACKFILL_DAYS (365), HEA_SIM_SEED, HEA_NOW, HEA_STORE_URL.
Result: {rows_written, series, first, last, source, forecast_issues_written, forecast_rows_written}.
"""

from __future__ import annotations

import pandas as pd

from jobs.common.protocol import parser, progress, run_main
from jobs.common.settings import env_float
from jobs.common.store import Store
from jobs.common.timeutil import iso, now
from jobs.simulator import WEATHER_VARS
from jobs.sources import fetch_weather, fetch_weather_forecasts, weather_source
from jobs.sources.fetching import add_common_flags, backfill_days, run_fetch

SERIES = [f"weather.{v}" for v in WEATHER_VARS]
FORECASTS = [f"forecast.weather.{v}" for v in WEATHER_VARS]
ISSUE_CHUNK = pd.Timedelta(days=30)


def build_parser():
    p = parser("Fetch weather actuals and forecasts into the store.")
    add_common_flags(p)
    return p


def store_forecasts(store: Store, days: int) -> tuple[int, int]:
    """Issues made after the last stored one (every variable), up to now. Returns (issues, rows)."""
    until = now()
    last = [store.forecast_issues(name)[-1:] for name in FORECASTS]
    backfill = any(not x for x in last)
    if not backfill and weather_source() != "simulator":
        # Open-Meteo issues "now" on every call: keep one issue per HEA_WEATHER_ISSUE_HOURS, not one per run
        every = pd.Timedelta(hours=env_float("HEA_WEATHER_ISSUE_HOURS", 6.0))
        if until - min(x[0] for x in last) < every:
            return 0, 0
    first = (
        (until - pd.Timedelta(days=days)).floor("D") if backfill else min(x[0] for x in last) + pd.Timedelta(seconds=1)
    )
    issues = rows = 0
    if weather_source() != "simulator":
        chunks = [(first, until)]  # one archive request plus today's forecast
    else:
        chunks, cur = [], first
        while cur < until:
            chunks.append((cur, min(cur + ISSUE_CHUNK, until)))
            cur += ISSUE_CHUNK
    for i, (lo, hi) in enumerate(chunks):
        frame = fetch_weather_forecasts(lo, hi, backfill)
        for var, part in frame.groupby("var"):
            rows += store.write_forecasts(
                f"forecast.weather.{var}", part[["issued_at", "ts", "value"]], model=weather_source()
            )
        issues += frame["issued_at"].nunique() if len(frame) else 0
        progress(60 + 38 * (i + 1) / len(chunks), "forecasts", f"issues through {iso(hi)}: {issues}")
    return int(issues), int(rows)


def main(args) -> dict:
    days = backfill_days(args)
    # actuals fill 0-60%, forecast issues 60-98%
    res = run_fetch(
        series=SERIES, source=weather_source(), fetch=fetch_weather, end=now().floor("h"), days=days, span=(2.0, 60.0)
    )
    with Store.open() as store:
        issues, rows = store_forecasts(store, days)
    res["forecast_issues_written"] = issues
    res["forecast_rows_written"] = rows
    res["forecast_series"] = FORECASTS
    return res


if __name__ == "__main__":
    run_main(main, build_parser())
