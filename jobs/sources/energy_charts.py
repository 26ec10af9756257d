"""Day-ahead prices for any European bidding zone from Energy-Charts (Fraunhofer ISE), keyless.

GET https://api.energy-charts.info/price?bzn=DE-LU&start=YYYY-MM-DD&end=YYYY-MM-DD ->
{license_info, unix_seconds: [...], price: [...], unit: "EUR / MWh", deprecated}; UTC interval starts,
15-minute steps in recent data; `price` may hold null (skipped). The unit is checked, not assumed.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from jobs.common.protocol import DataError
from jobs.common.timeutil import from_epoch_seconds, to_utc
from jobs.sources import http
from jobs.sources.base import empty_series

URL = "https://api.energy-charts.info/price"
CHUNK_DAYS = 31


def parse(payload) -> pd.Series:
    if not isinstance(payload, dict) or "unix_seconds" not in payload or "price" not in payload:
        raise DataError("energy-charts: expected an object with unix_seconds and price")
    unit = str(payload.get("unit", "")).replace(" ", "").lower()
    if unit in ("eur/mwh", ""):
        factor = 1.0
    elif unit == "eur/kwh":
        factor = 1000.0
    else:
        raise DataError(f"energy-charts: unexpected unit {payload.get('unit')!r}, expected EUR / MWh")
    secs, prices = payload["unix_seconds"], payload["price"]
    if not isinstance(secs, list) or not isinstance(prices, list) or len(secs) != len(prices):
        raise DataError("energy-charts: unix_seconds and price are not lists of the same length")
    try:
        vals = np.array([np.nan if p is None else float(p) for p in prices], dtype=float) * factor
        idx = from_epoch_seconds(np.array(secs, dtype=np.int64))
    except (TypeError, ValueError) as err:
        raise DataError(f"energy-charts: non-numeric value ({err})") from err
    s = pd.Series(vals, index=idx, name="price.spot").dropna()
    s = s[~s.index.duplicated(keep="last")].sort_index()
    s.index.name = "ts"
    return s


def fetch_prices(start, end, zone: str) -> pd.Series:
    """Prices in [start, end) for bidding zone `zone` (e.g. SE3, DE-LU, NO1, FI), EUR/MWh."""
    s, e = to_utc(start), to_utc(end)
    parts = []
    cur = s
    while cur < e:
        nxt = min(cur + pd.Timedelta(days=CHUNK_DAYS), e)
        # the API's dates are calendar days in its own time zone: ask a day wider, then trim in UTC
        params = {
            "bzn": zone,
            "start": (cur - pd.Timedelta(days=1)).strftime("%Y-%m-%d"),
            "end": (nxt + pd.Timedelta(days=1)).strftime("%Y-%m-%d"),
        }
        parts.append(parse(http.get_json(URL, params, what=f"energy-charts {zone}")))
        cur = nxt
    out = pd.concat(parts) if parts else empty_series("price.spot")
    if len(out):
        out = out[~out.index.duplicated(keep="last")].sort_index()
        out = out[(out.index >= s) & (out.index < e)]
    out.name = "price.spot"
    return out
