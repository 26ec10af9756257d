"""Nordic spot prices from elprisetjustnu.se (SE1-SE4), keyless.

GET https://www.elprisetjustnu.se/api/v1/prices/{YYYY}/{MM}-{DD}_{ZONE}.json -> a JSON array of
{SEK_per_kWh, EUR_per_kWh, EXR, time_start, time_end}, times in Swedish local time with an offset; one day
per file, hourly before 2025-10-01 and 15-minute after (92/96/100 rows on daylight-saving days). Prices
exclude VAT and grid fees. Tomorrow's file answers 404 until it is published (early afternoon): "not yet".
"""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd

from jobs.common.protocol import ConfigError, DataError, log
from jobs.common.timeutil import local_date, local_day_bounds, now, to_utc
from jobs.sources import http
from jobs.sources.base import empty_series

BASE_URL = "https://www.elprisetjustnu.se/api/v1/prices"
ZONES = ("SE1", "SE2", "SE3", "SE4")
TZ = "Europe/Stockholm"


def day_url(day: date, zone: str) -> str:
    return f"{BASE_URL}/{day.year:04d}/{day.month:02d}-{day.day:02d}_{zone}.json"


def parse_day(payload, day: date) -> pd.Series:
    """One day's file as EUR/MWh on UTC interval starts; checks it covers the local day exactly."""
    if not isinstance(payload, list) or not payload:
        raise DataError(f"elprisetjustnu {day}: expected a non-empty JSON array, got {type(payload).__name__}")
    try:
        starts = pd.to_datetime([row["time_start"] for row in payload], utc=True, format="ISO8601")
        eur = np.array([float(row["EUR_per_kWh"]) for row in payload], dtype=float)
    except (KeyError, TypeError, ValueError) as err:
        raise DataError(f"elprisetjustnu {day}: malformed row ({err})") from err
    lo, hi = local_day_bounds(day, TZ)
    hours = (hi - lo) / pd.Timedelta(hours=1)
    if len(payload) not in (hours, hours * 4):
        raise DataError(f"elprisetjustnu {day}: {len(payload)} rows for a {hours:g}-hour day")
    if starts.min() < lo or starts.max() >= hi or starts.has_duplicates:
        raise DataError(f"elprisetjustnu {day}: interval starts outside the local day or repeated")
    s = pd.Series(eur * 1000.0, index=starts, name="price.spot").sort_index()  # EUR/kWh -> EUR/MWh
    s.index.name = "ts"
    return s


def fetch_day(day: date, zone: str) -> pd.Series | None:
    """A day's prices, or None when the file is not published (404)."""
    zone = zone.upper()
    if zone not in ZONES:
        raise ConfigError(f"elprisetjustnu serves {', '.join(ZONES)}, not {zone}: use HEA_PRICE_SOURCE=energy-charts")
    payload = http.get_json(day_url(day, zone), allow_404=True, what=f"elprisetjustnu {zone} {day}")
    return None if payload is None else parse_day(payload, day)


def fetch_prices(start, end, zone: str) -> pd.Series:
    """Prices for the local days overlapping [start, end), trimmed to it.

    A 404 for today or later means "not published yet" and ends the fetch; a 404 for a past day (a hole
    in the archive) is logged and skipped, so it cannot block the days after it.
    """
    first, last = local_date(to_utc(start), TZ), local_date(to_utc(end) - pd.Timedelta(seconds=1), TZ)
    today = local_date(now(), TZ)
    parts, day = [], first
    while day <= last:
        s = fetch_day(day, zone)
        if s is None:
            if day >= today:
                break
            log(f"elprisetjustnu: no prices for {zone} on {day} (404); skipped")
        else:
            parts.append(s)
        day += timedelta(days=1)
    if not parts:
        return empty_series("price.spot")
    out = pd.concat(parts)
    return out[(out.index >= to_utc(start)) & (out.index < to_utc(end))]
