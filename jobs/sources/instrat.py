"""EU carbon allowance (EUA) prices from Instrat's energy API, keyless, CC-BY-4.0.

GET https://energy-api.instrat.pl/api/prices/co2?all=1 -> [{"date": ..., "price": ...}, ...], EUR/t, one
value per trading day since 2012. Stored as commodity.co2 at 00:00 UTC of the trading day.
"""

from __future__ import annotations

import pandas as pd

from jobs.common.protocol import DataError
from jobs.common.timeutil import to_utc
from jobs.sources import http
from jobs.sources.base import empty_series

URL = "https://energy-api.instrat.pl/api/prices/co2"


def parse(payload) -> pd.Series:
    if not isinstance(payload, list):
        raise DataError(f"instrat co2: expected a JSON array, got {type(payload).__name__}")
    if not payload:
        return empty_series("commodity.co2")
    try:
        dates = pd.to_datetime([row["date"] for row in payload], utc=True, format="ISO8601").floor("D")
        prices = [float(row["price"]) if row["price"] is not None else float("nan") for row in payload]
    except (KeyError, TypeError, ValueError) as err:
        raise DataError(f"instrat co2: malformed row ({err})") from err
    s = pd.Series(prices, index=dates, name="commodity.co2").dropna()
    s = s[~s.index.duplicated(keep="last")].sort_index()
    s.index.name = "ts"
    return s


def fetch_co2(start, end) -> pd.Series:
    s = parse(http.get_json(URL, {"all": 1}, what="instrat co2"))
    return s[(s.index >= to_utc(start).floor("D")) & (s.index < to_utc(end))]
